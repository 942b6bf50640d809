// Turns the validated raw inventory into the model every phase reads: Ansible's variable precedence,
// group membership, roles and defaults.

import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { PATH_VARS, SENSOR_DEFAULTS, flattenFlink, type FlinkProperties } from './schema.ts';
import type { GroupDef, RawInventory, VarDef } from './structure.ts';
import {
  JOBMANAGER_LABEL,
  MODEL_MEMORY_MIB,
  type ClusterSettings,
  type FlinkSettings,
  type HostSpec,
  type Inventory,
  type InventoryProblem,
  type OptionalServices,
  type PiModel,
  type SensorSimulator,
  type StateStorage,
} from './types.ts';

export const DEFAULTS = {
  port: 22,
  user: 'pi',
  passwordEnv: 'FRIDGE_SSH_PASSWORD',
  clusterName: 'fridge',
  registry: 'docker.io',
  platforms: ['linux/arm/v7', 'linux/arm64', 'linux/amd64'],
  flinkVersion: '2.3.0',
  slots: 1,
  stateDir: '/mnt/fridge-state',
  stateServerPath: '/srv/fridge-state',
  stackName: 'flink',
  networkPrefix: 24,
  networkInterface: 'eth0',
} as const;

export interface Normalised {
  inventory: Inventory;
  /** The winning definition of each variable, per host: rules point at where a value came from. */
  hostVars: Map<string, Map<string, VarDef>>;
  /** all.vars definitions (the only place cluster settings may be set). */
  clusterVars: Map<string, VarDef>;
  problems: InventoryProblem[];
}

/** `~` is the operator's home; other relative paths are relative to the inventory file, like Ansible's. */
export function resolvePath(p: string, baseDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

interface GroupGraph {
  /** Longest distance from all: Ansible applies shallower groups' vars first. */
  depth: Map<string, number>;
  parents: Map<string, Set<string>>;
  members: Map<string, Set<string>>;
  problems: InventoryProblem[];
}

function analyseGroups(raw: RawInventory): GroupGraph {
  const problems: InventoryProblem[] = [];
  const parents = new Map<string, Set<string>>();
  for (const g of raw.groups.values()) {
    for (const c of g.children) {
      if (!parents.has(c.name)) parents.set(c.name, new Set());
      parents.get(c.name)?.add(g.name);
    }
  }
  const depth = new Map<string, number>();
  const members = new Map<string, Set<string>>();
  const cyclic = new Set<string>();
  // Depth-first from all; a child already on the path is a cycle, which Ansible refuses too.
  const visit = (g: GroupDef, d: number, path: string[]): Set<string> => {
    depth.set(g.name, Math.max(depth.get(g.name) ?? 0, d));
    const own = new Set(g.hosts.map((h) => h.name));
    for (const c of g.children) {
      if (path.includes(c.name)) {
        const key = `${g.name}>${c.name}`;
        if (!cyclic.has(key)) {
          cyclic.add(key);
          problems.push({ pos: c.pos, severity: 'error', message: `group "${c.name}" is a child of itself (${[...path, c.name].join(' → ')})` });
        }
        continue;
      }
      const child = raw.groups.get(c.name);
      if (child) for (const h of visit(child, d + 1, [...path, c.name])) own.add(h);
    }
    const prev = members.get(g.name) ?? new Set<string>();
    for (const h of own) prev.add(h);
    members.set(g.name, prev);
    return own;
  };
  const all = raw.groups.get('all');
  if (all) visit(all, 0, ['all']);
  members.set('all', new Set(raw.hostOrder));
  return { depth, parents, members, problems };
}

function lastValue(defs: Map<string, VarDef>, name: string): unknown {
  return defs.get(name)?.value;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}
function strs(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}
function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function normalise(file: string, raw: RawInventory): Normalised {
  const baseDir = dirname(resolve(file));
  const graph = analyseGroups(raw);
  const groupVars = (name: string): VarDef[] => raw.groups.get(name)?.vars ?? [];
  const groupVarsFiles = (name: string): VarDef[] => raw.fileGroupVars.get(name) ?? [];
  const priority = (name: string): number => num([...groupVars(name)].reverse().find((d) => d.name === 'ansible_group_priority')?.value) ?? 1;

  const clusterVars = new Map<string, VarDef>();
  for (const d of [...groupVars('all'), ...groupVarsFiles('all')]) clusterVars.set(d.name, d);
  const c = (name: string): unknown => lastValue(clusterVars, name);

  const virtual = bool(c('fridge_virtual')) ?? false;
  const network = rec(c('fridge_network'));
  const services = rec(c('fridge_services'));
  const registryHost = str(c('fridge_registry')) ?? DEFAULTS.registry;
  const keyFileAll = str(c('ansible_ssh_private_key_file'));
  const authorized = str(c('fridge_authorized_key_file')) ?? (keyFileAll === undefined ? undefined : `${keyFileAll}.pub`);

  const hostVars = new Map<string, Map<string, VarDef>>();
  const hosts: HostSpec[] = raw.hostOrder.map((name) => {
    const hostDef = raw.hosts.get(name);
    const memberOf = [...graph.members.entries()].filter(([, m]) => m.has(name)).map(([g]) => g);
    // Ansible's order (its VARIABLE_PRECEDENCE): the inventory's all.vars, then its groups' vars by depth,
    // priority and name; then group_vars/all and group_vars/<group> in the same order; then the host's
    // variables in the inventory, then host_vars/<host>.
    const ordered = memberOf
      .filter((g) => g !== 'all')
      .sort((a, b) => (graph.depth.get(a) ?? 0) - (graph.depth.get(b) ?? 0) || priority(a) - priority(b) || a.localeCompare(b));
    const merged = new Map<string, VarDef>();
    for (const g of ['all', ...ordered]) for (const d of groupVars(g)) merged.set(d.name, d);
    for (const g of ['all', ...ordered]) for (const d of groupVarsFiles(g)) merged.set(d.name, d);
    for (const d of hostDef?.vars ?? []) merged.set(d.name, d);
    for (const d of raw.fileHostVars.get(name) ?? []) merged.set(d.name, d);
    hostVars.set(name, merged);

    const v = (n: string): unknown => lastValue(merged, n);
    const model: PiModel = (str(v('fridge_model')) as PiModel | undefined) ?? (virtual ? 'virtual' : '3B');
    const role = memberOf.includes('managers') ? 'manager' : 'worker';
    const memoryMiB = MODEL_MEMORY_MIB[model];
    const extraLabels = Object.fromEntries(Object.entries(rec(v('fridge_labels'))).map(([k, x]) => [k, String(x)]));
    const keyFile = str(v('ansible_ssh_private_key_file'));
    const connection = str(v('ansible_connection')) === 'local' ? 'local' : 'ssh';
    return {
      name,
      address: str(v('ansible_host')) ?? (connection === 'local' ? '127.0.0.1' : ''),
      port: num(v('ansible_port')) ?? DEFAULTS.port,
      user: str(v('ansible_user')) ?? DEFAULTS.user,
      keyFile: keyFile === undefined ? undefined : resolvePath(keyFile, baseDir),
      passwordEnv: str(v('fridge_ssh_password_env')) ?? DEFAULTS.passwordEnv,
      connection,
      model,
      memoryMiB,
      staticIp: str(v('fridge_static_ip')),
      role,
      groups: ['all', ...ordered],
      labels: { ...extraLabels, model, memory: String(memoryMiB), role },
      // Paths resolved here once, so a step reading vars gets the same file the key above points to.
      vars: Object.fromEntries(
        [...merged.entries()].map(([k, d]) => [k, PATH_VARS.includes(k) && typeof d.value === 'string' ? resolvePath(d.value, baseDir) : d.value]),
      ),
      pos: hostDef?.pos ?? raw.rootPos,
    } satisfies HostSpec;
  });

  const leaderName = hosts.find((h) => h.role === 'manager')?.name ?? hosts[0]?.name ?? '';
  const props: FlinkProperties = flattenFlink(rec(c('fridge_flink_properties')) as Parameters<typeof flattenFlink>[0]);
  const maxPerHost = num(c('fridge_flink_taskmanager_max_per_host'));
  const cluster: ClusterSettings = {
    name: str(c('fridge_cluster_name')) ?? DEFAULTS.clusterName,
    registry: {
      host: registryHost,
      repository: str(c('fridge_image')) ?? '',
      insecure: bool(c('fridge_registry_insecure')) ?? false,
      usernameEnv: str(c('fridge_registry_username_env')),
      passwordEnv: str(c('fridge_registry_password_env')),
      pullHost: str(c('fridge_registry_pull')) ?? registryHost,
    },
    platforms: strs(c('fridge_platforms')) ?? [...DEFAULTS.platforms],
    flink: {
      version: str(c('fridge_flink_version')) ?? DEFAULTS.flinkVersion,
      ...jobmanagers(str(c('fridge_flink_jobmanager_host')), rec(c('fridge_flink_high_availability')), leaderName, hosts.map((h) => h.name)),
      taskmanagerExclude: strs(c('fridge_flink_taskmanager_exclude')) ?? [],
      taskmanagerReplicas: num(c('fridge_flink_taskmanager_replicas')) ?? defaultReplicas(hosts.length, strs(c('fridge_flink_taskmanager_exclude')) ?? []),
      ...(maxPerHost === undefined ? {} : { taskmanagerMaxPerHost: maxPerHost }),
      slotsPerTaskmanager: num(c('fridge_flink_slots')) ?? DEFAULTS.slots,
      stateDir: str(c('fridge_flink_state_dir')) ?? DEFAULTS.stateDir,
      properties: props,
    },
    stateStorage: stateStorage(rec(c('fridge_state_storage')), leaderName, hosts.length),
    network: {
      prefix: num(network['prefix']) ?? DEFAULTS.networkPrefix,
      router: str(network['router']),
      dns: strs(network['dns']) ?? [],
      interface: str(network['interface']) ?? DEFAULTS.networkInterface,
    },
    services: {
      mosquitto: bool(services['mosquitto']) ?? false,
      prometheus: bool(services['prometheus']) ?? false,
      grafana: bool(services['grafana']) ?? false,
      visualizer: bool(services['visualizer']) ?? false,
      ...sensorSimulator(services['sensors']),
    } satisfies OptionalServices,
    stackName: str(c('fridge_stack_name')) ?? DEFAULTS.stackName,
    dockerInstall: (str(c('fridge_docker_install')) as ClusterSettings['dockerInstall'] | undefined) ?? (virtual ? 'apt' : 'get.docker.com'),
    dnsrr: bool(c('fridge_dnsrr')) ?? virtual,
    authorizedKeyFile: authorized === undefined ? undefined : resolvePath(authorized, baseDir),
    virtual,
  };

  // Swarm constraints are all-of: "any of these Pis" is a label. Set on every host, yes or no, since the swarm phase
  // adds and changes labels but never removes one.
  if (cluster.flink.highAvailability.kind === 'zookeeper') {
    for (const h of hosts) h.labels[JOBMANAGER_LABEL] = cluster.flink.jobmanagerHosts.includes(h.name) ? 'yes' : 'no';
  }

  const groups: Record<string, string[]> = {};
  for (const [g, m] of graph.members) groups[g] = raw.hostOrder.filter((h) => m.has(h));

  return { inventory: { file, hosts, groups, cluster }, hostVars, clusterVars, problems: graph.problems };
}

/**
 * fridge_state_storage (validated by the schema). Unset: one Pi shares it with the others (the first manager, which
 * runs no taskmanager in the seed), since a job can only recover on another node from state every node reaches;
 * a single node needs nothing shared.
 */
function stateStorage(v: Record<string, unknown>, leaderName: string, hostCount: number): StateStorage {
  const type = str(v['type']) ?? (hostCount > 1 ? 'sshfs' : 'none');
  if (type === 'external') return { kind: 'external' };
  if (type === 'none') return { kind: 'none' };
  return { kind: 'sshfs', server: str(v['server']) ?? leaderName, path: str(v['path']) ?? DEFAULTS.stateServerPath };
}

/**
 * fridge_flink_jobmanager_host and fridge_flink_high_availability (validated by the schema). With ZooKeeper a
 * jobmanager runs on each of jobmanager_hosts (default: its host, then the leader, which runs no taskmanager in the
 * seed) and the ensemble takes the first three other hosts unless told: a ZooKeeper server beside a jobmanager
 * would go down with it, and three outlive the loss of one.
 */
function jobmanagers(
  host: string | undefined,
  v: Record<string, unknown>,
  leaderName: string,
  names: string[],
): Pick<FlinkSettings, 'jobmanagerHost' | 'jobmanagerHosts' | 'highAvailability'> {
  if (str(v['type']) !== 'zookeeper') {
    const only = host ?? leaderName;
    return { jobmanagerHost: only, jobmanagerHosts: [only], highAvailability: { kind: 'none' } };
  }
  const listed = strs(v['jobmanager_hosts']);
  const candidates = listed ?? [...new Set([host ?? leaderName, leaderName])];
  const first = host ?? candidates[0] ?? leaderName;
  const others = names.filter((n) => !candidates.includes(n));
  const zookeeperHosts = strs(v['zookeeper_hosts']) ?? (others.length >= 3 ? others.slice(0, 3) : others.length > 0 ? others.slice(0, 1) : [first]);
  return { jobmanagerHost: first, jobmanagerHosts: candidates, highAvailability: { kind: 'zookeeper', zookeeperHosts } };
}

/** fridge_services.sensors (validated by the schema): `true` takes the defaults, a mapping overrides them. */
function sensorSimulator(v: unknown): { sensors?: SensorSimulator } {
  if (v === true) return { sensors: { ...SENSOR_DEFAULTS } };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const m = v as Record<string, unknown>;
  return { sensors: { count: num(m['count']) ?? SENSOR_DEFAULTS.count, rate: num(m['rate']) ?? SENSOR_DEFAULTS.rate } };
}

/** One taskmanager on every host that may run one, as the seed does (3 of 5 Pis). */
function defaultReplicas(hostCount: number, exclude: string[]): number {
  return Math.max(1, hostCount - new Set(exclude).size);
}
