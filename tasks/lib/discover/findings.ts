// What discover found, one row per address: the probe's answers, the neighbour table, mDNS and the inventory
// brought together (pure), and whether each looks like a Pi and why.
import { osHint } from './banner.ts';
import { byAddress, inCidr, type Cidr } from './cidr.ts';
import type { Neighbour } from './neighbours.ts';
import type { Knock } from './probe.ts';
import { vendorOf } from './vendor.ts';

export interface Finding {
  address: string;
  mac: string | undefined;
  vendor: string | undefined;
  hostname: string | undefined;
  ssh: Knock['kind'] | 'not probed';
  banner: string | undefined;
  os: string | undefined;
  /** The inventory host at this address (its ansible_host or fridge_static_ip), if any. */
  inventoryHost: string | undefined;
  /** Why this looks like a Pi (MAC prefix, banner, mDNS name, the virtual fridge); empty: nothing says so. */
  piEvidence: string[];
}

export interface FindingsInput {
  cidr: Cidr;
  knocks: ReadonlyMap<string, Knock>;
  neighbours: readonly Neighbour[];
  /** mDNS name → the addresses it resolved to. */
  mdns: ReadonlyMap<string, readonly string[]>;
  /** Inventory host name → the addresses it is known by. */
  inventory: ReadonlyMap<string, readonly string[]>;
  /** On the virtual fridge every SSH server of the sim network is a node: the nodes carry docker's MACs. */
  virtual: boolean;
}

/** Rows for the addresses inside the block that something answered for; sorted by address. */
export function collectFindings(input: FindingsInput): Finding[] {
  const macs = new Map<string, string>();
  for (const n of input.neighbours) if (inCidr(input.cidr, n.address)) macs.set(n.address, n.mac);
  const names = new Map<string, string>();
  for (const [name, addrs] of input.mdns) for (const a of addrs) if (inCidr(input.cidr, a)) names.set(a, name);
  const owners = new Map<string, string>();
  for (const [host, addrs] of input.inventory) for (const a of addrs) if (!owners.has(a)) owners.set(a, host);
  const alive = new Set<string>([...macs.keys(), ...names.keys()]);
  for (const [a, k] of input.knocks) if (k.kind !== 'silent' && inCidr(input.cidr, a)) alive.add(a);
  return [...alive].sort(byAddress).map((address): Finding => {
    const mac = macs.get(address);
    const vendor = mac ? vendorOf(mac) : undefined;
    const knock = input.knocks.get(address);
    const banner = knock?.kind === 'banner' ? knock.banner : undefined;
    const hint = banner ? osHint(banner) : undefined;
    const hostname = names.get(address);
    const piEvidence = [
      ...(vendor?.raspberryPi ? ['MAC'] : []),
      ...(hint?.raspbian ? ['banner'] : []),
      ...(hostname ? ['mDNS'] : []),
      ...(input.virtual && banner ? ['virtual fridge'] : []),
    ];
    return {
      address,
      mac,
      vendor: vendor?.name,
      hostname,
      ssh: knock?.kind ?? 'not probed',
      banner,
      os: hint?.text,
      inventoryHost: owners.get(address),
      piEvidence,
    };
  });
}

/** The Pis --write adds: they look like Pis, answer SSH and are not in the inventory yet. */
export function newPis(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.piEvidence.length > 0 && f.ssh === 'banner' && f.inventoryHost === undefined);
}

function sshCell(f: Finding): string {
  switch (f.ssh) {
    case 'banner':
      return f.banner ?? '';
    case 'open':
      return 'port open, no SSH banner';
    case 'refused':
      return f.piEvidence.length ? 'refused: ssh not enabled on the card?' : 'port closed';
    case 'silent':
      return 'no answer';
    case 'not probed':
      return 'not probed';
  }
}

/** The table printed after the recap. */
export function formatFindings(findings: readonly Finding[]): string {
  const header = ['address', 'MAC', 'vendor', 'hostname', 'SSH', 'OS (from the banner)', 'Pi?', 'inventory'];
  const rows = findings.map((f) => [
    f.address,
    f.mac ?? '-',
    f.vendor ?? (f.mac ? 'unknown' : '-'),
    f.hostname ?? '-',
    sshCell(f),
    f.os ?? '-',
    f.piEvidence.length ? `yes (${f.piEvidence.join(', ')})` : 'no',
    f.inventoryHost ?? 'new',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
