// Every reporter sees the same events; the console, JSON and GitHub reporters format them.
// Reporters mask registered secrets (see secrets.ts) in everything they print.

import type { RunSummary, StepResult } from '../engine/types.ts';

export type ReportEvent =
  | { kind: 'phase-start'; phase: string; check: boolean; hosts: string[] }
  | { kind: 'play-start'; play: string; hosts: string[] }
  /** A host begins a step: reporters show it as running until its step-result (or unreachable). */
  | { kind: 'step-start'; host: string; step: string }
  /** What a long step is doing now ("waiting: 2/3 taskmanagers"): shown with the running step, not logged. */
  | { kind: 'progress'; host: string; step: string; text: string }
  | { kind: 'step-result'; result: StepResult }
  | { kind: 'unreachable'; host: string; msg: string }
  | { kind: 'message'; level: 'info' | 'warning' | 'error'; text: string; host?: string; file?: string; line?: number; col?: number }
  | { kind: 'phase-end'; summary: RunSummary };

export interface Reporter {
  emit(event: ReportEvent): void;
  /** Called once at the very end, after the last phase-end. */
  finish(summaries: RunSummary[]): Promise<void>;
  /**
   * Stops timers and erases any live display (the cursor is never hidden, so nothing else to restore).
   * Idempotent; finish calls it; an interrupted run (Ctrl-C) calls it before printing anything else.
   */
  stop?(): void;
}
