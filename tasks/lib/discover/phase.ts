// discover: finds the Pis on the LAN (the seed's Angry IP Scanner step) and, with --write, adds them to an
// inventory. A local play of two steps: the scan (read-only: the probe only knocks, the tables are read) and
// the inventory file (facts: the file; plan: the merge, pure; apply: one atomic write).
import fs from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { numberOption, type OptionArgs, type Phase, type PhaseOption } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import type { CallOutcome, Step } from '../engine/types.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { LOCALHOST } from '../inventory/local-host.ts';
import type { Inventory } from '../inventory/types.ts';
import { SIM } from '../sim/config.ts';
import { change, fail, ok } from '../steps/common.ts';
import { isOnLink } from '../transport/route-guard.ts';
import { cidrWithin, expandCidr, formatCidr, hostRange, intToIp, parseCidr, type Cidr } from './cidr.ts';
import { collectFindings, formatFindings, newPis, type Finding } from './findings.ts';
import { addHosts, knownHosts, parseStaticRange, proposeAdditions, type KnownHost } from './inventory-merge.ts';
import { mdnsAvailable, PI_MDNS_NAME, resolveMdns } from './mdns.ts';
import { parseNeighbours, readNeighbours, type Neighbour } from './neighbours.ts';
import { defaultCidr, parseAddresses, readInterfaces } from './netinfo.ts';
import { probe, PROBE_DEFAULTS, type Knock } from './probe.ts';

const options: Record<string, PhaseOption> = {
  cidr: { type: 'string', placeholder: 'NET/PREFIX', description: `the block to probe (default: the subnet of the interface holding the default route; on the virtual fridge ${SIM.subnet}); at most a /22 unless --force`, check: { kind: 'text', describe: 'an IPv4 network such as 192.168.0.0/24', valid: (t) => parseCidr(t).ok } },
  port: { type: 'string', placeholder: 'N', description: 'the SSH port to knock on (default 22)', check: { kind: 'int', min: 1, max: 65535 } },
  timeout: { type: 'string', placeholder: 'DURATION', description: 'how long one address may take to answer (default 1s)', check: { kind: 'duration', unit: 's', minMs: 100, maxMs: 10_000 } },
  concurrency: { type: 'string', placeholder: 'N', description: `connections open at once (default ${PROBE_DEFAULTS.concurrency}; at most ${PROBE_DEFAULTS.perSecond} started per second)`, check: { kind: 'int', min: 1, max: 256 } },
  force: { type: 'boolean', description: 'probe a block larger than a /22 (up to a /16), or one routed through a gateway' },
  neighbours: { type: 'string', placeholder: 'FILE', description: 'read the neighbour table from FILE (`ip -j neigh` JSON or /proc/net/arp, e.g. captured on the router) instead of this machine\'s', check: { kind: 'file' } },
  'no-mdns': { type: 'boolean', description: `do not ask for ${PI_MDNS_NAME} (asked only through the system resolver when /etc/nsswitch.conf has nss-mdns; otherwise skipped)` },
  write: { type: 'string', placeholder: 'FILE', description: 'add the Pis found (answering SSH, not listed yet) to this inventory file; comments and order kept' },
  'static-range': { type: 'string', placeholder: 'FIRST-LAST', description: 'the fridge_static_ip addresses to hand out with --write, e.g. 192.168.0.101-120 (default: after the highest in the file)', check: { kind: 'text', describe: 'FIRST-LAST such as 192.168.0.101-120 or 192.168.0.101-192.168.0.120', valid: (t) => parseStaticRange(t).ok } },
};

/** What the scan step read. */
interface ScanFacts {
  refused?: string;
  cidr: string;
  probed: number;
  findings: Finding[];
  notes: string[];
  /** Addresses not to hand out as static ones: everything seen alive, this machine's, the router. */
  taken: string[];
}

function str(args: OptionArgs, name: string): string | undefined {
  const v = args[name];
  return typeof v === 'string' ? v : undefined;
}

/** The block to probe, decided before anything is sent; a refusal says why. */
async function chooseCidr(args: OptionArgs, inv: Inventory, addrText: string | undefined, routeText: string | undefined): Promise<{ ok: true; cidr: Cidr } | { ok: false; error: string }> {
  const sim = parseCidr(SIM.subnet);
  if (!sim.ok) throw new Error('bug: SIM.subnet');
  let text = str(args, 'cidr');
  if (text === undefined) {
    if (inv.cluster.virtual) text = SIM.subnet;
    else {
      if (addrText === undefined || routeText === undefined) return { ok: false, error: 'cannot read this machine\'s interfaces (`ip -j addr`/`ip -j route`): give the Pis\' subnet with --cidr' };
      const d = defaultCidr(addrText, routeText);
      if (!d.ok) return d;
      text = d.cidr;
    }
  }
  const c = parseCidr(text);
  if (!c.ok) return { ok: false, error: `--cidr: ${c.error}` };
  if (inv.cluster.virtual && !cidrWithin(c.cidr, sim.cidr)) {
    return { ok: false, error: `${formatCidr(c.cidr)} is outside the virtual fridge's network ${SIM.subnet}: with its inventory discover probes only that network` };
  }
  // A block behind a gateway is not this LAN; on the virtual fridge a missing bridge would send the probe off the machine.
  const { first, last } = hostRange(c.cidr);
  const onLink = (await isOnLink(intToIp(first))) && (await isOnLink(intToIp(last)));
  if (!onLink) {
    if (inv.cluster.virtual) return { ok: false, error: `the virtual fridge's network is not up (${formatCidr(c.cidr)} would be routed off this machine): run \`npx zx tasks/sim.mjs up\` first` };
    if (args.force !== true) return { ok: false, error: `${formatCidr(c.cidr)} is not on a network of this machine (routed through a gateway): discover looks at the LAN the Pis are on; --force to probe it anyway` };
  }
  return { ok: true, cidr: c.cidr };
}

function inventoryAddresses(inv: Inventory, extra: readonly KnownHost[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const add = (name: string, addrs: (string | undefined)[]) => m.set(name, [...(m.get(name) ?? []), ...addrs.filter((a): a is string => a !== undefined && isIPv4(a))]);
  for (const h of inv.hosts) if (h.connection === 'ssh') add(h.name, [h.address, h.staticIp]);
  for (const h of extra) add(h.name, [h.ansibleHost, h.staticIp]);
  return m;
}

function scanStep(args: OptionArgs): Step<ScanFacts> {
  return {
    name: 'discover',
    async gather(ctx) {
      const inv = ctx.inventory;
      const { addr, route } = await readInterfaces();
      const chosen = await chooseCidr(args, inv, addr, route);
      const none = (refused: string): ScanFacts => ({ refused, cidr: str(args, 'cidr') ?? '', probed: 0, findings: [], notes: [], taken: [] });
      if (!chosen.ok) return none(chosen.error);
      const cidr = chosen.cidr;
      const expanded = expandCidr(cidr, args.force === true);
      if (!expanded.ok) return none(expanded.error);
      const interfaces = addr !== undefined ? parseAddresses(addr) : undefined;
      const own = interfaces?.ok ? interfaces.addresses.map((a) => a.address) : [];
      const targets = expanded.addresses.filter((a) => !own.includes(a));
      const notes: string[] = [];
      if (targets.length < expanded.addresses.length) notes.push(`${expanded.addresses.length - targets.length} address(es) of this machine not probed`);
      const write = str(args, 'write');
      let fileHosts: KnownHost[] = [];
      if (write) {
        const text = await fs.readFile(write, 'utf8').catch(() => undefined);
        const k = text !== undefined ? knownHosts(text) : undefined;
        if (k?.ok) fileHosts = k.hosts;
      }
      const port = numberOption(args, options, 'port') ?? PROBE_DEFAULTS.port;
      const knocks: Map<string, Knock> = await probe(cidr, targets, {
        port,
        timeoutMs: numberOption(args, options, 'timeout') ?? PROBE_DEFAULTS.timeoutMs,
        concurrency: numberOption(args, options, 'concurrency') ?? PROBE_DEFAULTS.concurrency,
        perSecond: PROBE_DEFAULTS.perSecond,
        progress: (done, total) => ctx.progress?.(`probed ${done}/${total} addresses of ${formatCidr(cidr)} on port ${port}`),
      });
      // After the probe: its connection attempts made the kernel learn the MACs of whoever is there.
      let neighbours: Neighbour[] = [];
      const file = str(args, 'neighbours');
      if (file) {
        const parsed = parseNeighbours(await fs.readFile(file, 'utf8'));
        if (!parsed.ok) return none(`--neighbours ${file}: ${parsed.error}`);
        neighbours = parsed.neighbours;
        notes.push(`neighbour table from ${file}`);
      } else {
        const read = await readNeighbours();
        if (read.ok) neighbours = read.neighbours;
        else notes.push(read.error);
      }
      const mdns = new Map<string, string[]>();
      const loopback = parseCidr('127.0.0.0/8');
      let mdnsSkip: string | undefined;
      if (args['no-mdns'] === true) mdnsSkip = '--no-mdns';
      else if (inv.cluster.virtual) mdnsSkip = 'the virtual fridge\'s nodes run no mDNS responder';
      else if (loopback.ok && cidrWithin(cidr, loopback.cidr)) mdnsSkip = 'a loopback block';
      else if (!(await mdnsAvailable())) mdnsSkip = 'no nss-mdns in /etc/nsswitch.conf';
      if (mdnsSkip) notes.push(`mDNS skipped: ${mdnsSkip}`);
      else mdns.set(PI_MDNS_NAME, await resolveMdns(PI_MDNS_NAME, 2_000));
      const findings = collectFindings({ cidr, knocks, neighbours, mdns, inventory: inventoryAddresses(inv, fileHosts), virtual: inv.cluster.virtual });
      const router = inv.cluster.network.router;
      const taken = [...findings.map((f) => f.address), ...own, ...(router && isIPv4(router) ? [router] : [])];
      return { cidr: formatCidr(cidr), probed: targets.length, findings, notes, taken };
    },
    plan(f) {
      if (f.refused) return fail(f.refused);
      const ssh = f.findings.filter((x) => x.ssh === 'banner').length;
      const pis = f.findings.filter((x) => x.piEvidence.length > 0).length;
      const fresh = newPis(f.findings).length;
      return ok([`${f.cidr}: ${f.probed} address(es) probed, ${f.findings.length} answered, ${ssh} with SSH, ${pis} Pi(s), ${fresh} not in the inventory`, ...f.notes].join('; '));
    },
  };
}

interface FileFacts {
  file: string;
  text: string | undefined;
  scan: ScanFacts | undefined;
}

function writeStep(file: string, args: OptionArgs, scan: Step<ScanFacts>): Step<FileFacts> {
  return {
    name: `inventory ${file}`,
    async gather(ctx) {
      return { file, text: await fs.readFile(file, 'utf8').catch(() => undefined), scan: ctx.output(scan) };
    },
    plan(f, ctx) {
      if (f.text === undefined) return fail(`${f.file} does not exist: copy inventory/fridge.yaml there (its settings), remove its example hosts, and run again`);
      if (!f.scan) return fail('bug: no scan results');
      const known = knownHosts(f.text);
      if (!known.ok) return fail(`${f.file}: ${known.error}`);
      const pis = newPis(f.scan.findings).filter((p) => !known.hosts.some((h) => h.ansibleHost === p.address || h.staticIp === p.address));
      if (pis.length === 0) return ok(`${f.file} already lists every Pi found`);
      const rangeText = str(args, 'static-range');
      const range = rangeText !== undefined ? parseStaticRange(rangeText) : undefined;
      if (range && !range.ok) return fail(range.error);
      const net = ctx.inventory.cluster.network;
      const lan = net.router && isIPv4(net.router) ? parseCidr(`${net.router}/${net.prefix}`) : parseCidr(f.scan.cidr);
      if (!lan.ok) return fail(`bug: ${lan.error}`);
      const proposed = proposeAdditions({
        found: pis.map((p) => p.address),
        known: known.hosts,
        range: range?.ok ? { first: range.first, last: range.last } : undefined,
        network: lan.cidr,
        taken: new Set(f.scan.taken),
        needsManager: known.managers === 0,
      });
      if (!proposed.ok) return fail(proposed.error);
      const merged = addHosts(f.text, proposed.additions, known.flowEntries || known.hosts.length === 0);
      if (!merged.ok) return fail(`${f.file}: ${merged.error}`);
      const text = merged.text;
      return change({
        summary: `add ${proposed.additions.map((a) => `${a.name} (${a.group}, at ${a.ansibleHost}, static ${a.staticIp})`).join(', ')}`,
        actions: [{ kind: 'call', label: `write ${f.file}`, fn: () => writeInventory(f.file, text) }],
        diff: { path: f.file, before: f.text, after: text },
      });
    },
  };
}

/** A file that cannot be written (permissions, a full disk) is the step's failure, not a crash. */
async function writeInventory(file: string, text: string): Promise<CallOutcome> {
  try {
    // The file keeps its mode (an inventory may be private).
    const mode = (await fs.stat(file)).mode & 0o777;
    await writeFileAtomic(file, text, mode);
    return { ok: true };
  } catch (err) {
    return { ok: false, msg: err instanceof Error ? err.message : String(err) };
  }
}

export const phase: Phase = {
  name: 'discover',
  offline: true,
  description: 'Finds the Pis on the LAN and, with --write, adds them to an inventory.',
  options,
  async run(run: Run) {
    const scan = scanStep(run.args);
    const write = str(run.args, 'write');
    const steps: Step<unknown>[] = [scan as Step<unknown>];
    if (write) steps.push(writeStep(write, run.args, scan) as Step<unknown>);
    await run.play({ name: 'discover', hosts: [LOCALHOST], steps });
    const found = run.output(scan, LOCALHOST);
    if (!found || found.refused) return;
    run.data.discover = { cidr: found.cidr, probed: found.probed, hosts: found.findings };
    run.outputs.discovered = found.findings.length ? `\n${formatFindings(found.findings)}` : `nothing answered in ${found.cidr}`;
  },
};
