// Sizes every component of Flink's memory model explicitly, so a JobManager and TaskManagers fit a 1 GiB
// Pi 3B. Flink's defaults (256 MiB metaspace, 192 MiB overhead minimum, 128 MiB framework heap/off-heap ...)
// put a TaskManager at about 1 GiB on its own. Pure arithmetic; checkMemory mirrors Flink's own
// derivation (TaskExecutorFlinkMemoryUtils, JobManagerFlinkMemoryUtils) on the final, merged keys so that a
// configuration that does not fit is refused here, with the component named, before Flink sees it.

/** Measured idle metaspace: JobManager about 43 MiB, TaskManager about 36 MiB (Flink 2.3, Java 17). */
const MIN_METASPACE_MIB = 64;
/** Below this the JobManager logs heap warnings and a few submitted jobs exhaust it. */
export const MIN_JM_HEAP_MIB = 128;
/** Per slot: what a small streaming operator chain needs on the heap. */
export const MIN_TASK_HEAP_PER_SLOT_MIB = 32;
export const MIN_TASK_HEAP_MIB = 64;
/** Flink's minimum: the network stack needs a few buffers per channel. */
const MIN_NETWORK_MIB = 32;
/** A JobManager has nothing to gain from more on a Pi. */
const JM_CAP_MIB = 1600;

export interface HostShare {
  name: string;
  model: string;
  memoryMiB: number;
  jobmanager: boolean;
  taskmanagers: number;
  /** Memory of the other containers pinned to the host (a ZooKeeper server), beside the OS reserve. */
  otherMiB?: number;
}

export interface JobManagerMemory {
  processMiB: number;
  metaspaceMiB: number;
  overheadMiB: number;
  offHeapMiB: number;
  /** Derived by Flink as the remainder; stated here for the checks and the report. */
  heapMiB: number;
}

export interface TaskManagerMemory {
  processMiB: number;
  metaspaceMiB: number;
  overheadMiB: number;
  frameworkHeapMiB: number;
  frameworkOffHeapMiB: number;
  taskOffHeapMiB: number;
  networkMiB: number;
  managedMiB: number;
  /** Derived by Flink as the remainder. */
  taskHeapMiB: number;
}

export interface MemoryProblem {
  component: string;
  host: string;
  neededMiB: number;
  availableMiB: number;
  message: string;
}

/** Kept for the OS, dockerd and the swarm agent: a quarter of a 1 GiB Pi, up to 768 MiB on big ones. */
export function osReserveMiB(memoryMiB: number): number {
  return clamp(Math.round(128 + memoryMiB / 8), 256, 768);
}

const floor16 = (n: number): number => Math.floor(n / 16) * 16;
const round16 = (n: number): number => Math.round(n / 16) * 16;
function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** Process sizes for the Flink JVMs on one host: the JobManager takes a share, TaskManagers split the rest. */
export function processBudget(host: HostShare, reserveMiB = osReserveMiB(host.memoryMiB)): { jobmanagerMiB: number; taskmanagerMiB: number; usableMiB: number } {
  const usable = host.memoryMiB - reserveMiB - (host.otherMiB ?? 0);
  if (!host.jobmanager) return { jobmanagerMiB: 0, taskmanagerMiB: host.taskmanagers > 0 ? floor16(usable / host.taskmanagers) : 0, usableMiB: usable };
  if (host.taskmanagers === 0) return { jobmanagerMiB: floor16(Math.min(usable, JM_CAP_MIB)), taskmanagerMiB: 0, usableMiB: usable };
  const jm = floor16(clamp(usable * 0.35, 320, 1024));
  return { jobmanagerMiB: jm, taskmanagerMiB: floor16((usable - jm) / host.taskmanagers), usableMiB: usable };
}

export function sizeJobManager(processMiB: number): JobManagerMemory {
  const metaspaceMiB = processMiB < 768 ? 96 : processMiB < 1536 ? 128 : 256;
  const overheadMiB = round16(clamp(processMiB * 0.1, 48, 512));
  const offHeapMiB = processMiB < 768 ? 32 : processMiB < 1536 ? 64 : 128;
  return { processMiB, metaspaceMiB, overheadMiB, offHeapMiB, heapMiB: processMiB - metaspaceMiB - overheadMiB - offHeapMiB };
}

export function sizeTaskManager(processMiB: number): TaskManagerMemory {
  const metaspaceMiB = processMiB < 768 ? 96 : processMiB < 2048 ? 128 : 256;
  const overheadMiB = round16(clamp(processMiB * 0.1, 48, 1024));
  const flink = processMiB - metaspaceMiB - overheadMiB;
  const framework = flink < 768 ? 32 : flink < 2048 ? 64 : 128;
  const networkMiB = round16(clamp(flink * 0.1, MIN_NETWORK_MIB, 1024));
  // The hashmap state backend (RocksDB has no 32-bit ARM build) keeps state on the heap: managed memory
  // only serves batch operators and Python, so small Pis give it little.
  const managedMiB = round16(flink * (flink < 1024 ? 0.15 : 0.3));
  const taskHeapMiB = flink - 2 * framework - networkMiB - managedMiB;
  return {
    processMiB,
    metaspaceMiB,
    overheadMiB,
    frameworkHeapMiB: framework,
    frameworkOffHeapMiB: framework,
    taskOffHeapMiB: 0,
    networkMiB,
    managedMiB,
    taskHeapMiB,
  };
}

export function jobManagerKeys(m: JobManagerMemory): Record<string, string> {
  return {
    'jobmanager.memory.process.size': `${m.processMiB}m`,
    'jobmanager.memory.jvm-metaspace.size': `${m.metaspaceMiB}m`,
    'jobmanager.memory.jvm-overhead.min': `${m.overheadMiB}m`,
    'jobmanager.memory.jvm-overhead.max': `${m.overheadMiB}m`,
    'jobmanager.memory.off-heap.size': `${m.offHeapMiB}m`,
  };
}

export function taskManagerKeys(m: TaskManagerMemory): Record<string, string> {
  return {
    'taskmanager.memory.process.size': `${m.processMiB}m`,
    'taskmanager.memory.jvm-metaspace.size': `${m.metaspaceMiB}m`,
    'taskmanager.memory.jvm-overhead.min': `${m.overheadMiB}m`,
    'taskmanager.memory.jvm-overhead.max': `${m.overheadMiB}m`,
    'taskmanager.memory.framework.heap.size': `${m.frameworkHeapMiB}m`,
    'taskmanager.memory.framework.off-heap.size': `${m.frameworkOffHeapMiB}m`,
    'taskmanager.memory.task.off-heap.size': `${m.taskOffHeapMiB}m`,
    'taskmanager.memory.network.min': `${m.networkMiB}m`,
    'taskmanager.memory.network.max': `${m.networkMiB}m`,
    'taskmanager.memory.managed.size': `${m.managedMiB}m`,
  };
}

const UNIT_MIB: Record<string, number> = {
  '': 1 / 1048576, b: 1 / 1048576, bytes: 1 / 1048576,
  k: 1 / 1024, kb: 1 / 1024, kib: 1 / 1024, kibibytes: 1 / 1024,
  m: 1, mb: 1, mib: 1, mebibytes: 1,
  g: 1024, gb: 1024, gib: 1024, gibibytes: 1024,
  t: 1048576, tb: 1048576, tib: 1048576, tebibytes: 1048576,
};

/** Flink's MemorySize syntax ("1600m", "1 gb", bytes as a bare number) in MiB; undefined when unreadable. */
export function parseMemoryMiB(value: string | number | boolean | undefined): number | undefined {
  if (typeof value === 'number') return value / 1048576;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const factor = m ? UNIT_MIB[(m[2] ?? '').toLowerCase()] : undefined;
  return m && factor !== undefined ? Number(m[1]) * factor : undefined;
}

type Props = Record<string, string | number | boolean>;

/**
 * Re-derives both processes from the final keys the way Flink does (process size given, overhead
 * clamped to [min, max], heap as the remainder) and checks the result against the hosts that run them.
 */
export function checkMemory(props: Props, jmHost: HostShare, tmHost: HostShare, slots: number, reserve: (h: HostShare) => number = (h) => osReserveMiB(h.memoryMiB)): MemoryProblem[] {
  const problems: MemoryProblem[] = [];
  const mib = (k: string, dflt: number): number => parseMemoryMiB(props[k]) ?? dflt;
  const fraction = (k: string, dflt: number): number => (props[k] === undefined ? dflt : Number(props[k]));
  const need = (host: HostShare, component: string, neededMiB: number, availableMiB: number, why: string): void => {
    if (neededMiB > availableMiB)
      problems.push({ component, host: host.name, neededMiB, availableMiB, message: `${host.name} (${host.model}, ${host.memoryMiB} MiB): ${component} needs ${Math.round(neededMiB)} MiB but ${why} leaves ${Math.round(availableMiB)} MiB` });
  };
  const overhead = (prefix: string, process: number): number =>
    clamp(process * fraction(`${prefix}.memory.jvm-overhead.fraction`, 0.1), mib(`${prefix}.memory.jvm-overhead.min`, 192), mib(`${prefix}.memory.jvm-overhead.max`, 1024));

  const jmProcess = parseMemoryMiB(props['jobmanager.memory.process.size']);
  const tmProcess = parseMemoryMiB(props['taskmanager.memory.process.size']);
  if (jmProcess === undefined) problems.push({ component: 'jobmanager.memory.process.size', host: jmHost.name, neededMiB: 0, availableMiB: 0, message: 'jobmanager.memory.process.size is missing or unreadable' });
  if (tmProcess === undefined) problems.push({ component: 'taskmanager.memory.process.size', host: tmHost.name, neededMiB: 0, availableMiB: 0, message: 'taskmanager.memory.process.size is missing or unreadable' });
  if (jmProcess === undefined || tmProcess === undefined) return problems;

  const jmFixed = mib('jobmanager.memory.jvm-metaspace.size', 256) + overhead('jobmanager', jmProcess);
  need(jmHost, 'JobManager JVM metaspace + overhead', jmFixed, jmProcess, `jobmanager.memory.process.size ${jmProcess} MiB`);
  const jmHeap = jmProcess - jmFixed - mib('jobmanager.memory.off-heap.size', 128);
  need(jmHost, 'JobManager heap', MIN_JM_HEAP_MIB, jmHeap, `jobmanager.memory.process.size ${jmProcess} MiB after metaspace, overhead and off-heap`);

  const tmFixed = mib('taskmanager.memory.jvm-metaspace.size', 256) + overhead('taskmanager', tmProcess);
  need(tmHost, 'TaskManager JVM metaspace + overhead', tmFixed, tmProcess, `taskmanager.memory.process.size ${tmProcess} MiB`);
  const flink = tmProcess - tmFixed;
  const managed = props['taskmanager.memory.managed.size'] !== undefined ? mib('taskmanager.memory.managed.size', 0) : flink * fraction('taskmanager.memory.managed.fraction', 0.4);
  const network = clamp(flink * fraction('taskmanager.memory.network.fraction', 0.1), mib('taskmanager.memory.network.min', 64), mib('taskmanager.memory.network.max', Number.MAX_SAFE_INTEGER));
  const taskHeap =
    flink - mib('taskmanager.memory.framework.heap.size', 128) - mib('taskmanager.memory.framework.off-heap.size', 128) - mib('taskmanager.memory.task.off-heap.size', 0) - managed - network;
  const heapNeeded = Math.max(MIN_TASK_HEAP_MIB, MIN_TASK_HEAP_PER_SLOT_MIB * slots);
  need(tmHost, `TaskManager task heap for ${slots} slot(s)`, heapNeeded, taskHeap, `taskmanager.memory.process.size ${tmProcess} MiB after metaspace, overhead, framework, network and managed memory`);
  need(tmHost, 'TaskManager JVM metaspace', MIN_METASPACE_MIB, mib('taskmanager.memory.jvm-metaspace.size', 256), 'taskmanager.memory.jvm-metaspace.size');
  need(jmHost, 'JobManager JVM metaspace', MIN_METASPACE_MIB, mib('jobmanager.memory.jvm-metaspace.size', 256), 'jobmanager.memory.jvm-metaspace.size');

  // Every JVM placed on a host must fit next to the OS reserve.
  for (const host of jmHost.name === tmHost.name ? [jmHost] : [jmHost, tmHost]) {
    const total = (host.jobmanager ? jmProcess : 0) + host.taskmanagers * tmProcess;
    const parts = [host.jobmanager ? `JobManager ${jmProcess} MiB` : '', host.taskmanagers ? `${host.taskmanagers} TaskManager(s) × ${tmProcess} MiB` : ''].filter(Boolean).join(' + ');
    const other = host.otherMiB ?? 0;
    need(host, parts, total, host.memoryMiB - reserve(host) - other, other ? `the ${reserve(host)} MiB kept for the OS and ${other} MiB for ZooKeeper` : `the ${reserve(host)} MiB kept for the OS`);
  }
  return problems;
}
