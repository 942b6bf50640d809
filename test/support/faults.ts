// Pulling a plug on the virtual fridge and watching what the user of the job sees: shared by
// test/integration/60-faults.test.ts (once) and test/bench/fault-figures.ts (rounds, with min/median/max).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { readingsCheck, type ReadingsCheck } from '../../tasks/lib/flink/example-job.ts';
import type { FlinkRest, JobSummary } from '../../tasks/lib/flink/rest.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { until } from './sim-leader.ts';

export function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The example job with every task running. */
export async function runningJob(rest: FlinkRest): Promise<JobSummary | undefined> {
  const jobs = await rest.jobs();
  return jobs.ok ? jobs.value.find((j) => j.state === 'RUNNING' && j.name.startsWith('sensor-window') && (j.tasks?.total ?? 0) > 0 && j.tasks?.running === j.tasks?.total) : undefined;
}

export async function readings(rest: FlinkRest, jid: string): Promise<ReadingsCheck | undefined> {
  const r = await readingsCheck(rest, jid);
  return r.ok && r.value && r.value.total > 0 ? r.value : undefined;
}

/** The addresses of the job's subtasks' taskmanagers, as Flink's REST API gives them. */
export async function taskAddresses(rest: FlinkRest, jid: string): Promise<string[]> {
  const base = rest.baseUrl;
  const job = (await (await fetch(`${base}/jobs/${jid}`)).json()) as { vertices: Array<{ id: string }> };
  const out = new Set<string>();
  for (const v of job.vertices) {
    const detail = (await (await fetch(`${base}/jobs/${jid}/vertices/${v.id}`)).json()) as { subtasks: Array<{ endpoint?: string; host?: string }> };
    for (const s of detail.subtasks) out.add((s.endpoint ?? s.host ?? '').replace(/:\d+$/, ''));
  }
  return [...out].filter(Boolean);
}

/**
 * Which node runs the taskmanager Flink knows by this address: its container's name on the stack network
 * (`flink_taskmanager.1.<task>.flink_flink`, swarm's DNS name for the task) or its IP address. Each node's own
 * dockerd knows its containers.
 */
export function nodeWith(inv: Inventory, address: string): string | undefined {
  for (const h of inv.hosts) {
    // A node that is off (the one just killed) runs nothing.
    if (docker(['inspect', '--format', '{{.State.Running}}', containerName(h.name)]).trim() !== 'true') continue;
    const lines = docker(['exec', containerName(h.name), 'docker', 'ps', '--filter', `name=${inv.cluster.stackName}_taskmanager`, '--format', '{{.Names}}']).split('\n').filter(Boolean);
    if (lines.length === 0) continue;
    if (lines.some((name) => address === name || address.startsWith(`${name}.`))) return h.name;
    const ips = docker(['exec', containerName(h.name), 'docker', 'inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', ...lines]);
    if (ips.split(/\s+/).includes(address)) return h.name;
  }
  return undefined;
}

export interface TaskmanagerLoss {
  victim: string;
  /** Power-off → the job RUNNING again (all tasks) after a restore from its checkpoint. */
  recoveredMs: number;
  /** Where its tasks run afterwards. */
  nowOn: string | undefined;
  before: ReadingsCheck;
  after: ReadingsCheck;
}

/**
 * Kills (power-off: `docker kill`, no goodbye on the network) the node whose taskmanager runs the example job's
 * first subtask, and waits for Flink to run the job again from its last checkpoint and for its counts to move past
 * the ones before. Leaves the node off.
 */
export async function loseTaskmanagerNode(inv: Inventory, rest: FlinkRest): Promise<TaskmanagerLoss> {
  const job = await until('the running example job', 120_000, () => runningJob(rest));
  await until('a completed checkpoint', 120_000, async () => {
    const c = await rest.checkpointCounts(job.jid);
    return c.ok && c.value.completed > 0 ? c.value : undefined;
  });
  const before = await until("the job's counts", 60_000, () => readings(rest, job.jid));
  const restoredBefore = await rest.checkpointCounts(job.jid);
  if (!restoredBefore.ok) throw new Error(`checkpoint counts: ${restoredBefore.message}`);
  const addresses = await taskAddresses(rest, job.jid);
  const victim = nodeWith(inv, addresses[0] ?? '');
  if (!victim) throw new Error(`no node runs the taskmanager at ${addresses.join(', ') || '(no subtask address)'}`);
  if (inv.cluster.flink.jobmanagerHosts.includes(victim)) throw new Error(`the job's taskmanager runs on the jobmanager's node ${victim}`);

  const killed = Date.now();
  docker(['kill', containerName(victim)]);
  await until(
    'the job running again from a checkpoint',
    300_000,
    async () => {
      const c = await rest.checkpointCounts(job.jid);
      const restored = c.ok && c.value.restored > restoredBefore.value.restored;
      return restored && (await runningJob(rest))?.jid === job.jid ? true : undefined;
    },
    250,
  );
  const recoveredMs = Date.now() - killed;
  const nowOn = nodeWith(inv, (await taskAddresses(rest, job.jid))[0] ?? '');
  const after = await until('counts past the ones before the fault', 120_000, async () => {
    const c = await readings(rest, job.jid);
    return c && c.highestSeq > before.highestSeq ? c : undefined;
  });
  return { victim, recoveredMs, nowOn, before, after };
}

/** The stack's jobmanager containers on a node, as its own dockerd lists them. */
function jobmanagerContainers(inv: Inventory, node: string): string[] {
  return docker(['exec', containerName(node), 'docker', 'ps', '-q', '--filter', `name=${inv.cluster.stackName}_jobmanager`]).split('\n').filter(Boolean);
}

/**
 * The node whose jobmanager leads, under high availability: the one whose log says it was granted the
 * dispatcher's leadership last and has not had it revoked since (each node's own dockerd knows its containers).
 */
export function leadingJobmanagerNode(inv: Inventory): string | undefined {
  for (const name of inv.cluster.flink.jobmanagerHosts) {
    if (docker(['inspect', '--format', '{{.State.Running}}', containerName(name)]).trim() !== 'true') continue;
    for (const id of jobmanagerContainers(inv, name)) {
      const log = execFileSync('docker', ['exec', containerName(name), 'docker', 'logs', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
      const lines = log.split('\n').filter((l) => /DefaultDispatcherRunner/.test(l) && /(granted|revoked) leadership/.test(l));
      if (lines.at(-1)?.includes('granted leadership')) return name;
    }
  }
  return undefined;
}

export interface JobmanagerLoss {
  victim: string;
  /** Power-off → the job RUNNING again (all tasks) from a checkpoint at least as new as the last one before. */
  recoveredMs: number;
  /** The node whose jobmanager leads afterwards. */
  leader: string | undefined;
  sameJob: boolean;
  before: ReadingsCheck;
  after: ReadingsCheck;
}

/** Kills the container of the node's jobmanager (a crash of its JVM, the Pi stays up). */
function crashJobmanager(inv: Inventory, node: string): void {
  for (const id of jobmanagerContainers(inv, node)) docker(['exec', containerName(node), 'docker', 'kill', id]);
}

/**
 * Kills the node of the leading jobmanager and waits for a standby to run the job again from its checkpoint. When
 * the leader runs on a node in `spare` (the state storage's server, whose loss no jobmanager outlives), its
 * jobmanager crashes first, so that the one on another node leads when the plug is pulled.
 */
export async function loseJobmanagerNode(inv: Inventory, rest: FlinkRest, spare: readonly string[] = []): Promise<JobmanagerLoss> {
  let leader = await until('the leading jobmanager', 120_000, async () => leadingJobmanagerNode(inv));
  if (spare.includes(leader)) {
    const crashed = leader;
    crashJobmanager(inv, crashed);
    leader = await until(`a jobmanager leading instead of ${crashed}'s`, 180_000, async () => {
      const now = leadingJobmanagerNode(inv);
      return now && now !== crashed ? now : undefined;
    });
  }
  const job = await until('the running example job', 180_000, () => runningJob(rest));
  const completed = await until('a completed checkpoint', 120_000, async () => {
    const c = await rest.checkpointCounts(job.jid);
    return c.ok && c.value.lastCompleted ? c.value.lastCompleted : undefined;
  });
  const before = await until("the job's counts", 60_000, () => readings(rest, job.jid));
  const victim = leader;

  const killed = Date.now();
  docker(['kill', containerName(victim)]);
  const back = await until(
    'the job running again from its checkpoint under a new leader',
    300_000,
    async () => {
      const running = await runningJob(rest);
      if (!running) return undefined;
      const c = await rest.checkpointCounts(running.jid);
      return c.ok && c.value.lastRestoredId !== undefined && c.value.lastRestoredId >= completed.id ? running : undefined;
    },
    250,
  );
  const recoveredMs = Date.now() - killed;
  const after = await until('counts past the ones before the fault', 120_000, async () => {
    const c = await readings(rest, back.jid);
    return c && c.highestSeq > before.highestSeq ? c : undefined;
  });
  return { victim, recoveredMs, leader: leadingJobmanagerNode(inv), sameJob: back.jid === job.jid, before, after };
}

type InventoryDoc = { all: { vars: Record<string, unknown>; children: Record<string, { hosts: Record<string, unknown> }> } };

/** The virtual fridge's inventory changed as a user would change theirs, written beside it under `name`. */
function writeVariant(name: string, why: string, change: (doc: InventoryDoc) => void): string {
  const doc = parse(readFileSync(SIM_PATHS.inventory, 'utf8')) as InventoryDoc;
  change(doc);
  const file = path.join(path.dirname(SIM_PATHS.inventory), name);
  writeFileSync(file, `# The virtual fridge ${why} (test/support/faults.ts).\n${stringify(doc, { lineWidth: 0 })}`);
  return file;
}

/**
 * With Flink's high availability: standbys on pi4 and pi1, the ZooKeeper servers on the taskmanagers' Pis, which
 * then hold one taskmanager each (a 1 GiB Pi has no room for a ZooKeeper server and two).
 */
export function writeHaInventory(): string {
  return writeVariant('inventory-ha.yaml', "with Flink's high availability", (doc) => {
    doc.all.vars['fridge_flink_high_availability'] = { type: 'zookeeper', jobmanager_hosts: ['pi4', 'pi1'], zookeeper_hosts: ['pi2', 'pi3', 'pi5'] };
    doc.all.vars['fridge_flink_taskmanager_max_per_host'] = 1;
  });
}
