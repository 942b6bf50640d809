// The kernel's neighbour (ARP) table: which addresses of the LAN answered recently and with which MAC. Read from
// `ip -j neigh show` (iproute2's JSON) or, where ip is missing, /proc/net/arp. Parsing is pure; reading is one call.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { normaliseMac } from './vendor.ts';

export interface Neighbour {
  address: string;
  mac: string;
  dev: string | undefined;
}

const NeighJson = z.array(
  z.object({
    dst: z.string(),
    dev: z.string().optional(),
    lladdr: z.string().optional(),
    state: z.array(z.string()).optional(),
  }),
);

/** Entries without a MAC (FAILED, INCOMPLETE) and IPv6 ones are left out: they say nothing about a Pi. */
export function parseIpNeighJson(text: string): { ok: true; neighbours: Neighbour[] } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = NeighJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `not an \`ip -j neigh\` table: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected shape'}` };
  }
  const neighbours: Neighbour[] = [];
  for (const e of parsed.data) {
    const mac = e.lladdr ? normaliseMac(e.lladdr) : undefined;
    if (!isIPv4(e.dst) || !mac || e.state?.some((s) => s === 'FAILED' || s === 'INCOMPLETE')) continue;
    neighbours.push({ address: e.dst, mac, dev: e.dev });
  }
  return { ok: true, neighbours };
}

/** /proc/net/arp: `IP address  HW type  Flags  HW address  Mask  Device`; flags 0x0 is an incomplete entry. */
export function parseProcNetArp(text: string): Neighbour[] {
  const neighbours: Neighbour[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [address, , flags, hw, , dev] = line.trim().split(/\s+/);
    const mac = hw ? normaliseMac(hw) : undefined;
    if (!address || !isIPv4(address) || !mac || flags === '0x0' || mac === '00:00:00:00:00:00') continue;
    neighbours.push({ address, mac, dev });
  }
  return neighbours;
}

/** Either format, told apart by its first character. */
export function parseNeighbours(text: string): { ok: true; neighbours: Neighbour[] } | { ok: false; error: string } {
  const t = text.trimStart();
  if (t.startsWith('[')) return parseIpNeighJson(t);
  if (t.startsWith('IP address')) return { ok: true, neighbours: parseProcNetArp(t) };
  return { ok: false, error: 'neither `ip -j neigh` JSON nor /proc/net/arp' };
}

function run(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((r) => execFile(cmd, args, { encoding: 'utf8', timeout: 5_000 }, (err, out) => r(err ? undefined : out)));
}

/** This machine's table (a read: no packet is sent). */
export async function readNeighbours(): Promise<{ ok: true; neighbours: Neighbour[]; source: string } | { ok: false; error: string }> {
  const json = await run('ip', ['-j', '-4', 'neigh', 'show']);
  if (json !== undefined) {
    const p = parseIpNeighJson(json);
    if (p.ok) return { ...p, source: 'ip -j neigh' };
  }
  const arp = await fs.readFile('/proc/net/arp', 'utf8').catch(() => undefined);
  if (arp !== undefined) return { ok: true, neighbours: parseProcNetArp(arp), source: '/proc/net/arp' };
  return { ok: false, error: 'no neighbour table: neither `ip -j neigh` nor /proc/net/arp could be read' };
}
