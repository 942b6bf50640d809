// `ip route get` only asks the kernel's routing table: no packet is sent to the addresses below.
import { describe, expect, it } from 'vitest';
import { isOnLink, offLinkAddresses } from '../../tasks/lib/transport/route-guard.ts';

describe('route guard', () => {
  it('accepts loopback', async () => {
    expect(await isOnLink('127.0.0.1')).toBe(true);
  });
  it('flags an address that would go through a gateway (TEST-NET-3, documentation only)', async () => {
    expect(await offLinkAddresses(['127.0.0.1', '203.0.113.5'])).toEqual(['203.0.113.5']);
  });
});
