// Pulling a plug on the virtual fridge and watching what the user of the job sees: shared by
// test/integration/60-faults.test.ts (once) and test/bench/fault-figures.ts (rounds, with min/median/max).
import { execFileSync } from 'node:child_process';
import { flinkUrl } from '../../tasks/lib/deploy/endpoints.ts';
import { readingsCheck, type ReadingsCheck } from '../../tasks/lib/flink/example-job.ts';
import type { FlinkRest, JobSummary } from '../../tasks/lib/flink/rest.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
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
export async function taskAddresses(inv: Inventory, jid: string): Promise<string[]> {
  const base = flinkUrl(inv);
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
  const addresses = await taskAddresses(inv, job.jid);
  const victim = nodeWith(inv, addresses[0] ?? '');
  if (!victim) throw new Error(`no node runs the taskmanager at ${addresses.join(', ') || '(no subtask address)'}`);
  if (victim === inv.cluster.flink.jobmanagerHost) throw new Error(`the job's taskmanager runs on the jobmanager's node ${victim}`);

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
  const nowOn = nodeWith(inv, (await taskAddresses(inv, job.jid))[0] ?? '');
  const after = await until('counts past the ones before the fault', 120_000, async () => {
    const c = await readings(rest, job.jid);
    return c && c.highestSeq > before.highestSeq ? c : undefined;
  });
  return { victim, recoveredMs, nowOn, before, after };
}
