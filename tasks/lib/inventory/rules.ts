// Cross-cutting checks on the normalised inventory: each rule is a small function returning problems.

import { isIPv4 } from 'node:net';
import { isMap, isScalar, isSeq, type ParsedNode, type YAMLSeq } from 'yaml';
import type { Normalised } from './normalise.ts';
import { isHostLabel } from './schema.ts';
import type { RawInventory, VarDef } from './structure.ts';
import { closest, didYouMean } from './suggest.ts';
import { PI_MODELS, type HostSpec, type InventoryProblem, type SourcePos } from './types.ts';
import type { YamlSource } from './yaml-source.ts';

export interface RuleContext extends Normalised {
  raw: RawInventory;
  src: YamlSource;
  /** Definitions refused already: a rule must not also call them missing. */
  rejected: VarDef[];
}

/** True when the variable was written for this host (or the cluster) but its value was refused. */
function wasRejected(ctx: RuleContext, name: string, host?: HostSpec): boolean {
  return ctx.rejected.some(
    (d) =>
      d.name === name &&
      (host === undefined
        ? d.owner.kind === 'group' && d.owner.name === 'all'
        : d.owner.kind === 'host'
          ? d.owner.name === host.name
          : host.groups.includes(d.owner.name)),
  );
}

export type Rule = (ctx: RuleContext) => InventoryProblem[];

const error = (pos: SourcePos, message: string): InventoryProblem => ({ pos, message, severity: 'error' });
const warning = (pos: SourcePos, message: string): InventoryProblem => ({ pos, message, severity: 'warning' });
const at = (p: SourcePos): string => `${p.line}:${p.col}`;

/** Where a group is written, else where it should be (all's children). */
function groupPos(ctx: RuleContext, name: string): SourcePos {
  return ctx.raw.groups.get(name)?.pos ?? ctx.raw.groups.get('all')?.pos ?? ctx.raw.rootPos;
}

/** Positions of a list's items, for messages about one entry. */
function itemPositions(ctx: RuleContext, def: VarDef): SourcePos[] {
  const node: ParsedNode | null = def.valueNode;
  if (!isSeq(node)) return [];
  return (node as YAMLSeq<unknown>).items.map((i) => def.src.posOf(i));
}

/** Where a host's variable is set, else the host itself. */
function varPos(ctx: RuleContext, host: HostSpec, name: string): SourcePos {
  return ctx.hostVars.get(host.name)?.get(name)?.valuePos ?? host.pos;
}

function placesOf(ctx: RuleContext, group: string, host: string): SourcePos | undefined {
  return ctx.raw.groups.get(group)?.hosts.find((h) => h.name === host)?.pos;
}

const managersExist: Rule = (ctx) => {
  const m = ctx.inventory.groups['managers'] ?? [];
  if (m.length > 0) return [];
  const missing = !ctx.raw.groups.has('managers');
  return [
    error(
      groupPos(ctx, 'managers'),
      missing
        ? 'no group "managers": add all.children.managers with at least one host (the first one becomes the swarm leader)'
        : 'no host in group "managers": add at least one (the first one becomes the swarm leader)',
    ),
  ];
};

// Raft needs a majority: 2 managers tolerate no more failures than 1, 4 no more than 3.
const oddManagers: Rule = (ctx) => {
  const m = ctx.inventory.groups['managers'] ?? [];
  if (m.length === 0 || m.length % 2 === 1) return [];
  return [warning(groupPos(ctx, 'managers'), `${m.length} managers: an even number tolerates no more failures than ${m.length - 1}; use 1, 3 or 5`)];
};

const workersExist: Rule = (ctx) =>
  ctx.raw.groups.has('workers') ? [] : [warning(groupPos(ctx, 'all'), 'no group "workers": every host is a manager (fine for tiny clusters)')];

const oneRolePerHost: Rule = (ctx) => {
  const managers = new Set(ctx.inventory.groups['managers'] ?? []);
  const workers = new Set(ctx.inventory.groups['workers'] ?? []);
  const out: InventoryProblem[] = [];
  for (const h of ctx.inventory.hosts) {
    if (managers.has(h.name) && workers.has(h.name)) {
      const pos = placesOf(ctx, 'workers', h.name) ?? h.pos;
      out.push(error(pos, `host "${h.name}" is in both managers and workers: a swarm node is one or the other (managers run tasks too)`));
    } else if (!managers.has(h.name) && !workers.has(h.name)) {
      out.push(error(h.pos, `host "${h.name}" is in neither managers nor workers: put it in one of them`));
    }
  }
  return out;
};

// The inventory name becomes the Pi's hostname and the swarm's node.hostname.
const hostNames: Rule = (ctx) => {
  const out: InventoryProblem[] = [];
  const seen = new Map<string, HostSpec>();
  for (const h of ctx.inventory.hosts) {
    if (/\[.*:.*\]/.test(h.name)) {
      out.push(error(h.pos, `host "${h.name}": ranges such as worker[01:05] are not supported, list each host`));
    } else if (!isHostLabel(h.name)) {
      out.push(error(h.pos, `host "${h.name}": expected a hostname of letters, digits and - (at most 63, no dots), since it becomes the Pi's hostname`));
    }
    const key = h.name.toLowerCase();
    const first = seen.get(key);
    if (first) out.push(error(h.pos, `duplicate host name: "${h.name}" and "${first.name}" (${at(first.pos)}) are the same hostname (names are case-insensitive)`));
    else seen.set(key, h);
    if (ctx.raw.groups.has(h.name)) out.push(error(h.pos, `host "${h.name}" has the same name as a group: --limit could not tell them apart`));
  }
  return out;
};

// A host written twice with different values for the same variable is almost always a copy-paste slip.
const conflictingHostDefs: Rule = (ctx) => {
  const out: InventoryProblem[] = [];
  for (const h of ctx.raw.hosts.values()) {
    const first = new Map<string, VarDef>();
    for (const d of h.vars) {
      const f = first.get(d.name);
      if (!f) first.set(d.name, d);
      else if (JSON.stringify(f.value) !== JSON.stringify(d.value)) {
        out.push(error(d.keyPos, `duplicate host "${h.name}": ${d.name} is already set to a different value at ${at(f.keyPos)}; define a host's variables once`));
      }
    }
  }
  return out;
};

const addresses: Rule = (ctx) => {
  const out: InventoryProblem[] = [];
  const byAddress = new Map<string, HostSpec>();
  for (const h of ctx.inventory.hosts) {
    if (h.connection === 'local' || /\[.*:.*\]/.test(h.name)) continue;
    if (h.address === '') {
      if (wasRejected(ctx, 'ansible_host', h)) continue;
      out.push(error(h.pos, `host "${h.name}": ansible_host is not set; expected the IP address or DNS name used to reach it over SSH`));
      continue;
    }
    // The virtual fridge may reach several nodes through one address on different ports.
    const key = `${h.address.toLowerCase()}:${h.port}`;
    const first = byAddress.get(key);
    if (first) {
      out.push(error(varPos(ctx, h, 'ansible_host'), `duplicate ansible_host ${h.address} (port ${h.port}): "${h.name}" and "${first.name}" (${at(first.pos)}) would be the same machine`));
    } else byAddress.set(key, h);
  }
  return out;
};

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

const staticIps: Rule = (ctx) => {
  const out: InventoryProblem[] = [];
  const { router, prefix } = ctx.inventory.cluster.network;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const seen = new Map<string, HostSpec>();
  // One map, not a search per host: inventories may be large.
  const byAddress = new Map<string, HostSpec[]>();
  for (const h of ctx.inventory.hosts) {
    const list = byAddress.get(h.address);
    if (list) list.push(h);
    else byAddress.set(h.address, [h]);
  }
  for (const h of ctx.inventory.hosts) {
    const ip = h.staticIp;
    if (ip === undefined) continue;
    const pos = varPos(ctx, h, 'fridge_static_ip');
    const first = seen.get(ip);
    if (first) out.push(error(pos, `duplicate fridge_static_ip ${ip}: already given to "${first.name}" (${at(first.pos)})`));
    else seen.set(ip, h);
    // After pi-setup this host would take over another one's current address.
    const other = byAddress.get(ip)?.find((o) => o !== h);
    if (other) out.push(error(pos, `fridge_static_ip ${ip} of "${h.name}" is the ansible_host of "${other.name}" (${at(other.pos)})`));
    if (router !== undefined && isIPv4(router)) {
      if (ip === router) out.push(error(pos, `fridge_static_ip ${ip} of "${h.name}" is the router's address`));
      else if (((ipToInt(ip) & mask) >>> 0) !== ((ipToInt(router) & mask) >>> 0)) {
        out.push(error(pos, `fridge_static_ip ${ip} of "${h.name}" is outside the router's network ${router}/${prefix}: the Pi would have no route`));
      }
    }
  }
  return out;
};

// mDNS names made swarm joins fail on Pi clusters (geerlingguy/pi-cluster #11); a static address avoids them.
const mdnsNames: Rule = (ctx) =>
  ctx.inventory.hosts
    .filter((h) => h.connection === 'ssh' && h.address.toLowerCase().endsWith('.local') && h.staticIp === undefined)
    .map((h) =>
      warning(
        varPos(ctx, h, 'ansible_host'),
        `host "${h.name}" is reached through the mDNS name ${h.address}: set fridge_static_ip so the swarm joins by address`,
      ),
    );

const models: Rule = (ctx) => {
  if (ctx.inventory.cluster.virtual) return [];
  return ctx.inventory.hosts
    .filter((h) => !ctx.hostVars.get(h.name)?.has('fridge_model') && !wasRejected(ctx, 'fridge_model', h))
    .map((h) => error(h.pos, `host "${h.name}": fridge_model is not set (in all.vars or on the host); expected one of ${PI_MODELS.join(', ')}`));
};

const flinkHosts: Rule = (ctx) => {
  const out: InventoryProblem[] = [];
  const names = ctx.inventory.hosts.map((h) => h.name);
  const known = new Set(names);
  const jm = ctx.clusterVars.get('fridge_flink_jobmanager_host');
  if (jm && typeof jm.value === 'string' && !known.has(jm.value)) {
    out.push(error(jm.valuePos, `fridge_flink_jobmanager_host: "${jm.value}" is not a host of this inventory${didYouMean(jm.value, names) || `; hosts: ${names.join(', ')}`}`));
  }
  const ex = ctx.clusterVars.get('fridge_flink_taskmanager_exclude');
  if (ex && Array.isArray(ex.value)) {
    const positions = itemPositions(ctx, ex);
    ex.value.forEach((name: unknown, i: number) => {
      if (typeof name === 'string' && !known.has(name)) {
        out.push(error(positions[i] ?? ex.valuePos, `fridge_flink_taskmanager_exclude: "${name}" is not a host of this inventory${didYouMean(name, names) || `; hosts: ${names.join(', ')}`}`));
      }
    });
  }
  return out;
};

/** Where a key of a mapping-valued variable is written, else the value. */
function keyPos(def: VarDef, key: string): SourcePos {
  const node = def.valueNode;
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair) return def.src.posOf(pair.value ?? pair.key);
  }
  return def.valuePos;
}

const stateStorage: Rule = (ctx) => {
  const def = ctx.clusterVars.get('fridge_state_storage');
  const storage = ctx.inventory.cluster.stateStorage;
  if (!def || typeof def.value !== 'object' || def.value === null) return [];
  const given = def.value as Record<string, unknown>;
  const out: InventoryProblem[] = [];
  if (storage.kind !== 'sshfs') {
    for (const k of ['server', 'path']) {
      if (given[k] !== undefined) out.push(error(keyPos(def, k), `fridge_state_storage.${k}: only type sshfs has a ${k}; ${storage.kind === 'external' ? 'external storage is mounted by you on every node at fridge_flink_state_dir' : 'none keeps the state on each node'}`));
    }
    return out;
  }
  const names = ctx.inventory.hosts.map((h) => h.name);
  const server = ctx.inventory.hosts.find((h) => h.name === storage.server);
  if (!server) {
    if (typeof given['server'] === 'string') out.push(error(keyPos(def, 'server'), `fridge_state_storage.server: "${storage.server}" is not a host of this inventory${didYouMean(storage.server, names) || `; hosts: ${names.join(', ')}`}`));
  } else if (server.connection === 'local') {
    out.push(error(keyPos(def, 'server'), `fridge_state_storage.server: "${server.name}" is reached without SSH (ansible_connection: local); the other nodes mount its directory over SSH, so it must be a Pi they can reach`));
  }
  if (storage.path === ctx.inventory.cluster.flink.stateDir) {
    out.push(error(keyPos(def, 'path'), `fridge_state_storage.path: ${storage.path} is also fridge_flink_state_dir, where every node (the server too) mounts it; choose another directory, e.g. /srv/fridge-state`));
  }
  return out;
};

/** Every host named by fridge_flink_high_availability exists, and the ensemble can outlive one of its Pis. */
const highAvailability: Rule = (ctx) => {
  const def = ctx.clusterVars.get('fridge_flink_high_availability');
  const flink = ctx.inventory.cluster.flink;
  const ha = flink.highAvailability;
  if (!def || typeof def.value !== 'object' || def.value === null) return [];
  const given = def.value as Record<string, unknown>;
  const out: InventoryProblem[] = [];
  if (ha.kind === 'none') {
    for (const k of ['jobmanager_hosts', 'zookeeper_hosts']) {
      if (given[k] !== undefined) out.push(error(keyPos(def, k), `fridge_flink_high_availability.${k}: only type zookeeper has ${k}; with none the jobmanager stays on fridge_flink_jobmanager_host`));
    }
    return out;
  }
  const names = ctx.inventory.hosts.map((h) => h.name);
  const known = new Set(names);
  const unknown = (key: string, list: unknown) => {
    if (!Array.isArray(list)) return;
    list.forEach((name: unknown) => {
      if (typeof name === 'string' && !known.has(name)) {
        out.push(error(keyPos(def, key), `fridge_flink_high_availability.${key}: "${name}" is not a host of this inventory${didYouMean(name, names) || `; hosts: ${names.join(', ')}`}`));
      }
    });
  };
  unknown('jobmanager_hosts', given['jobmanager_hosts']);
  unknown('zookeeper_hosts', given['zookeeper_hosts']);
  const jm = ctx.clusterVars.get('fridge_flink_jobmanager_host');
  if (jm && typeof jm.value === 'string' && !flink.jobmanagerHosts.includes(jm.value)) {
    out.push(error(jm.valuePos, `fridge_flink_jobmanager_host: "${jm.value}" is not one of fridge_flink_high_availability.jobmanager_hosts (${flink.jobmanagerHosts.join(', ')})`));
  }
  if (new Set(flink.jobmanagerHosts).size < 2) {
    out.push(warning(given['jobmanager_hosts'] !== undefined ? keyPos(def, 'jobmanager_hosts') : def.valuePos, `fridge_flink_high_availability: the jobmanager can only run on ${flink.jobmanagerHosts.join(', ')}: when that Pi dies it has nowhere to move; list a second Pi in jobmanager_hosts`));
  }
  const zk = ha.zookeeperHosts;
  const zkPos = given['zookeeper_hosts'] !== undefined ? keyPos(def, 'zookeeper_hosts') : def.valuePos;
  if (new Set(zk).size !== zk.length) {
    out.push(error(zkPos, `fridge_flink_high_availability.zookeeper_hosts: a Pi is listed twice (${zk.join(', ')}); one ZooKeeper server per Pi`));
  } else if (zk.length % 2 === 0) {
    out.push(error(zkPos, `fridge_flink_high_availability.zookeeper_hosts: ${zk.length} ZooKeeper servers outlive no more lost Pis than ${zk.length - 1}, and need one more for a majority; list an odd number (3 outlive the loss of one)`));
  } else if (zk.length === 1) {
    out.push(warning(zkPos, `fridge_flink_high_availability.zookeeper_hosts: one ZooKeeper server (${zk[0]}): when its Pi dies, Flink loses its leader and the jobs stop until it is back; three outlive the loss of one`));
  }
  const shared = zk.filter((h) => flink.jobmanagerHosts.includes(h));
  if (zk.length > 1 && shared.length > 0) {
    out.push(warning(zkPos, `fridge_flink_high_availability: ${shared.join(', ')} runs a ZooKeeper server and may run the jobmanager: losing that Pi costs both at once`));
  }
  return out;
};

const replicas: Rule = (ctx) => {
  const { flink } = ctx.inventory.cluster;
  const excluded = new Set(flink.taskmanagerExclude);
  const allowed = ctx.inventory.hosts.filter((h) => !excluded.has(h.name));
  const ex = ctx.clusterVars.get('fridge_flink_taskmanager_exclude');
  if (ctx.inventory.hosts.length > 0 && allowed.length === 0) {
    return [error(ex?.valuePos ?? groupPos(ctx, 'all'), 'fridge_flink_taskmanager_exclude excludes every host: taskmanagers would have nowhere to run')];
  }
  const max = flink.taskmanagerMaxPerHost;
  if (max !== undefined && flink.taskmanagerReplicas > allowed.length * max) {
    const def = ctx.clusterVars.get('fridge_flink_taskmanager_replicas');
    return [
      error(
        def?.valuePos ?? groupPos(ctx, 'all'),
        `fridge_flink_taskmanager_replicas: ${flink.taskmanagerReplicas} taskmanagers do not fit: ${allowed.length} host(s) may run them (${allowed.map((h) => h.name).join(', ')}) with at most ${max} per host`,
      ),
    ];
  }
  return [];
};

// Only these two names give hosts a swarm role; a near miss leaves its hosts without one.
const ROLE_GROUPS = ['managers', 'workers'];
const roleGroupTypos: Rule = (ctx) => {
  const out: InventoryProblem[] = [];
  for (const g of ctx.raw.groups.values()) {
    if (ROLE_GROUPS.includes(g.name)) continue;
    const near = closest(g.name, ROLE_GROUPS);
    if (near === undefined) continue;
    out.push(error(g.pos, `group "${g.name}": did you mean "${near}"? Fridge gives swarm roles only to the groups "managers" and "workers"`));
  }
  return out;
};

// Ansible warns about group names that are not identifiers (they cannot be used in templates).
const groupNames: Rule = (ctx) =>
  [...ctx.raw.groups.values()]
    .filter((g) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(g.name))
    .map((g) => warning(g.pos, `group "${g.name}": Ansible expects group names of letters, digits and _ only`));

const image: Rule = (ctx) => {
  const { registry } = ctx.inventory.cluster;
  const def = ctx.clusterVars.get('fridge_image');
  if (!def && wasRejected(ctx, 'fridge_image')) return [];
  if (!def) return [error(groupPos(ctx, 'all'), 'fridge_image is not set in all.vars: expected the image repository, e.g. digitaljazz/flink-fridge')];
  if (registry.host === 'docker.io' && !registry.repository.includes('/')) {
    return [error(def.valuePos, `fridge_image: on docker.io the repository needs your namespace, e.g. yourname/${registry.repository}`)];
  }
  return [];
};

const REMOVED_IN_2 = ['jobmanager.heap.size', 'taskmanager.heap.size'];
/** Keys that have their own inventory setting, which would silently lose against the property. */
const MODELLED: Record<string, string> = {
  'taskmanager.numberOfTaskSlots': 'fridge_flink_slots',
  'jobmanager.rpc.address': 'fridge_flink_jobmanager_host',
  'state.checkpoints.dir': 'fridge_flink_state_dir',
  'execution.checkpointing.dir': 'fridge_flink_state_dir',
};

const flinkProperties: Rule = (ctx) => {
  const def = ctx.clusterVars.get('fridge_flink_properties');
  if (!def) return [];
  const { version, properties } = ctx.inventory.cluster.flink;
  const major = Number(version.split('.')[0]);
  const out: InventoryProblem[] = [];
  const keyPos = (key: string): SourcePos => {
    const node = def.valueNode;
    if (isMap(node)) {
      const first = key.split('.')[0];
      const pair = node.items.find((p) => isScalar(p.key) && (String(p.key.value) === key || String(p.key.value) === first));
      if (pair) return def.src.posOf(pair.key);
    }
    return def.valuePos;
  };
  for (const key of Object.keys(properties)) {
    if (major >= 2 && REMOVED_IN_2.includes(key)) {
      const replacement = key.replace('heap.size', 'memory.process.size');
      out.push(error(keyPos(key), `fridge_flink_properties: ${key} was removed in Flink 2.0; use ${replacement}`));
    }
    const own = MODELLED[key];
    if (own) out.push(warning(keyPos(key), `fridge_flink_properties: ${key} overrides ${own}; prefer setting ${own}`));
  }
  return out;
};

const registryPull: Rule = (ctx) => {
  const { registry } = ctx.inventory.cluster;
  const def = ctx.clusterVars.get('fridge_registry_pull') ?? ctx.clusterVars.get('fridge_registry');
  // Nodes would be asked to pull from themselves.
  if (def && /^(127\.|localhost(:|$))/.test(registry.pullHost)) {
    return [
      error(def.valuePos, `the nodes cannot pull from the loopback address ${registry.pullHost}; set fridge_registry_pull to an address they reach (the virtual fridge: 10.77.0.1:5000)`),
    ];
  }
  return [];
};

export const RULES: readonly Rule[] = [
  managersExist,
  oddManagers,
  workersExist,
  oneRolePerHost,
  hostNames,
  conflictingHostDefs,
  addresses,
  staticIps,
  mdnsNames,
  models,
  flinkHosts,
  stateStorage,
  highAvailability,
  replicas,
  roleGroupTypos,
  groupNames,
  image,
  flinkProperties,
  registryPull,
];

export function applyRules(ctx: RuleContext, rules: readonly Rule[] = RULES): InventoryProblem[] {
  return rules.flatMap((r) => r(ctx));
}
