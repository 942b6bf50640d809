// --limit, Ansible style, over the example inventory.

import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatProblems, loadInventory, selectHosts } from '../../tasks/lib/inventory/load.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';

let inv: Inventory;
beforeAll(async () => {
  const r = await loadInventory(resolve(import.meta.dirname, '../../inventory/fridge.yaml'));
  if (!r.ok) throw new Error(formatProblems(r.problems));
  inv = r.inventory;
});

describe('selectHosts', () => {
  it.each([
    [undefined, 'worker01,worker02,worker03,worker04,worker05'],
    ['', 'worker01,worker02,worker03,worker04,worker05'],
    ['worker03', 'worker03'],
    ['managers', 'worker01'],
    ['workers', 'worker02,worker03,worker04,worker05'],
    ['worker05,worker02', 'worker02,worker05'],
    ['managers:worker04', 'worker01,worker04'],
    ['all,!worker04', 'worker01,worker02,worker03,worker05'],
    ['!managers', 'worker02,worker03,worker04,worker05'],
    ['workers:!worker02:!worker03', 'worker04,worker05'],
    ['nope', undefined],
    ['worker01,nope', undefined],
    ['worker0*,&managers', 'worker01'],
    ['*5', 'worker05'],
  ])('--limit %j → %s', (limit, expected) => {
    const r = selectHosts(inv, limit);
    if (expected === undefined) {
      expect(r).toHaveProperty('error');
      return;
    }
    if ('error' in r) throw new Error(r.error);
    expect(r.hosts.map((h) => h.name).join(',')).toBe(expected);
  });

  it('names the unknown patterns and the known names', () => {
    expect(selectHosts(inv, 'worker09,managers,nope')).toEqual({
      error: '--limit: no host or group matches "worker09", "nope" (known: managers, workers, all, worker01, worker02, worker03, worker04, worker05)',
    });
  });

  it('refuses a limit that leaves nothing', () => {
    expect(selectHosts(inv, 'managers,!worker01')).toEqual({ error: '--limit "managers,!worker01" leaves no host to work on' });
  });
});
