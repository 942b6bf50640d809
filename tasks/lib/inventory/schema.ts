// Every variable Fridge understands, with its zod schema and where it may be set.
// Values are validated where they are written (one definition at a time), so each message points at that spot.

import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { PI_MODELS } from './types.ts';

/**
 * cluster: one value for the whole Fridge, only in all.vars.
 * host: may be set in any vars block or on a host; the usual Ansible precedence decides.
 * group: only meaningful in a group's vars.
 */
export type VarScope = 'cluster' | 'host' | 'group';

export interface VarSpec {
  scope: VarScope;
  schema: z.ZodType;
  /** Never echo the value in messages: it may be a secret pasted into the wrong place. */
  sensitive?: boolean;
}

export const PLATFORMS = ['linux/arm/v6', 'linux/arm/v7', 'linux/arm64', 'linux/amd64'] as const;
export const SERVICES = ['mosquitto', 'prometheus', 'grafana', 'visualizer'] as const;

/** fridge_services.sensors: true means these. Ten sensors at 1/s: the example job's own generated default. */
export const SENSOR_DEFAULTS = { count: 10, rate: 1 } as const;
/**
 * The simulator is one Python process on the leader Pi, next to Mosquitto and Prometheus. Measured on x86: 100
 * readings/s cost about 9 % of a core; a Pi 3B core is several times slower, so 200/s in total is already a good
 * part of one of its four cores, and the job's MQTT source reads at parallelism 1.
 */
export const SENSOR_LIMITS = { count: 100, minRate: 0.1, rate: 50, total: 200 } as const;
export const DOCKER_INSTALL = ['get.docker.com', 'apt'] as const;
/** fridge_state_storage.type: what makes fridge_flink_state_dir the same directory on every node. */
export const STATE_STORAGE = ['sshfs', 'external', 'none'] as const;
/** fridge_flink_high_availability.type: Flink's high-availability.type values Fridge can set up on a swarm. */
export const HIGH_AVAILABILITY = ['none', 'zookeeper'] as const;

/** Node labels Fridge derives from the host (HostSpec.labels). */
export const RESERVED_LABELS = ['model', 'memory', 'role'];

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isHostname(s: string): boolean {
  return HOSTNAME_RE.test(s);
}
export function isHostLabel(s: string): boolean {
  return LABEL_RE.test(s);
}
/** Digits and dots only: meant as an IPv4 address, so validate it as one. */
export function looksLikeIPv4(s: string): boolean {
  return /^[0-9.]+$/.test(s);
}

const ipv4 = z.string({ error: 'expected an IPv4 address such as 192.168.0.104' }).refine(isIPv4, {
  error: 'expected an IPv4 address such as 192.168.0.104 (four numbers 0-255 separated by dots)',
});

const address = z
  .string({ error: 'expected an IPv4 address or a DNS name' })
  .refine((s) => (looksLikeIPv4(s) ? isIPv4(s) : isHostname(s)), {
    error: 'expected an IPv4 address (four numbers 0-255) or a DNS name',
  });

const positiveInt = (what: string) =>
  z.number({ error: `expected a positive whole number (${what})` }).int({ error: `expected a positive whole number (${what})` }).positive({
    error: `expected a positive whole number (${what})`,
  });

const bool = z.boolean({ error: 'expected true or false' });

const envName = z
  .string({ error: 'expected the NAME of an environment variable, e.g. FRIDGE_SSH_PASSWORD' })
  .regex(/^[A-Z_][A-Z0-9_]*$/, {
    error: 'expected the NAME of an environment variable (upper-case letters, digits and _), not its value',
  });

const path = z.string({ error: 'expected a file path' }).min(1, { error: 'expected a file path' });

const registryHost = z
  .string({ error: 'expected a registry as host[:port], e.g. docker.io or 10.77.0.1:5000' })
  .refine(
    (s) => {
      const m = /^([^:/]+)(?::(\d{1,5}))?$/.exec(s);
      if (!m) return false;
      const host = m[1] ?? '';
      const port = m[2] === undefined ? 1 : Number(m[2]);
      return (looksLikeIPv4(host) ? isIPv4(host) : isHostname(host)) && port >= 1 && port <= 65535;
    },
    { error: 'expected a registry as host[:port] without scheme or path, e.g. docker.io or 10.77.0.1:5000' },
  );

// Docker's reference grammar for a repository path; the tag comes from the Flink version.
const repository = z
  .string({ error: 'expected an image repository such as digitaljazz/flink-fridge' })
  .regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, {
    error: 'expected an image repository in lower case without tag or registry, such as digitaljazz/flink-fridge',
  });

const flinkVersion = z
  .string({ error: 'expected a Flink version in quotes, such as "2.1.0" (unquoted 2.0 is read as a number)' })
  .regex(/^\d+\.\d+\.\d+$/, { error: 'expected a Flink version as MAJOR.MINOR.PATCH, such as "2.1.0"' });

const hostRef = z.string({ error: 'expected a host name from this inventory' });

type FlinkValue = string | number | boolean;
const flinkScalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean (lists: write one ;-separated string)',
});
interface FlinkTree {
  [key: string]: FlinkValue | FlinkTree;
}
// Flink 2's config.yaml nests keys; both the nested and the dotted spelling are accepted.
const flinkTree: z.ZodType<FlinkTree> = z.lazy(() =>
  z.record(z.string(), z.union([flinkScalar, flinkTree], { error: 'expected a string, number, boolean or a mapping of Flink keys' }), {
    error: 'expected a mapping of official Flink configuration keys to values',
  }),
);

const networkSchema = z.strictObject(
  {
    prefix: z
      .number({ error: 'expected the CIDR prefix length of the LAN, e.g. 24' })
      .int({ error: 'expected the CIDR prefix length of the LAN, e.g. 24' })
      .min(8, { error: 'expected a prefix length between 8 and 30' })
      .max(30, { error: 'expected a prefix length between 8 and 30' })
      .optional(),
    router: ipv4.optional(),
    dns: z.array(ipv4, { error: 'expected a list of IPv4 addresses, e.g. [192.168.0.1]' }).optional(),
    interface: z
      .string({ error: 'expected a network interface name such as eth0' })
      .regex(/^[A-Za-z0-9_.:-]{1,15}$/, { error: 'expected a network interface name such as eth0' })
      .optional(),
  },
  { error: 'expected a mapping with prefix, router, dns and interface' },
);

/** A scalar the messages may echo ("got 1000"); mappings and lists are not repeated back. */
function echo(v: unknown): { input?: unknown } {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? { input: v } : {};
}

/**
 * `true`, `false` or `{count, rate}` (either may be left out). Checked by hand rather than as a zod union, whose
 * failure is one "invalid input" for the whole value: each problem here points at the key that has it.
 */
const sensorsSetting = z.unknown().superRefine((v, ctx) => {
  if (typeof v === 'boolean') return;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: 'expected true, false or a mapping such as {count: 10, rate: 1}', ...echo(v) });
    return;
  }
  const m = v as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    if (key !== 'count' && key !== 'rate') ctx.addIssue({ code: 'custom', path: [key], message: `unknown key "${key}"; expected count (sensors) and rate (readings/s per sensor)` });
  }
  const { count = SENSOR_DEFAULTS.count, rate = SENSOR_DEFAULTS.rate } = m;
  const countOk = typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= SENSOR_LIMITS.count;
  const rateOk = typeof rate === 'number' && Number.isFinite(rate) && rate >= SENSOR_LIMITS.minRate && rate <= SENSOR_LIMITS.rate;
  if (!countOk) ctx.addIssue({ code: 'custom', path: ['count'], message: `expected a whole number of sensors from 1 to ${SENSOR_LIMITS.count}`, ...echo(count) });
  if (!rateOk) ctx.addIssue({ code: 'custom', path: ['rate'], message: `expected readings per second per sensor, from ${SENSOR_LIMITS.minRate} to ${SENSOR_LIMITS.rate}`, ...echo(rate) });
  if (countOk && rateOk && count * rate > SENSOR_LIMITS.total) {
    ctx.addIssue({
      code: 'custom',
      message: `${count} sensors at ${rate}/s are ${count * rate} readings/s; at most ${SENSOR_LIMITS.total} in total (one Python process on the leader Pi)`,
    });
  }
});

const servicesSchema = z
  .strictObject(
    {
      ...(Object.fromEntries(SERVICES.map((s) => [s, bool.optional()])) as Record<(typeof SERVICES)[number], z.ZodOptional<z.ZodBoolean>>),
      sensors: sensorsSetting.optional(),
    },
    { error: `expected a mapping of ${SERVICES.join(', ')} to true or false (and sensors: true or {count, rate})` },
  )
  .superRefine((v, ctx) => {
    // The simulator publishes to the stack's broker: without Mosquitto it would only log connection failures.
    if (v.sensors !== undefined && v.sensors !== false && v.mosquitto !== true) {
      ctx.addIssue({ code: 'custom', path: ['sensors'], message: 'the sensor simulator publishes to Mosquitto: set mosquitto: true as well' });
    }
  });

const absDir = (example: string) =>
  z.string({ error: 'expected an absolute directory path' }).regex(/^\/[^\s:,]*$/, { error: `expected an absolute directory path without spaces, commas or colons, e.g. ${example}` });

const stateStorageSchema = z.strictObject(
  {
    type: z.enum(STATE_STORAGE, {
      error: 'expected sshfs (a Pi of the inventory keeps the state, every node mounts it), external (you mounted shared storage on every node) or none (each node keeps its own: no recovery on another node)',
    }),
    server: hostRef.optional(),
    path: absDir('/srv/fridge-state').optional(),
  },
  { error: 'expected a mapping such as {type: sshfs, server: worker01, path: /srv/fridge-state}' },
);

const highAvailabilitySchema = z.strictObject(
  {
    type: z.enum(HIGH_AVAILABILITY, {
      error: 'expected zookeeper (the jobmanager moves to another Pi when its Pi dies, and recovers the jobs) or none (one jobmanager, pinned)',
    }),
    jobmanager_hosts: z.array(hostRef, { error: 'expected a list of host names' }).min(1, { error: 'expected at least one host' }).optional(),
    zookeeper_hosts: z.array(hostRef, { error: 'expected a list of host names' }).min(1, { error: 'expected at least one host' }).optional(),
  },
  { error: 'expected a mapping such as {type: zookeeper, jobmanager_hosts: [worker04, worker01], zookeeper_hosts: [worker02, worker03, worker05]}' },
);

export const VARS: Record<string, VarSpec> = {
  // Connection (per host, Ansible's own names).
  ansible_host: { scope: 'host', schema: address },
  ansible_port: {
    scope: 'host',
    // Ansible accepts a quoted port too.
    schema: z.preprocess(
      (v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v),
      z
        .number({ error: 'expected a TCP port number' })
        .int({ error: 'expected a TCP port number' })
        .min(1, { error: 'expected a TCP port 1-65535' })
        .max(65535, { error: 'expected a TCP port 1-65535' }),
    ),
  },
  ansible_user: {
    scope: 'host',
    schema: z.string({ error: 'expected a user name' }).regex(/^[a-z_][a-z0-9_-]*$/, { error: 'expected a Linux user name (lower case), e.g. pi' }),
  },
  ansible_ssh_private_key_file: { scope: 'host', schema: path },
  ansible_connection: { scope: 'host', schema: z.enum(['ssh', 'local'], { error: 'expected ssh or local' }) },
  ansible_group_priority: { scope: 'group', schema: z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' }) },
  fridge_ssh_password_env: { scope: 'host', schema: envName, sensitive: true },
  /** A mode-600 file holding the first-login password, when no environment variable is set (the virtual fridge). */
  fridge_ssh_password_file: { scope: 'host', schema: path },
  fridge_model: { scope: 'host', schema: z.enum(PI_MODELS, { error: `expected a Raspberry Pi model, one of ${PI_MODELS.join(', ')}` }) },
  fridge_static_ip: { scope: 'host', schema: ipv4 },
  fridge_labels: {
    scope: 'host',
    schema: z.record(
      z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'expected label names made of letters, digits, . _ -' })
        .refine((k) => !RESERVED_LABELS.includes(k), { error: `${RESERVED_LABELS.join(', ')} are labels Fridge sets itself; choose another name` }),
      z.union([z.string(), z.number(), z.boolean()], { error: 'expected a label value (string, number or boolean)' }),
      { error: 'expected a mapping of swarm node label names to values' },
    ),
  },

  // The cluster as a whole.
  fridge_cluster_name: {
    scope: 'cluster',
    schema: z.string({ error: 'expected a name' }).regex(LABEL_RE, { error: 'expected a name of letters, digits and -' }),
  },
  fridge_authorized_key_file: { scope: 'cluster', schema: path },
  fridge_registry: { scope: 'cluster', schema: registryHost },
  fridge_registry_pull: { scope: 'cluster', schema: registryHost },
  fridge_registry_insecure: { scope: 'cluster', schema: bool },
  fridge_registry_username_env: { scope: 'cluster', schema: envName, sensitive: true },
  fridge_registry_password_env: { scope: 'cluster', schema: envName, sensitive: true },
  fridge_image: { scope: 'cluster', schema: repository },
  fridge_platforms: {
    scope: 'cluster',
    schema: z
      .array(z.enum(PLATFORMS, { error: `expected a platform, one of ${PLATFORMS.join(', ')}` }), { error: 'expected a list of platforms' })
      .min(1, { error: `expected at least one platform (${PLATFORMS.join(', ')})` }),
  },
  fridge_flink_version: { scope: 'cluster', schema: flinkVersion },
  fridge_flink_jobmanager_host: { scope: 'cluster', schema: hostRef },
  fridge_flink_taskmanager_exclude: { scope: 'cluster', schema: z.array(hostRef, { error: 'expected a list of host names' }) },
  fridge_flink_taskmanager_replicas: { scope: 'cluster', schema: positiveInt('how many taskmanagers to run') },
  fridge_flink_taskmanager_max_per_host: { scope: 'cluster', schema: positiveInt('taskmanagers allowed on one host') },
  fridge_flink_slots: { scope: 'cluster', schema: positiveInt('task slots per taskmanager') },
  fridge_flink_state_dir: {
    scope: 'cluster',
    schema: z.string({ error: 'expected an absolute directory path' }).regex(/^\/\S*$/, { error: 'expected an absolute directory path, e.g. /mnt/fridge-state' }),
  },
  fridge_flink_properties: { scope: 'cluster', schema: flinkTree },
  fridge_flink_high_availability: { scope: 'cluster', schema: highAvailabilitySchema },
  fridge_state_storage: { scope: 'cluster', schema: stateStorageSchema },
  fridge_network: { scope: 'cluster', schema: networkSchema },
  fridge_services: { scope: 'cluster', schema: servicesSchema },
  fridge_grafana_admin_password_env: { scope: 'cluster', schema: envName, sensitive: true },
  fridge_stack_name: {
    scope: 'cluster',
    schema: z.string({ error: 'expected a stack name' }).regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { error: 'expected a stack name of letters, digits, _ and -' }),
  },
  fridge_docker_install: { scope: 'cluster', schema: z.enum(DOCKER_INSTALL, { error: `expected one of ${DOCKER_INSTALL.join(', ')}` }) },
  fridge_dnsrr: { scope: 'cluster', schema: bool },
  fridge_virtual: { scope: 'cluster', schema: bool },
};

export const FRIDGE_VARS = Object.keys(VARS).filter((k) => k.startsWith('fridge_'));

/** Variables holding file paths: relative ones are resolved against the inventory's directory. */
export const PATH_VARS = ['ansible_ssh_private_key_file', 'fridge_authorized_key_file', 'fridge_ssh_password_file'];

/** Ansible connection variables Fridge does not use but that are legitimate; a near miss of ours is only a warning. */
export const KNOWN_ANSIBLE_VARS = Object.keys(VARS).filter((k) => k.startsWith('ansible_'));

const SSH_CONFIG_ADVICE =
  'Fridge does not pass extra ssh options; put ProxyJump and other options in ~/.ssh/config (a "Host" entry matching the host\'s ansible_host), which Fridge\'s SSH transport reads';

/**
 * Ansible variables Fridge would otherwise ignore while Ansible acts on them: the host would be reached
 * differently from what the operator wrote, so each is refused with what to do instead.
 */
export const UNSUPPORTED_VARS: Record<string, string> = {
  ansible_ssh_host: 'the pre-2.0 name of ansible_host, which Fridge does not read: write ansible_host',
  ansible_ssh_port: 'the pre-2.0 name of ansible_port, which Fridge does not read: write ansible_port',
  ansible_ssh_user: 'the pre-2.0 name of ansible_user, which Fridge does not read: write ansible_user',
  ansible_ssh_common_args: SSH_CONFIG_ADVICE,
  ansible_ssh_extra_args: SSH_CONFIG_ADVICE,
  ansible_ssh_args: SSH_CONFIG_ADVICE,
};

/** Literal secrets and where their value belongs instead. */
const SECRET_ADVICE: Record<string, string> = {
  ansible_password: 'fridge_ssh_password_env',
  ansible_ssh_pass: 'fridge_ssh_password_env',
  ansible_ssh_password: 'fridge_ssh_password_env',
  ansible_become_password: 'fridge_ssh_password_env',
  ansible_become_pass: 'fridge_ssh_password_env',
  ansible_sudo_pass: 'fridge_ssh_password_env',
  fridge_ssh_password: 'fridge_ssh_password_env',
  fridge_registry_password: 'fridge_registry_password_env',
  fridge_registry_token: 'fridge_registry_password_env',
  fridge_grafana_admin_password: 'fridge_grafana_admin_password_env',
  grafana_admin_password: 'fridge_grafana_admin_password_env',
};

/** Where to put the secret instead, or undefined when the name is not a secret's. */
export function secretAdvice(name: string): string | undefined {
  const advice = SECRET_ADVICE[name];
  if (advice === 'fridge_ssh_password_env') return 'name an environment variable that holds it in fridge_ssh_password_env (or a mode-600 file in fridge_ssh_password_file) instead';
  if (advice) return `name an environment variable that holds it in ${advice} instead`;
  if (/(pass|password|passwd|token|secret|api_key)$/i.test(name)) return 'keep it in an environment variable or a file and set a variable holding that name instead';
  return undefined;
}

export type FlinkProperties = Record<string, FlinkValue>;

/** Nested Flink keys flattened to the dotted names Flink documents. */
export function flattenFlink(tree: FlinkTree, prefix = ''): FlinkProperties {
  const out: FlinkProperties = {};
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object') Object.assign(out, flattenFlink(v, key));
    else out[key] = v;
  }
  return out;
}
