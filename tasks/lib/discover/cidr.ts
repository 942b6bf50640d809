// IPv4 CIDR blocks: parsing, membership and expansion with a cap, so that a typo (/16 for /24) never turns
// into sixty-five thousand connections.
import { isIPv4 } from 'node:net';

export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
}

/** The most addresses probed without --force: a /22. */
export const MAX_ADDRESSES = 1024;
/** Even with --force: a /16. */
export const MAX_FORCED_ADDRESSES = 65_536;

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
}

/** `192.168.0.0/24`; a bare address is a /32; host bits are cleared (`192.168.0.7/24` is `192.168.0.0/24`). */
export function parseCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; error: string } {
  const m = /^([^/\s]+)(?:\/(\d{1,2}))?$/.exec(text.trim());
  const bad = { ok: false as const, error: `'${text}' is not an IPv4 network such as 192.168.0.0/24` };
  if (!m?.[1] || !isIPv4(m[1])) return bad;
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (prefix > 32) return bad;
  return { ok: true, cidr: { network: (ipToInt(m[1]) & maskOf(prefix)) >>> 0, prefix } };
}

export function inCidr(c: Cidr, ip: string): boolean {
  return isIPv4(ip) && ((ipToInt(ip) & maskOf(c.prefix)) >>> 0) === c.network;
}

/** Whether every address of `inner` lies in `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && ((inner.network & maskOf(outer.prefix)) >>> 0) === outer.network;
}

/** The addresses a host can have: the network and broadcast addresses are left out, except in a /31 or /32. */
export function hostRange(c: Cidr): { first: number; last: number } {
  const size = 2 ** (32 - c.prefix);
  if (c.prefix >= 31) return { first: c.network, last: c.network + size - 1 };
  return { first: c.network + 1, last: c.network + size - 2 };
}

export function hostCount(c: Cidr): number {
  const r = hostRange(c);
  return r.last - r.first + 1;
}

/** Every host address of the block, refused above MAX_ADDRESSES unless forced (and above MAX_FORCED_ADDRESSES always). */
export function expandCidr(c: Cidr, force: boolean): { ok: true; addresses: string[] } | { ok: false; error: string } {
  const count = hostCount(c);
  const cap = force ? MAX_FORCED_ADDRESSES : MAX_ADDRESSES;
  if (count > cap) {
    return {
      ok: false,
      error: force
        ? `${formatCidr(c)} holds ${count} addresses: discover probes at most ${MAX_FORCED_ADDRESSES} (a /16)`
        : `${formatCidr(c)} holds ${count} addresses, more than ${MAX_ADDRESSES} (a /22): give the Pis' own subnet with --cidr, or --force`,
    };
  }
  const { first, last } = hostRange(c);
  const addresses: string[] = [];
  for (let n = first; n <= last; n++) addresses.push(intToIp(n));
  return { ok: true, addresses };
}

/** Sorts dotted addresses numerically. */
export function byAddress(a: string, b: string): number {
  return ipToInt(a) - ipToInt(b);
}
