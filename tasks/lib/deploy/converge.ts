// Waits (read-only) until every service of the stack runs its replicas AND Flink's REST API reports the
// expected taskmanagers and slots; on time-out, the failing tasks' errors are the message. It gives up as soon
// as the task history shows a service cannot start (task-history.ts), not at its time-out.
import { outputKey } from '../engine/outputs.ts';
import type { StepStatus, WaitStep } from '../engine/types.ts';
import { FlinkRest, type ClusterOverview } from '../flink/rest.ts';
import type { Inventory } from '../inventory/types.ts';
import type { Transport } from '../transport/types.ts';
import { shq } from '../transport/types.ts';
import { unmet } from '../steps/common.ts';
import { flinkUrls } from './endpoints.ts';
import { doomedService, notePending, readTasks, sinceDeploy, type Doomed, type TaskRow } from './task-history.ts';

export interface ServiceReplicas {
  name: string;
  running: number;
  desired: number;
  /** Swarm's UpdateStatus.State ('none' when the service was never updated). */
  update?: string;
}

/** Update states after which the service runs its current spec. */
const SETTLED = new Set(['none', 'completed']);
/** Update states that mean the new spec did not make it. */
const FAILED_UPDATE = new Set(['paused', 'rollback_started', 'rollback_paused', 'rollback_completed']);

export function parseServiceLs(stdout: string): ServiceReplicas[] {
  const [list = '', updates = ''] = stdout.split('---\n');
  const state = new Map<string, string>();
  for (const line of updates.split('\n')) {
    const [name, update] = line.trim().split(/\s+/);
    if (name && update) state.set(name, update);
  }
  return list
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .flatMap(([name, replicas]) => {
      const m = /^(\d+)\/(\d+)/.exec(replicas ?? '');
      const update = name ? state.get(name) : undefined;
      return name && m ? [{ name, running: Number(m[1]), desired: Number(m[2]), ...(update ? { update } : {}) }] : [];
    });
}

export async function readServices(transport: Transport, stack: string): Promise<ServiceReplicas[]> {
  const filter = `--filter label=com.docker.stack.namespace=${shq(stack)}`;
  const r = await transport.exec(
    `docker service ls ${filter} --format '{{.Name}} {{.Replicas}}' && echo --- && ` +
      `ids=$(docker service ls -q ${filter}) && [ -z "$ids" ] || docker service inspect $ids --format '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{else}}none{{end}}'`,
    { sudo: true },
  );
  return r.code === 0 ? parseServiceLs(r.stdout) : [];
}

/** The first service whose update failed (rolled back or paused), if any. */
export function failedUpdate(services: ServiceReplicas[]): ServiceReplicas | undefined {
  return services.find((s) => s.update !== undefined && FAILED_UPDATE.has(s.update));
}

/**
 * More running than desired is settled too: a task on a Pi that lost power still counts as running until the swarm
 * hears from that Pi again, while its replacement runs elsewhere. Flink's own count (taskmanagers, slots) is what
 * says no extra taskmanager is left over.
 */
function settled(s: ServiceReplicas): boolean {
  return s.running >= s.desired && (s.update === undefined || SETTLED.has(s.update));
}

/** Recorded by the deploy step when it changed the stack: convergence is then judged only after the swarm had time to notice. */
export const DEPLOYED_AT = outputKey<number>('stack.deployedAt');
const NOTICE_MS = 5_000;

/**
 * Recorded (for the leader) by stack-deploy when it waited only until the stopped jobs could resume (job-submit
 * comes later in the same command): job-submit then waits for the whole stack, within this many milliseconds.
 */
export const CONVERGE_LEFT = outputKey<number>('stack.convergeLeftMs');

/** The errors of tasks that are not running, as `docker service ps --no-trunc` shows them. */
export async function failingTasks(transport: Transport, services: string[]): Promise<string> {
  if (services.length === 0) return '';
  const r = await transport.exec(
    `docker service ps --no-trunc --format '{{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' ${services.map(shq).join(' ')} 2>&1 | grep -v ' Running ' | head -20`,
    { sudo: true },
  );
  return r.stdout.trim();
}

export interface Expectation {
  slotsPerTaskmanager: number;
  /** Service short name → replicas wanted; others are taken as the swarm says (a scaled taskmanager service stays scaled). */
  replicas?: Record<string, number>;
  /**
   * Wait only until the jobs stopped for the update can be resubmitted: the jobmanager service runs its new
   * spec and Flink's REST API answers. Flink holds a resubmitted job until taskmanagers offer it slots, so
   * it starts with the first one that registers; the caller waits for the rest of the stack after.
   */
  forResume?: boolean;
}

/** Taskmanagers Flink should report: what the taskmanager service wants to run. */
function wantedTaskmanagers(services: ServiceReplicas[], stack: string, want: Expectation): number {
  return want.replicas?.taskmanager ?? services.find((s) => s.name === `${stack}_taskmanager`)?.desired ?? 0;
}

/** One look at the swarm and Flink; the wait's output (the last look), for the recap's dashboard line. */
export interface ConvergeFacts {
  services: ServiceReplicas[];
  overview: ClusterOverview | undefined;
  /** Why Flink's REST API did not answer at the last look (absent when it answered). */
  restError?: string;
  /** The swarm has had time to start the update (see convergeVerdict). */
  noticed: boolean;
  /** What the looks accumulate: since when each task has been pending, when the history was last read. */
  pendingSince: Map<string, number>;
  tasksReadAt: number;
  doomed?: Doomed;
}

function describeState(services: ServiceReplicas[], overview: ClusterOverview | undefined, tms: number, slots: number): string {
  const svc = services.map((s) => `${s.name} ${s.running}/${s.desired}`).join(', ') || 'no services';
  const flink = overview ? `Flink: ${overview.taskmanagers}/${tms} taskmanagers, ${overview['slots-total']}/${slots} slots` : 'Flink REST not answering yet';
  return `${svc}; ${flink}`;
}

export type Verdict = { kind: 'done' } | { kind: 'failed'; why: string } | { kind: 'waiting'; state: string };

/**
 * One look at the swarm and Flink (pure). `noticed`: the swarm has had time to start the update, so a
 * service still showing its old tasks as settled is not taken for the new ones.
 */
export function convergeVerdict(stack: string, want: Expectation, services: ServiceReplicas[], overview: ClusterOverview | undefined, noticed: boolean, doomed?: Doomed): Verdict {
  const broken = failedUpdate(services);
  if (broken) return { kind: 'failed', why: `update of ${broken.name} failed (${broken.update}): the swarm rolled it back or paused it` };
  const tms = wantedTaskmanagers(services, stack, want);
  const slots = tms * want.slotsPerTaskmanager;
  let ok: boolean;
  if (want.forResume) {
    // Settled means the new jobmanager passed its healthcheck, so the REST answer is the new cluster's.
    const jobmanager = services.find((s) => s.name === `${stack}_jobmanager`);
    ok = noticed && jobmanager !== undefined && settled(jobmanager) && overview !== undefined;
  } else {
    const servicesOk = noticed && services.length > 0 && services.every((s) => settled(s) && (want.replicas?.[s.name.slice(stack.length + 1)] ?? s.desired) === s.desired);
    ok = servicesOk && overview !== undefined && tms > 0 && overview.taskmanagers === tms && overview['slots-total'] === slots;
  }
  if (ok) return { kind: 'done' };
  // Only once the swarm had time to replace the previous deploy's tasks: their history is not this spec's.
  if (doomed && noticed) return { kind: 'failed', why: doomed.why };
  return { kind: 'waiting', state: describeState(services, overview, tms, slots) };
}

/** How often the wait reads the task history (a `docker service ps` costs a Pi more than a `service ls`). */
const TASKS_EVERY_MS = 2_000;

/** Waits until the stack converged (or, `want.forResume`, the stopped jobs can resume); its output is the last look. */
export function convergeStep(inv: Inventory, want: Expectation, timeoutMs: number, label = 'converged'): WaitStep<ConvergeFacts> {
  const stack = inv.cluster.stackName;
  const rest = new FlinkRest({ baseUrl: flinkUrls(inv), timeoutMs: 5_000 });
  return {
    kind: 'wait',
    name: label,
    timeoutMs,
    intervalMs: 500,
    async poll({ transport, output }, previous) {
      const services = await readServices(transport, stack);
      const o = await rest.overview();
      const deployedAt = output(DEPLOYED_AT) ?? 0;
      const noticed = Date.now() >= deployedAt + NOTICE_MS;
      const unsettled = services.filter((s) => s.running < s.desired).map((s) => s.name);
      let pendingSince = previous?.pendingSince ?? new Map<string, number>();
      let tasksReadAt = previous?.tasksReadAt ?? 0;
      let doomed = previous?.doomed;
      if (noticed && unsettled.length > 0 && Date.now() - tasksReadAt >= TASKS_EVERY_MS) {
        tasksReadAt = Date.now();
        // Every service's tasks: another service's task still stopping may hold the resources a pending one needs.
        const rows: TaskRow[] = sinceDeploy(await readTasks(transport, services.map((s) => s.name)), Date.now() - deployedAt);
        pendingSince = notePending(pendingSince, rows, tasksReadAt);
        doomed = doomedService(rows, pendingSince, tasksReadAt);
      } else if (unsettled.length === 0) {
        doomed = undefined;
      }
      return {
        services,
        overview: o.ok ? o.value : undefined,
        ...(o.ok ? {} : { restError: o.message }),
        noticed,
        pendingSince,
        tasksReadAt,
        ...(doomed ? { doomed } : {}),
      };
    },
    verdict: (f) => convergeVerdict(stack, want, f.services, f.overview, f.noticed, f.doomed),
    explain: async (f, { transport }) => (f.services.length === 0 ? '' : failingTasks(transport, f.services.map((s) => s.name))),
    conclude(end, _ctx, explanation) {
      const f = end.state;
      if (end.kind === 'done') {
        const tms = wantedTaskmanagers(f.services, stack, want);
        return { kind: 'ok', msg: `${describeState(f.services, f.overview, tms, tms * want.slotsPerTaskmanager)} (after ${(end.waitedMs / 1000).toFixed(1)} s)` };
      }
      const detail = `${end.why}\n${explanation}`.trim();
      // The step before this one (docker stack deploy, docker service scale) makes what is waited for; in check
      // mode it only planned its change, so not converged is expected then.
      if (f.services.length === 0) {
        return unmet(`not converged: ${detail}`, `the stack ${stack} is not deployed yet (check mode: docker stack deploy would deploy it, then this step waits until it converges)`);
      }
      return unmet(`not converged: ${detail}`, `not converged now; a real run would wait: ${detail}`);
    },
  };
}

/**
 * The recap's last lines (for people) and the dashboard's address (for code: only when Flink's REST API answered).
 * `status`: how the convergence wait ended (run.statusOf); skipped means check mode found nothing to wait for yet.
 */
export function flinkOutputs(url: string, facts: ConvergeFacts | undefined, status: StepStatus | undefined): { lines: Record<string, string>; dashboardUrl?: string } {
  if (facts?.overview) return { lines: { 'Flink dashboard': url }, dashboardUrl: url };
  if (!facts) return { lines: { Flink: `not checked: stack-deploy stopped before the deploy (the dashboard's address is ${url})` } };
  if (status === 'skipped' && facts.services.length === 0) return { lines: { Flink: `not deployed yet (check mode): the dashboard would answer at ${url}` } };
  return { lines: { Flink: `did not answer at ${url}${facts.restError ? ` (${facts.restError})` : ''}: no dashboard` } };
}
