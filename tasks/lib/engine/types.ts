// The engine's contract, after Ansible's module contract and pyinfra's operations:
// a step reads facts (gather), decides purely (plan), and the runner alone applies and decides ok/changed.

import type { HostSpec, Inventory } from '../inventory/types.ts';
import type { Transport } from '../transport/types.ts';
import type { OutputKey, OutputSource } from './outputs.ts';

export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface FileDiff {
  path: string;
  before: string;
  after: string;
}

/** What a change does on the host, in order. */
export type Action =
  | { kind: 'run'; command: string; sudo?: boolean; stdin?: string; timeoutMs?: number }
  | { kind: 'put'; path: string; content: string; mode?: number; sudo?: boolean; owner?: string }
  /** For what is not a command: wait for a reboot, prove a key login, poll until converged. */
  | { kind: 'call'; label: string; fn: (ctx: HostContext) => Promise<CallOutcome> };

export type CallOutcome = { ok: true; output?: string } | { ok: false; msg: string };

export interface Change {
  /** One line, shown to the user: "set hostname raspberrypi → pi1". */
  summary: string;
  actions: Action[];
  diff?: FileDiff;
}

export type Plan =
  | { kind: 'ok'; msg?: string }
  | { kind: 'change'; changes: Change[] }
  | { kind: 'skip'; msg: string }
  | { kind: 'fail'; msg: string }
  /**
   * What this step needs is not there, and an earlier step or phase of the command makes it (docker, the swarm,
   * the image in the registry, the deployed stack). A real run fails with `msg`: that earlier step should have
   * made it. In check mode the earlier step only planned it, so the runner reports `inCheck` instead: skipped
   * with its reason, or the changes this step would then make (changed, nothing applied).
   */
  | { kind: 'unmet'; msg: string; inCheck: { skip: string } | { changes: Change[] } };

export interface HostContext {
  host: HostSpec;
  inventory: Inventory;
  transport: Transport;
  check: boolean;
  /** What an earlier step (or phase) of this command recorded for a host (default: this one); undefined when it did not. */
  output<T>(from: OutputSource<T>, host?: string): T | undefined;
  /**
   * Records a value made while applying (a call action): the runner keeps it, under `key` for this host, only
   * when the step ends ok or changed. Secrets must be registered with secrets.ts.
   */
  record<T>(key: OutputKey<T>, value: T): void;
  /** The phase's fact cache (facts/cache.ts): one probe round trip per host, forgotten by the runner after a change there. */
  factCache?: Map<string, Promise<ReadonlyMap<string, ReadonlyMap<string, string>>>>;
  /**
   * Tells the operator what a long step is doing now ("waiting: 2/3 taskmanagers"); shown beside the running
   * step on a terminal and in the heartbeat, never logged. Set by the runner; absent outside a run.
   */
  progress?: (text: string) => void;
}

export interface Step<F = unknown, O = F> {
  name: string;
  /** Read-only: never writes to the host. */
  gather(ctx: HostContext): Promise<F>;
  /** Pure: never touches the host. */
  plan(facts: F, ctx: HostContext): Plan;
  /**
   * Pure: what the runner records for later readers (`run.output(step, host)`) when the step ends ok or
   * changed. Absent: the facts themselves.
   */
  output?(facts: F): O;
  /** Also recorded under this key, for readers that do not hold the step (another phase). */
  key?: OutputKey<O>;
}

/** What one look at a wait's subject means (pure). */
export type WaitVerdict = { kind: 'done' } | { kind: 'failed'; why: string } | { kind: 'waiting'; state: string };

/** How a wait ended: `notYet` is check mode's single look that did not find it done. */
export interface WaitEnd<S> {
  kind: 'done' | 'failed' | 'timedOut' | 'notYet';
  /** The last look. */
  state: S;
  /** done: empty; failed: the verdict's reason; timedOut: "gave up after N s: <state>"; notYet: the state. */
  why: string;
  waitedMs: number;
}

/**
 * A wait: polled by the runner (engine/wait.ts waitFor, the one loop) until the verdict is done or failed, or the
 * deadline passes; progress goes to the reporters as "waiting: <state>". Check mode looks once and reports.
 * The last look is recorded as the step's output even when the wait failed: what it saw is still true.
 */
export interface WaitStep<S> {
  kind: 'wait';
  name: string;
  timeoutMs: number;
  /** Pause between two looks (default 500 ms). */
  intervalMs?: number;
  /** Read-only: one look. `previous`: the last look, for what a wait accumulates across looks. */
  poll(ctx: HostContext, previous: S | undefined): Promise<S>;
  /** Pure. */
  verdict(state: S, ctx: HostContext): WaitVerdict;
  /** Read-only, after a wait that did not end done: more to say than the last state (the failing tasks' errors). */
  explain?(state: S, ctx: HostContext): Promise<string>;
  /** Pure: the result. Absent: ok when done, skipped in check mode, else failed with the reason. */
  conclude?(end: WaitEnd<S>, ctx: HostContext, explanation: string): Plan;
  key?: OutputKey<S>;
}

/** What a play runs on each host, in order. */
export type AnyStep = Step<unknown, unknown> | WaitStep<unknown>;

export interface StepResult {
  host: string;
  step: string;
  status: StepStatus;
  msg?: string;
  changes?: string[];
  diffs?: FileDiff[];
  durationMs: number;
}

export interface HostOutcome {
  host: string;
  results: StepResult[];
  /** Set when the host could not be reached; the run stops for that host. */
  unreachable?: string;
}

export interface HostRecap {
  host: string;
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  firstError?: string;
}

export interface RunSummary {
  phase: string;
  check: boolean;
  recap: HostRecap[];
  durationMs: number;
  /** Phase-level outputs shown after the recap (dashboard URL, job id ...). */
  outputs: Record<string, string>;
  /** What code reads from the recap (the display lines in `outputs` are for people). */
  result?: RunResult;
  /** Structured results for --json and the GitHub job summary (status tables). */
  data?: Record<string, unknown>;
}

/** Typed recap values: set by the phase that knows them, read by code such as the GitHub deployment. */
export interface RunResult {
  /** The Flink dashboard, set only when Flink's REST API answered there. */
  dashboardUrl?: string;
}

/** Ansible's exit codes. */
export const EXIT = {
  ok: 0,
  error: 1,
  hostFailed: 2,
  unreachable: 3,
  inventory: 4,
  badOptions: 5,
} as const;
