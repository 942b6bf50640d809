// This machine's own addresses and the subnet of the interface that holds the default route: the LAN that
// discover looks at when no --cidr is given. Parsing `ip -j addr` / `ip -j route` is pure; reading is one call each.
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { formatCidr, parseCidr } from './cidr.ts';

const AddrJson = z.array(
  z.object({
    ifname: z.string(),
    addr_info: z.array(z.object({ family: z.string(), local: z.string().optional(), prefixlen: z.number().optional() })).default([]),
  }),
);
const RouteJson = z.array(z.object({ dst: z.string(), dev: z.string().optional(), gateway: z.string().optional(), metric: z.number().optional() }));

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): { ok: true; value: T } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: `${what}: not JSON` };
  }
  const r = schema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: `${what}: unexpected shape (${r.error.issues[0]?.message ?? '?'})` };
}

export interface InterfaceAddress {
  ifname: string;
  address: string;
  prefix: number;
}

export function parseAddresses(addrText: string): { ok: true; addresses: InterfaceAddress[] } | { ok: false; error: string } {
  const p = parseJson(AddrJson, addrText, '`ip -j addr`');
  if (!p.ok) return p;
  const addresses = p.value.flatMap((i) =>
    i.addr_info.flatMap((a) => (a.family === 'inet' && a.local !== undefined && a.prefixlen !== undefined ? [{ ifname: i.ifname, address: a.local, prefix: a.prefixlen }] : [])),
  );
  return { ok: true, addresses };
}

/** The subnet of the interface holding the default route (the lowest metric when there are several). */
export function defaultCidr(addrText: string, routeText: string): { ok: true; cidr: string; ifname: string; address: string } | { ok: false; error: string } {
  const routes = parseJson(RouteJson, routeText, '`ip -j route`');
  if (!routes.ok) return routes;
  const addrs = parseAddresses(addrText);
  if (!addrs.ok) return addrs;
  const defaults = routes.value.filter((r) => r.dst === 'default' && r.dev !== undefined).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  const route = defaults[0];
  if (!route?.dev) return { ok: false, error: 'no default route: give the Pis\' subnet with --cidr' };
  const own = addrs.addresses.find((a) => a.ifname === route.dev);
  if (!own) return { ok: false, error: `the default route's interface ${route.dev} has no IPv4 address: give the Pis' subnet with --cidr` };
  const c = parseCidr(`${own.address}/${own.prefix}`);
  if (!c.ok) return { ok: false, error: `${route.dev}: ${c.error}` };
  return { ok: true, cidr: formatCidr(c.cidr), ifname: route.dev, address: own.address };
}

function run(args: string[]): Promise<string | undefined> {
  return new Promise((r) => execFile('ip', args, { encoding: 'utf8', timeout: 5_000 }, (err, out) => r(err ? undefined : out)));
}

/** This machine's `ip -j addr` and `ip -j route` (reads, no packet sent); undefined where ip is missing. */
export async function readInterfaces(): Promise<{ addr: string | undefined; route: string | undefined }> {
  const [addr, route] = await Promise.all([run(['-j', '-4', 'addr', 'show']), run(['-j', '-4', 'route', 'show'])]);
  return { addr, route };
}
