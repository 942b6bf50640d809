// Every reporter sees the same events; the console, JSON and GitHub reporters format them.
// Reporters mask registered secrets (see secrets.ts) in everything they print.

import type { RunSummary, StepResult } from '../engine/types.ts';

export type ReportEvent =
  | { kind: 'phase-start'; phase: string; check: boolean; hosts: string[] }
  | { kind: 'play-start'; play: string; hosts: string[] }
  | { kind: 'step-result'; result: StepResult }
  | { kind: 'unreachable'; host: string; msg: string }
  | { kind: 'message'; level: 'info' | 'warning' | 'error'; text: string; host?: string; file?: string; line?: number; col?: number }
  | { kind: 'phase-end'; summary: RunSummary };

export interface Reporter {
  emit(event: ReportEvent): void;
  /** Called once at the very end, after the last phase-end. */
  finish(summaries: RunSummary[]): Promise<void>;
}
