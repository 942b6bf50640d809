// The engine's contract, after Ansible's module contract and pyinfra's operations:
// a step reads facts (gather), decides purely (plan), and the runner alone applies and decides ok/changed.

import type { HostSpec, Inventory } from '../inventory/types.ts';
import type { Transport } from '../transport/types.ts';

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
  | { kind: 'fail'; msg: string };

export interface HostContext {
  host: HostSpec;
  inventory: Inventory;
  transport: Transport;
  check: boolean;
  /** Values a play hands to later plays (e.g. join tokens); secrets must be registered with secrets.ts. */
  shared: Map<string, unknown>;
  /**
   * Tells the operator what a long step is doing now ("waiting: 2/3 taskmanagers"); shown beside the running
   * step on a terminal and in the heartbeat, never logged. Set by the runner; absent outside a run.
   */
  progress?: (text: string) => void;
}

export interface Step<F = unknown> {
  name: string;
  /** Read-only: never writes to the host. */
  gather(ctx: HostContext): Promise<F>;
  /** Pure: never touches the host. */
  plan(facts: F, ctx: HostContext): Plan;
}

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
  /** Structured results for --json and the GitHub job summary (status tables). */
  data?: Record<string, unknown>;
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
