// Flink's configuration, generated from the inventory in TypeScript (never by a JVM in the image build:
// Temurin fails under QEMU on arm/v7). One file serves the whole cluster: the JobManager reads the
// jobmanager.* keys sized for its host, every TaskManager the taskmanager.* keys sized for the smallest
// host that runs TaskManagers. jobmanager.rpc.address comes from the container's environment at start.

import { stringify } from 'yaml';
import type { Inventory } from '../inventory/types.ts';
import { ZOOKEEPER } from '../stack/zookeeper.ts';
import {
  checkMemory,
  jobManagerKeys,
  osReserveMiB,
  processBudget,
  sizeJobManager,
  sizeTaskManager,
  taskManagerKeys,
  type HostShare,
  type JobManagerMemory,
  type MemoryProblem,
  type TaskManagerMemory,
} from './memory.ts';

export type FlinkValue = string | number | boolean;

export interface FlinkProfile {
  version: string;
  /** The host that runs the JobManager (and maybe TaskManagers). */
  jobmanagerHost: HostShare;
  /** The host with the least memory per TaskManager: all TaskManagers share one configuration. */
  taskmanagerHost: HostShare;
  slots: number;
  /** fridge_flink_state_dir: checkpoints and savepoints go below it. */
  stateDir: string;
  /** fridge_flink_properties, merged last. */
  properties: Record<string, FlinkValue>;
  /** Memory kept for the OS per host; default osReserveMiB(). */
  reserveMiB?: number;
}

export interface FlinkConfig {
  fileName: 'config.yaml' | 'flink-conf.yaml';
  text: string;
  /** The same configuration as flat keys, in file order. */
  properties: Record<string, string>;
  jobmanager: JobManagerMemory;
  taskmanager: TaskManagerMemory;
}

export type FlinkConfigResult = { ok: true; config: FlinkConfig } | { ok: false; problems: MemoryProblem[] };

export const REST_PORT = 8081;
export const PROMETHEUS_PORT = 9249;
export const RPC_PORT = 6123;
export const TASKMANAGER_RPC_PORT = 6122;
export const BLOB_PORT = 6124;

/** Java 17 module opens Flink's own default configuration ships (Kryo, Pekko and the table planner need them). */
const JAVA17_OPTS = [
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED',
  '--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED',
  '--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  ...['java.lang', 'java.net', 'java.io', 'java.nio', 'sun.nio.ch', 'java.lang.reflect', 'java.text', 'java.time', 'java.util', 'java.util.concurrent', 'java.util.concurrent.atomic', 'java.util.concurrent.locks'].map(
    (p) => `--add-opens=java.base/${p}=ALL-UNNAMED`,
  ),
].join(' ');

const JOBMANAGER_JIT = '-XX:TieredStopAtLevel=1';

/** DNS cache times for a swarm (docker/java.security, baked into the image); a JRE without the file ignores it. */
export const FRIDGE_JAVA_SECURITY = '/opt/flink/conf/fridge-java.security';

/** [major, minor] of "2.3.0" / "1.20.3". */
export function flinkVersion(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`bug: unvalidated Flink version ${version}`);
  return [Number(m[1]), Number(m[2])];
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = flinkVersion(version);
  return a > major || (a === major && b >= minor);
}

/** The keys whose name changed between the versions we support. */
export function versionKeys(version: string): { file: FlinkConfig['fileName']; checkpointDir: string; savepointDir: string; stateBackend: string; javaOpts: string } {
  const v2 = atLeast(version, 2, 0);
  return {
    file: atLeast(version, 1, 19) ? 'config.yaml' : 'flink-conf.yaml',
    checkpointDir: v2 ? 'execution.checkpointing.dir' : 'state.checkpoints.dir',
    savepointDir: v2 ? 'execution.checkpointing.savepoint-dir' : 'state.savepoints.dir',
    stateBackend: atLeast(version, 1, 17) ? 'state.backend.type' : 'state.backend',
    javaOpts: atLeast(version, 1, 18) ? 'env.java.opts.all' : 'env.java.opts',
  };
}

export function generateFlinkConfig(profile: FlinkProfile): FlinkConfigResult {
  const reserve = (h: HostShare): number => profile.reserveMiB ?? osReserveMiB(h.memoryMiB);
  const jmBudget = processBudget(profile.jobmanagerHost, reserve(profile.jobmanagerHost)).jobmanagerMiB;
  const tmBudget = processBudget(profile.taskmanagerHost, reserve(profile.taskmanagerHost)).taskmanagerMiB;
  const jm = sizeJobManager(jmBudget);
  const tm = sizeTaskManager(tmBudget);
  const keys = versionKeys(profile.version);
  const state = profile.stateDir.replace(/\/+$/, '');

  const props: Record<string, FlinkValue> = {
    'jobmanager.rpc.address': 'jobmanager',
    'jobmanager.rpc.port': RPC_PORT,
    'jobmanager.bind-host': '0.0.0.0',
    'taskmanager.bind-host': '0.0.0.0',
    'taskmanager.rpc.port': TASKMANAGER_RPC_PORT,
    'blob.server.port': BLOB_PORT,
    'rest.address': 'jobmanager',
    'rest.bind-address': '0.0.0.0',
    'rest.port': REST_PORT,
    'taskmanager.numberOfTaskSlots': profile.slots,
    'parallelism.default': 1,
    'jobmanager.execution.failover-strategy': 'region',
    // A Pi that loses power answers nothing: Flink's defaults (a heartbeat every 10 s, 50 s without one) keep a job
    // down for most of a minute. On a LAN of Pis a heartbeat every 2 s and 8 s of silence find a dead node in
    // seconds (two heartbeats that cannot be delivered end it sooner) while a GC pause of a 1 GiB JVM stays far below.
    'heartbeat.interval': 2000,
    'heartbeat.timeout': 8000,
    // A checkpoint that cannot be written (the state storage's Pi is down) must not stop a job that runs: Flink's
    // default (0 tolerated) would fail it over and then find no state to restore. It keeps running; its checkpoint
    // history, log and `status` (the last completed checkpoint's age) say what fails.
    'execution.checkpointing.tolerable-failed-checkpoints': 2147483647,
    ...jobManagerKeys(jm),
    ...taskManagerKeys(tm),
    [keys.stateBackend]: 'hashmap',
    [keys.checkpointDir]: `file://${state}/checkpoints`,
    [keys.savepointDir]: `file://${state}/savepoints`,
    // A job that cannot take a savepoint (its tasks are not running) is cancelled before a stack update;
    // its last checkpoint must outlive the cancel for it to resume from.
    'execution.checkpointing.externalized-checkpoint-retention': 'RETAIN_ON_CANCELLATION',
    'metrics.reporters': 'prom',
    'metrics.reporter.prom.factory.class': 'org.apache.flink.metrics.prometheus.PrometheusReporterFactory',
    'metrics.reporter.prom.port': PROMETHEUS_PORT,
    [keys.javaOpts]: `${JAVA17_OPTS} -Djava.security.properties=${FRIDGE_JAVA_SECURITY}`,
    // The JobManager coordinates and runs no operator code: the C1 compiler alone brings its REST API up
    // seconds sooner on a Pi's CPU (which a redeploy's job downtime waits for) and spares C2's memory.
    // TaskManagers run the job and keep the full JIT.
    'env.java.opts.jobmanager': JOBMANAGER_JIT,
    ...profile.properties,
  };

  const problems = checkMemory(props, profile.jobmanagerHost, profile.taskmanagerHost, Number(props['taskmanager.numberOfTaskSlots']), reserve);
  if (problems.length > 0) return { ok: false, problems };
  const flat = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, String(v)]));
  const text = keys.file === 'config.yaml' ? renderNestedYaml(props) : renderLegacy(props);
  return { ok: true, config: { fileName: keys.file, text, properties: flat, jobmanager: jm, taskmanager: tm } };
}

/** One line per refusal, naming component, need and what the Pi has. */
export function formatConfigProblems(problems: MemoryProblem[]): string {
  return problems.map((p) => `refused: ${p.message}`).join('\n');
}

type Tree = { [key: string]: Tree | FlinkValue };

/**
 * Flink ≥ 1.19's standard YAML, nested. A key that is both a value and a prefix of another key (e.g.
 * env.java.opts and env.java.opts.all) stays flat at the top, which Flink's parser accepts;
 * env.java.home must be flat because bin/config.sh reads it with sed before any JVM runs.
 */
export function renderNestedYaml(props: Record<string, FlinkValue>): string {
  const keys = Object.keys(props);
  const isPrefix = (k: string): boolean => keys.some((o) => o.startsWith(`${k}.`));
  const flat: Record<string, FlinkValue> = {};
  const tree: Tree = {};
  for (const [key, value] of Object.entries(props)) {
    const parts = key.split('.');
    const clash = key === 'env.java.home' || isPrefix(key) || parts.some((_, i) => i > 0 && keys.includes(parts.slice(0, i).join('.')));
    if (clash) {
      flat[key] = value;
      continue;
    }
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next === 'object') node = next;
      else node = node[part] = {};
    }
    node[parts[parts.length - 1] as string] = value;
  }
  const header = '# Generated by Fridge (tasks/lib/flink/config.ts) from the inventory; edits are overwritten.\n';
  const body = stringify(tree, { lineWidth: 0 });
  return header + body + (Object.keys(flat).length ? stringify(flat, { lineWidth: 0 }) : '');
}

/** flink-conf.yaml before 1.19: one `key: value` per line, read by Flink's own line parser (no YAML quoting). */
export function renderLegacy(props: Record<string, FlinkValue>): string {
  return Object.entries(props)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join('\n')
    .concat('\n');
}

/** Flat `key: value` YAML: what FLINK_PROPERTIES carries and the image's default config uses. */
export function renderFlatYaml(props: Record<string, FlinkValue>): string {
  return stringify(Object.fromEntries(Object.entries(props)), { lineWidth: 0 });
}

/** The cluster's profile: the JobManager's host, and the host with the least memory per TaskManager. */
export function profileFromInventory(inv: Inventory): FlinkProfile {
  const f = inv.cluster.flink;
  const tmHosts = inv.hosts.filter((h) => !f.taskmanagerExclude.includes(h.name));
  // Sized for the most taskmanagers a Pi may hold (fridge_flink_taskmanager_max_per_host), so `scale` can go up to
  // that without a new memory profile; without the setting, for the replicas spread evenly.
  const perHost = f.taskmanagerMaxPerHost ?? Math.max(1, Math.ceil(f.taskmanagerReplicas / Math.max(1, tmHosts.length)));
  // A ZooKeeper server's Pi keeps room for it: taskmanagers there get smaller rather than fewer.
  const zookeeper = f.highAvailability.kind === 'zookeeper' ? f.highAvailability.zookeeperHosts : [];
  const share = (name: string, model: string, memoryMiB: number): HostShare => ({
    name,
    model,
    memoryMiB,
    jobmanager: name === f.jobmanagerHost,
    taskmanagers: tmHosts.some((h) => h.name === name) ? perHost : 0,
    ...(zookeeper.includes(name) ? { otherMiB: ZOOKEEPER.memoryMiB } : {}),
  });
  const jmSpec = inv.hosts.find((h) => h.name === f.jobmanagerHost);
  if (!jmSpec) throw new Error(`bug: validated inventory has no host ${f.jobmanagerHost}`);
  const jobmanagerHost = share(jmSpec.name, jmSpec.model, jmSpec.memoryMiB);
  const candidates = tmHosts.map((h) => share(h.name, h.model, h.memoryMiB));
  const tightest = candidates.reduce<HostShare | undefined>((best, h) => {
    if (!best) return h;
    return processBudget(h).taskmanagerMiB < processBudget(best).taskmanagerMiB ? h : best;
  }, undefined);
  return {
    version: f.version,
    jobmanagerHost,
    taskmanagerHost: tightest ?? { ...jobmanagerHost, taskmanagers: perHost },
    slots: f.slotsPerTaskmanager,
    stateDir: f.stateDir,
    properties: f.properties,
  };
}
