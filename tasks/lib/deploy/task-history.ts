// The swarm's task history (`docker service ps --no-trunc`) read as data, and the rules that say a service
// cannot converge however long one waits: the convergence wait then fails in seconds instead of at its timeout.
import { shq, type Transport } from '../transport/types.ts';

/** One line of `docker service ps --no-trunc --format TASK_FORMAT`. */
export interface TaskRow {
  /** "flink_jobmanager.1" (replicated: service.slot) or "flink_agent.<node id>" (global). */
  name: string;
  service: string;
  slot: string;
  /** Empty for a task the scheduler could not place. */
  node: string;
  /** "Running", "Shutdown", "Ready" ... */
  desired: string;
  /** First word of CURRENT STATE: "Running", "Rejected", "Pending" ... */
  state: string;
  /** The task's error without docker's quotes; empty when none. */
  error: string;
  /** At least how long ago it reached its current state (CURRENT STATE's "3 minutes ago"); undefined when unsaid. */
  agoMs?: number;
}

// `|` between fields: a pending task has no node, so a blank-separated line would shift its columns. The error
// comes last, so a `|` inside it stays in it. Placeholders: docs.docker.com "docker service ps" → Formatting.
export const TASK_FORMAT = '{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}';

export function parseServicePs(stdout: string): TaskRow[] {
  return stdout.split('\n').flatMap((line): TaskRow[] => {
    const parts = line.trim().split('|');
    if (parts.length < 5) return [];
    const [name = '', node = '', desired = '', current = ''] = parts;
    const error = parts.slice(4).join('|').trim().replace(/^"(.*)"$/s, '$1');
    const dot = name.lastIndexOf('.');
    if (dot <= 0) return [];
    const agoMs = stateAgeMs(current);
    return [{ name, service: name.slice(0, dot), slot: name.slice(dot + 1), node: node.trim(), desired: desired.trim(), state: current.trim().split(/\s+/)[0] ?? '', error, ...(agoMs !== undefined ? { agoMs } : {}) }];
  });
}

const UNIT_MS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_592_000_000, year: 31_536_000_000 };

/** The least age docker's humanised "Failed 3 minutes ago" allows (go-units HumanDuration rounds down). */
export function stateAgeMs(current: string): number | undefined {
  const m = /(less than a second|about an? (second|minute|hour)|(\d+) (second|minute|hour|day|week|month|year)s?) ago\s*$/i.exec(current.trim());
  if (!m) return undefined;
  if (/^less than/i.test(m[1] ?? '')) return 0;
  if (m[2]) return UNIT_MS[m[2].toLowerCase()];
  return Number(m[3]) * (UNIT_MS[(m[4] ?? '').toLowerCase()] ?? 0);
}

/**
 * The history of this deploy: a task that ended before it (a failure of the spec it replaced) says nothing
 * about whether the new one can start. One second of slack for the clocks of this machine and the leader.
 */
export function sinceDeploy(rows: TaskRow[], msSinceDeploy: number): TaskRow[] {
  return rows.filter((r) => !(TERMINAL.has(r.state) && r.agoMs !== undefined && r.agoMs > msSinceDeploy + 1_000));
}

export async function readTasks(transport: Transport, services: string[]): Promise<TaskRow[]> {
  if (services.length === 0) return [];
  const r = await transport.exec(`docker service ps --no-trunc --format ${shq(TASK_FORMAT)} ${services.map(shq).join(' ')}`, { sudo: true, timeoutMs: 30_000 });
  return r.code === 0 ? parseServicePs(r.stdout) : [];
}

/** Task states after which a task never runs again. */
const TERMINAL = new Set(['Complete', 'Shutdown', 'Failed', 'Rejected', 'Orphaned', 'Remove']);
const FAILED = new Set(['Failed', 'Rejected']);
/** Desired states of a slot's current task: the orchestrator still wants that replica. */
const WANTED = new Set(['Running', 'Ready']);
export const ATTEMPTS = 3;
export const PENDING_LIMIT_MS = 15_000;
const NO_NODE = /^no suitable node\b/;

export interface Doomed {
  service: string;
  why: string;
}

function bySlot(rows: TaskRow[]): Map<string, TaskRow[]> {
  const slots = new Map<string, TaskRow[]>();
  for (const r of rows) slots.set(r.slot, [...(slots.get(r.slot) ?? []), r]);
  return slots;
}

function nodesOf(rows: TaskRow[]): string {
  const nodes = [...new Set(rows.map((r) => r.node).filter(Boolean))];
  return nodes.length ? ` (on ${nodes.join(', ')})` : '';
}

/**
 * A service every wanted replica of which failed or was rejected ATTEMPTS times in a row, each with one error:
 * the swarm retries forever with the same spec. Docker lists a slot's tasks newest first; the replacement waiting
 * out the restart delay (desired Ready) is passed over, a task being started (desired Running) is waited for.
 */
export function repeatedFailure(rows: TaskRow[]): Doomed | undefined {
  for (const [service, tasks] of groupByService(rows)) {
    // A slot left by a scale-down ends in Shutdown; a failed one is wanted even before its replacement is listed.
    const slots = [...bySlot(tasks).values()].filter((s) => s.some((t) => WANTED.has(t.desired)) || FAILED.has(s[0]?.state ?? ''));
    if (slots.length === 0 || tasks.some((t) => t.state === 'Running' && t.desired === 'Running')) continue;
    const errors = slots.map((s) => {
      // A task being started now (desired Running, not finished) may be the new spec's: wait for its outcome.
      if (s.some((t) => t.desired === 'Running' && !TERMINAL.has(t.state))) return undefined;
      const last = s.filter((t) => TERMINAL.has(t.state)).slice(0, ATTEMPTS);
      const first = last[0];
      return last.length === ATTEMPTS && first && last.every((t) => FAILED.has(t.state) && t.error === first.error) ? first : undefined;
    });
    if (errors.every((e) => e !== undefined)) {
      const distinct = [...new Set(errors.map((e) => `${e.state.toLowerCase()}: ${e.error || 'no error given'}`))];
      const every = slots.length === 1 ? 'its replica' : `all ${slots.length} replicas`;
      return { service, why: `${service} cannot start: ${every} ${ATTEMPTS} times in a row ${distinct.join('; ')}${nodesOf(errors)}` };
    }
  }
  return undefined;
}

function groupByService(rows: TaskRow[]): Map<string, TaskRow[]> {
  const out = new Map<string, TaskRow[]>();
  for (const r of rows) out.set(r.service, [...(out.get(r.service) ?? []), r]);
  return out;
}

/** Services with no running replica and a wanted task the scheduler finds no node for, with that error. */
export function unplaceable(rows: TaskRow[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [service, tasks] of groupByService(rows)) {
    if (tasks.some((t) => t.state === 'Running' && t.desired === 'Running')) continue;
    const stuck = tasks.find((t) => t.state === 'Pending' && WANTED.has(t.desired) && NO_NODE.test(t.error));
    if (stuck) out.set(service, stuck.error);
  }
  return out;
}

/** A task asked to stop that has not yet: its reservation still holds the node (stop grace is 30 s). */
function stopping(rows: TaskRow[]): boolean {
  return rows.some((t) => t.desired === 'Shutdown' && !TERMINAL.has(t.state));
}

/**
 * Since when each service has been unplaceable, from the previous look and this one (pure): a service
 * that stops being unplaceable is forgotten, so only an uninterrupted wait counts, and the clock does not
 * start while any task of the stack is still stopping (an update frees its resources only then).
 */
export function notePending(prev: Map<string, number>, rows: TaskRow[], now: number): Map<string, number> {
  const next = new Map<string, number>();
  if (stopping(rows)) return next;
  for (const service of unplaceable(rows).keys()) next.set(service, prev.get(service) ?? now);
  return next;
}

/** Either rule, on one look at the task history and the unplaceable times so far (pure). */
export function doomedService(rows: TaskRow[], pendingSince: Map<string, number>, now: number, limitMs = PENDING_LIMIT_MS): Doomed | undefined {
  const failed = repeatedFailure(rows);
  if (failed) return failed;
  for (const [service, error] of unplaceable(rows)) {
    const since = pendingSince.get(service);
    if (since !== undefined && now - since >= limitMs) {
      return { service, why: `${service} cannot be placed: pending for ${Math.round((now - since) / 1000)} s with no replica running: ${error}` };
    }
  }
  return undefined;
}
