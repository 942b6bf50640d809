// The virtual fridge's API: simUp / simStatus / simDown return data; the CLI (cli.ts) only prints it.
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_MEMORY_MIB } from '../inventory/types.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { intToIp, ipToInt } from '../discover/cidr.ts';
import { forgetHostKeys } from '../transport/known-hosts.ts';
import { DEFAULT_SIM_OPTIONS, SIM, SIM_PATHS, cardDir, nodeAddress, nodeMac, nodeName, type SimOptions } from './config.ts';
import { ensureNodeImage, removeImages } from './image.ts';
import { writeSimInventory } from './inventory.ts';
import { ensureOperatorKey } from './keys.ts';
import { withSimLock } from './lock.ts';
import {
  containerName,
  createNode,
  nodeFilesDir,
  ensureNetwork,
  removeLegacyStateVolume,
  listNodes,
  removeNetworkAndVolume,
  removeNodes,
  restartNode,
  startNode,
  type MeminfoView,
  type NodeStatus,
} from './nodes.ts';
import { staleMeminfo, wantedMeminfo } from './meminfo.ts';
import { SimError, describeFailure, run } from './run.ts';
import { ensureService, readLeases, serviceSpecs, serviceStatus, stopService, LEASE_SECONDS, type Lease, type ServiceStatus } from './services.ts';
import { flashBlankCard, hasCard } from './cards.ts';
import { sshReady, waitFor } from './wait.ts';

export type { NodeStatus } from './nodes.ts';
export type { ServiceStatus } from './services.ts';

export interface SimUpResult {
  ok: true;
  nodes: NodeStatus[];
  inventory: string;
  /** `--first-boot`: each node's DHCP lease (the router's client list), by node name. */
  leases?: Record<string, Lease>;
  /** Nodes created (or recreated) by this call; the others were kept as they were. */
  created: string[];
  started: string[];
  /** Running nodes restarted (a reboot) because their lxcfs mount had gone stale. */
  restarted: string[];
  /** What the nodes' /proc/meminfo says: 'limit' (the model's memory) unless lxcfs is not serving. */
  meminfo: MeminfoView;
  removed: string[];
  imageBuilt: boolean;
  services: ServiceStatus[];
  durationMs: number;
}

export interface SimFailure {
  ok: false;
  error: string;
  durationMs: number;
}

export interface SimStatus {
  network: boolean;
  nodes: NodeStatus[];
  services: ServiceStatus[];
  inventory: string | undefined;
  /** The router's DHCP client list (`up --first-boot`). */
  leases: Lease[];
}

export interface SimDownResult {
  ok: true;
  removed: string[];
  durationMs: number;
}

const PREPARE_HOST = path.join(PROJECT_ROOT, 'tasks', 'lib', 'host', 'prepare-host.sh');

async function guarded<T extends { ok: true; durationMs: number }>(body: (t0: number) => Promise<T>): Promise<T | SimFailure> {
  const t0 = Date.now();
  try {
    return await withSimLock(() => body(t0));
  } catch (e) {
    if (e instanceof SimError) return { ok: false, error: e.message, durationMs: Date.now() - t0 };
    throw e;
  }
}

export interface NodesWanted {
  nodes: number;
  memoryBytes: number;
  meminfo: MeminfoView;
  fresh: boolean;
  firstBoot?: boolean;
  /** Made again whatever their state (a re-flashed card). */
  renew?: string[];
}

/**
 * Plans what to do with the node containers: pure, from what exists and what is wanted. `stale`: running
 * containers whose /proc/meminfo no longer reads (staleMeminfo).
 */
export function planNodes(
  existing: NodeStatus[],
  want: NodesWanted,
  stale: string[] = [],
): { create: number[]; start: string[]; restart: string[]; remove: string[] } {
  const create: number[] = [];
  const start: string[] = [];
  const restart: string[] = [];
  const remove: string[] = [];
  for (const n of existing) {
    const i = Number(n.name.slice(2));
    if (!(i >= 1 && i <= want.nodes)) remove.push(n.container);
  }
  for (let i = 1; i <= want.nodes; i++) {
    const n = existing.find((e) => e.name === nodeName(i));
    if (!n) create.push(i);
    else if (
      want.fresh ||
      (want.renew ?? []).includes(n.name) ||
      n.memoryBytes !== want.memoryBytes ||
      // A mount cannot be added to (or taken from) a container: a node with the other /proc/meminfo is made again.
      n.meminfo !== want.meminfo ||
      // Made before nodes had disks of their own (sim/disks.ts): a new node with a new card.
      !n.disk ||
      // Made with the shared state volume, or without FUSE: as above.
      !n.current ||
      n.address !== nodeAddress(i) ||
      n.state === 'dead' ||
      // Made by another checkout (a CI clone, say): its keys and files are not ours, and may be gone.
      n.filesDir !== nodeFilesDir(n.name) ||
      // A Pi booted from its card and one made ready in the image are different machines.
      n.firstBoot !== (want.firstBoot ?? false)
    ) {
      remove.push(n.container);
      create.push(i);
    } else if (n.state !== 'running') start.push(n.container);
    else if (stale.includes(n.container)) restart.push(n.container);
  }
  return { create, start, restart, remove };
}

export function simUp(options: Partial<SimOptions> = {}): Promise<SimUpResult | SimFailure> {
  const opts: SimOptions = { ...DEFAULT_SIM_OPTIONS, ...options };
  return guarded(async (t0) => {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > SIM.maxNodes) {
      throw new SimError(`--nodes must be a whole number from 1 to ${SIM.maxNodes}`);
    }
    const log = opts.log;
    const prep = await run('bash', [PREPARE_HOST]);
    if (prep.code !== 0) throw new SimError(describeFailure('prepare-host.sh', prep));
    await ensureOperatorKey();
    if (await ensureNetwork()) log(`created docker network ${SIM.network} (${SIM.subnet})`);
    const services: ServiceStatus[] = [];
    for (const s of serviceSpecs({ firstBoot: opts.firstBoot })) services.push(await ensureService(s));
    // After the services: the first-boot image installs its packages through the sim's apt cache.
    const imageBuilt = await ensureNodeImage(log, opts.firstBoot);

    const meminfo = wantedMeminfo();
    if (meminfo === 'host') log(`lxcfs is not serving ${SIM.lxcfsMeminfo} (see tasks/lib/host/prepare-host.sh): the nodes will report this machine's memory, not a Pi's`);
    const existing = await listNodes();
    for (const n of existing.filter((e) => e.filesDir !== nodeFilesDir(e.name))) {
      log(`${n.container} was made by another checkout (its files: ${n.filesDir || 'gone'}): recreating it for this one`);
    }
    const memoryBytes = MODEL_MEMORY_MIB[opts.model] * 1024 * 1024;
    const plan = planNodes(existing, { nodes: opts.nodes, memoryBytes, meminfo, fresh: opts.fresh, firstBoot: opts.firstBoot, renew: opts.renew }, await staleMeminfo(existing));
    for (const n of existing.filter((e) => e.meminfo !== meminfo && plan.remove.includes(e.container) && !opts.fresh)) {
      log(`${n.container} ${meminfo === 'limit' ? 'reports this machine\'s memory' : 'reads lxcfs, which is not serving'}: recreating it (a fresh Pi)`);
    }
    if (plan.remove.length) log(`removing ${plan.remove.join(', ')}`);
    await removeNodes(plan.remove);
    await removeLegacyStateVolume();
    if (plan.create.length) log(`starting ${plan.create.map(nodeName).join(', ')} (fresh Raspberry Pi OS-like nodes)`);
    if (opts.firstBoot) {
      for (const i of plan.create.filter((k) => !hasCard(nodeName(k)))) {
        log(`${nodeName(i)}: no card in ${cardDir(nodeName(i))}: flashing a blank one (no user, no SSH: prepare it with \`npx zx tasks/sd-card.mjs --boot DIR\`)`);
        flashBlankCard(nodeName(i));
      }
    }
    const booted = Date.now();
    await Promise.all(plan.create.map((i) => createNode(i, opts.model, meminfo, opts.firstBoot)));
    await Promise.all(plan.start.map(startNode));
    if (plan.restart.length) log(`restarting ${plan.restart.join(', ')}: lxcfs was restarted under them`);
    await Promise.all(plan.restart.map(restartNode));
    // A recreated node has new host keys, like a re-flashed Pi: forget the old ones (trust on first use again),
    // except for nodes renewed on purpose (--renew), which stand for a re-flashed Pi on a real LAN.
    const forget = plan.create.filter((i) => !opts.renew.includes(nodeName(i)));
    forgetHostKeys(forget.map((i) => ({ address: nodeAddress(i), port: 22 })));
    let leases: Record<string, Lease> | undefined;
    if (opts.firstBoot) {
      // Its first address is a lease, which the next card may get: forget what was seen at every lease.
      if (forget.length) forgetHostKeys(dhcpAddresses().map((address) => ({ address, port: 22 })));
      // No sshd until a card says so: a node is up when it has its lease.
      leases = await waitForLeases(opts.nodes, booted, plan.create.map(nodeName));
    } else {
      const want = Array.from({ length: opts.nodes }, (_, k) => nodeAddress(k + 1));
      const ready = await waitFor(async () => (await Promise.all(want.map(sshReady))).every(Boolean), 60_000, 250);
      if (!ready) {
        const late = (await Promise.all(want.map(async (a) => ((await sshReady(a)) ? undefined : a)))).filter(Boolean);
        throw new SimError(`sshd did not answer on ${late.join(', ')} within 60 s (see docker logs ${containerName(nodeName(1))} and the others)`);
      }
    }
    writeSimInventory({ nodes: opts.nodes, arch: opts.arch, model: opts.model, firstBoot: opts.firstBoot });
    fs.writeFileSync(SIM_PATHS.arch, `${opts.arch}\n`);
    return {
      ok: true,
      nodes: await listNodes(),
      inventory: opts.firstBoot ? SIM_PATHS.firstBootInventory : SIM_PATHS.inventory,
      ...(leases ? { leases } : {}),
      created: plan.create.map(nodeName),
      started: plan.start,
      restarted: plan.restart,
      meminfo,
      removed: plan.remove,
      imageBuilt,
      services,
      durationMs: Date.now() - t0,
    };
  });
}

function dhcpAddresses(): string[] {
  const [first, last] = SIM.dhcpRange.map(ipToInt);
  return Array.from({ length: (last ?? 0) - (first ?? 0) + 1 }, (_, k) => intToIp((first ?? 0) + k));
}

/** Node name → its lease, once every node's NIC (by its Raspberry Pi MAC) has one; a boot takes seconds. */
async function waitForLeases(nodes: number, since: number, booted: string[], timeoutMs = 120_000): Promise<Record<string, Lease>> {
  const macs = Array.from({ length: nodes }, (_, k) => [nodeName(k + 1), nodeMac(k + 1)] as const);
  const byNode = (): Record<string, Lease> => {
    // A lease of an earlier boot (the same MAC) does not say a node booted now is up: for those, only leases
    // granted (or renewed) since.
    const fresh = (name: string, l: Lease): boolean => !booted.includes(name) || l.expires - LEASE_SECONDS >= Math.floor(since / 1000) - 1;
    const leases = readLeases();
    return Object.fromEntries(macs.flatMap(([name, mac]) => leases.filter((l) => l.mac === mac && fresh(name, l)).map((l) => [name, l] as const)));
  };
  await waitFor(() => Object.keys(byNode()).length === nodes, timeoutMs, 500);
  const got = byNode();
  const missing = macs.filter(([name]) => !got[name]).map(([name]) => name);
  if (missing.length) throw new SimError(`no DHCP lease for ${missing.join(', ')} within ${timeoutMs / 1000} s (see docker logs ${containerName(missing[0] ?? '')} and ${path.join(SIM_PATHS.run, 'dnsmasq.log')})`);
  return got;
}

export async function simStatus(): Promise<SimStatus> {
  const net = await run('docker', ['network', 'inspect', SIM.network]);
  return {
    network: net.code === 0,
    nodes: await listNodes(),
    // The router's DHCP belongs to the first-boot fridge: listed when it runs (or something else answers there).
    services: (await Promise.all(serviceSpecs({ all: true }).map(serviceStatus))).filter((st, k) => k < serviceSpecs().length || st.state !== 'stopped'),
    leases: readLeases(),
    inventory: fs.existsSync(SIM_PATHS.inventory) ? SIM_PATHS.inventory : undefined,
  };
}

/**
 * Removes what `up` made: node containers (and their /var/lib/docker volumes), the network, the shared state
 * volume, the processes it started, the generated inventory and key pair. The registry's data, the apt cache
 * and the node images are caches that make the next `up` fast: kept unless `purge`.
 */
export function simDown(opts: { purge?: boolean } = {}): Promise<SimDownResult | SimFailure> {
  return guarded(async (t0) => {
    const removed: string[] = [];
    const nodes = await listNodes();
    await removeNodes(nodes.map((n) => n.container));
    removed.push(...nodes.map((n) => `container ${n.container}`));
    forgetHostKeys(Array.from({ length: SIM.maxNodes }, (_, k) => ({ address: nodeAddress(k + 1), port: 22 })));
    for (const s of serviceSpecs({ all: true })) if (await stopService(s)) removed.push(`process ${s.name}`);
    removed.push(...(await removeNetworkAndVolume()));
    fs.rmSync(SIM_PATHS.cards, { recursive: true, force: true });
    for (const f of [SIM_PATHS.inventory, SIM_PATHS.firstBootInventory, SIM_PATHS.privateKey, SIM_PATHS.publicKey, SIM_PATHS.passwordFile]) {
      if (fs.existsSync(f)) {
        fs.rmSync(f);
        removed.push(`file ${path.relative(PROJECT_ROOT, f)}`);
      }
    }
    fs.rmSync(SIM_PATHS.run, { recursive: true, force: true });
    fs.rmSync(SIM_PATHS.nodes, { recursive: true, force: true });
    fs.rmSync(SIM_PATHS.build, { recursive: true, force: true });
    if (opts.purge) {
      await removeImages();
      for (const d of [SIM_PATHS.registryData, SIM_PATHS.aptCache, SIM_PATHS.dir]) fs.rmSync(d, { recursive: true, force: true });
      removed.push(`images ${SIM.nodeImage} ${SIM.baseImage}`, 'registry data', 'apt cache');
    }
    return { ok: true, removed, durationMs: Date.now() - t0 };
  });
}

/** True when the running nodes were made from an older node image recipe (`up --fresh` renews them). */
export async function staleNodes(nodes: NodeStatus[]): Promise<string[]> {
  const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', SIM.nodeImage]);
  const current = r.stdout.trim();
  const ids = await Promise.all(
    nodes.map(async (n) => (await run('docker', ['inspect', '--format', '{{.Image}}', n.container])).stdout.trim()),
  );
  return nodes.filter((_, k) => ids[k] !== current).map((n) => n.name);
}
