// The normalised inventory: what every phase reads after loading and validation succeeded.
// Loading (YAML with positions, schema, rules) lives in load.ts; nothing downstream re-validates.

export const PI_MODELS = ['3B', '3B+', '4-1GB', '4-2GB', '4-4GB', '4-8GB', '5-2GB', '5-4GB', '5-8GB', '5-16GB', 'virtual'] as const;
export type PiModel = (typeof PI_MODELS)[number];

export type SwarmRole = 'manager' | 'worker';

/** Where a value came from, for error messages that point at the file. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface HostSpec {
  /** Inventory name (Ansible's inventory_hostname); becomes the Pi's hostname. */
  name: string;
  /** ansible_host: address used to reach the host over SSH. */
  address: string;
  /** ansible_port */
  port: number;
  /** ansible_user */
  user: string;
  /** ansible_ssh_private_key_file, resolved to an absolute path (may not exist yet: pi-setup creates it). */
  keyFile: string | undefined;
  /** Name of the environment variable holding the first-login password (never the password itself). */
  passwordEnv: string | undefined;
  /** ansible_connection: 'ssh' (default) or 'local'. */
  connection: 'ssh' | 'local';
  model: PiModel;
  /** Physical memory the model has, in MiB. */
  memoryMiB: number;
  /** Static address to configure (fridge_static_ip), CIDR prefix from the network settings. */
  staticIp: string | undefined;
  /**
   * Set when pi-setup moved the host from its ansible_host to its static address (inventory/moved.ts): `address`
   * is then the static one and this the ansible_host, tried when the static one does not answer (a re-flashed Pi
   * is back on a DHCP lease).
   */
  firstContact?: string;
  role: SwarmRole;
  /** Groups the host belongs to, including 'all' and every parent group. */
  groups: string[];
  /** Swarm node labels (fridge_labels plus model/memory/role). */
  labels: Record<string, string>;
  /** Every merged variable, for steps that need one not modelled here. */
  vars: Record<string, unknown>;
  pos: SourcePos;
}

export interface NetworkSettings {
  /** CIDR prefix length of the LAN, e.g. 24. */
  prefix: number;
  router: string | undefined;
  dns: string[];
  interface: string;
}

export interface RegistrySettings {
  /** Host[:port] of the registry, e.g. docker.io or 10.77.0.1:5000. */
  host: string;
  /** Repository path, e.g. digitaljazz/flink-fridge. */
  repository: string;
  /** True when the registry speaks plain HTTP (the virtual fridge's); nodes get it in insecure-registries. */
  insecure: boolean;
  /** Environment variables that hold the credentials (names, never values). */
  usernameEnv: string | undefined;
  passwordEnv: string | undefined;
  /** Address the nodes use to pull, when it differs from host (the virtual fridge pushes to 127.0.0.1:5000, nodes pull from the gateway). */
  pullHost: string;
}

export interface OptionalServices {
  mosquitto: boolean;
  prometheus: boolean;
  grafana: boolean;
  visualizer: boolean;
  /** The sensor simulator (fridge_services.sensors), publishing to Mosquitto; absent when off. */
  sensors?: SensorSimulator;
}

/** `fridge_services.sensors: true` or `{count, rate}`. */
export interface SensorSimulator {
  /** How many sensors (sensor-0 .. sensor-<count-1>). */
  count: number;
  /** Readings per second, per sensor. */
  rate: number;
}

export interface FlinkSettings {
  version: string;
  /** Host that runs the jobmanager (placement constraint node.hostname == ...); with HA, the first candidate. */
  jobmanagerHost: string;
  /** Every host the jobmanager may run on: [jobmanagerHost] without HA. */
  jobmanagerHosts: string[];
  highAvailability: HighAvailability;
  /** Hosts where taskmanagers must not run. */
  taskmanagerExclude: string[];
  taskmanagerReplicas: number;
  /** At most this many taskmanagers on one host (swarm's max_replicas_per_node); unset = no limit. */
  taskmanagerMaxPerHost?: number;
  slotsPerTaskmanager: number;
  /** Directory for checkpoints/savepoints reachable from every node. */
  stateDir: string;
  /** Extra Flink configuration keys (official key names) merged over the generated profile. */
  properties: Record<string, string | number | boolean>;
}

/**
 * Flink's high availability. zookeeper: a jobmanager on each of the jobmanager hosts, a ZooKeeper ensemble on
 * zookeeperHosts elects the leader, and a standby takes over when its Pi dies, recovering the jobs from the state
 * storage. none: one jobmanager pinned to its host (its loss stops the jobs until it is back).
 */
export type HighAvailability = { kind: 'none' } | { kind: 'zookeeper'; zookeeperHosts: string[] };

/** Node label (yes/no) on every host under HA: where a jobmanager runs. */
export const JOBMANAGER_LABEL = 'jobmanager';

/**
 * What makes fridge_flink_state_dir one directory for every node (checkpoints written by a taskmanager on one Pi
 * are read by a jobmanager on another). sshfs: `server`'s `path`, mounted by every node over SSH (SFTP);
 * external: storage the operator mounted on every node (a NAS), only checked; none: each node's own directory.
 */
export type StateStorage = { kind: 'sshfs'; server: string; path: string } | { kind: 'external' } | { kind: 'none' };

export interface ClusterSettings {
  name: string;
  registry: RegistrySettings;
  platforms: string[];
  flink: FlinkSettings;
  stateStorage: StateStorage;
  network: NetworkSettings;
  services: OptionalServices;
  /** Stack name for docker stack deploy. */
  stackName: string;
  /** 'apt' (distribution packages) or 'get.docker.com' (the seed's way). */
  dockerInstall: 'apt' | 'get.docker.com';
  /** No IPVS (the virtual fridge's kernel): dnsrr endpoints and host-mode ports. */
  dnsrr: boolean;
  /** Operator's public key file for pi-setup's SSH hardening. */
  authorizedKeyFile: string | undefined;
  /** True for an inventory written by the virtual fridge. */
  virtual: boolean;
}

export interface Inventory {
  file: string;
  hosts: HostSpec[];
  /** Group name → member host names (transitive), 'all' included. */
  groups: Record<string, string[]>;
  cluster: ClusterSettings;
}

export interface InventoryProblem {
  pos: SourcePos;
  message: string;
  severity: 'error' | 'warning';
}

export type LoadResult =
  | { ok: true; inventory: Inventory; warnings: InventoryProblem[] }
  | { ok: false; problems: InventoryProblem[] };

export function formatProblem(p: InventoryProblem): string {
  return `${p.pos.file}:${p.pos.line}:${p.pos.col}: ${p.severity}: ${p.message}`;
}

/** Memory per model in MiB. */
export const MODEL_MEMORY_MIB: Record<PiModel, number> = {
  '3B': 1024,
  '3B+': 1024,
  '4-1GB': 1024,
  '4-2GB': 2048,
  '4-4GB': 4096,
  '4-8GB': 8192,
  '5-2GB': 2048,
  '5-4GB': 4096,
  '5-8GB': 8192,
  '5-16GB': 16384,
  virtual: 1024,
};

export function managers(inv: Inventory): HostSpec[] {
  return inv.hosts.filter((h) => h.role === 'manager');
}

export function leader(inv: Inventory): HostSpec {
  const m = managers(inv)[0];
  if (!m) throw new Error('bug: validated inventory has no manager');
  return m;
}
