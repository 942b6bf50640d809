// --json: nothing but one JSON document on stdout at the end, for scripts: after a run, and equally after
// a bad option, an inventory error, an internal error or Ctrl-C. Only --help and --version print text.
import type { RunSummary, StepResult } from '../engine/types.ts';
import { mask } from '../secrets.ts';
import type { Reporter, ReportEvent } from './types.ts';

/** What stopped the command before or outside the hosts' own results. */
export type JsonErrorKind = 'options' | 'inventory' | 'internal' | 'interrupted' | 'environment';

export interface JsonError {
  kind: JsonErrorKind;
  message: string;
  /** Inventory problems: where in the file. */
  file?: string;
  line?: number;
  col?: number;
}

export interface JsonMessage {
  level: 'info' | 'warning' | 'error';
  text: string;
  host?: string;
  file?: string;
  line?: number;
  col?: number;
}

/** The one document --json prints. `version` changes only when a field changes meaning or goes away. */
export interface JsonDocument {
  version: 1;
  /** exitCode === 0. */
  ok: boolean;
  /** The process's exit code: 0 ok, 1 error, 2 a host failed, 3 unreachable, 4 inventory, 5 options, 99 interrupted. */
  exitCode: number;
  /** Empty when the phases ran to their end (a host's failure is in `phases[].recap` and `results`). */
  errors: JsonError[];
  phases: RunSummary[];
  results: StepResult[];
  messages: JsonMessage[];
}

export function jsonDocument(exitCode: number, errors: JsonError[], phases: RunSummary[] = [], results: StepResult[] = [], messages: JsonMessage[] = []): JsonDocument {
  return { version: 1, ok: exitCode === 0, exitCode, errors, phases, results, messages };
}

export class JsonReporter implements Reporter {
  private readonly results: StepResult[] = [];
  private readonly messages: JsonMessage[] = [];
  private readonly errors: JsonError[] = [];
  private code = 0;
  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  emit(e: ReportEvent): void {
    if (e.kind === 'step-result') this.results.push(e.result);
    if (e.kind === 'unreachable') this.messages.push({ level: 'error', text: e.msg, host: e.host });
    if (e.kind === 'message') {
      const { kind: _, ...m } = e;
      this.messages.push(m);
    }
  }

  /** An error that stopped the command (not a host's step result). */
  error(e: JsonError): void {
    this.errors.push(e);
  }

  /** The exit code the document reports; set before finish. */
  exitCode(code: number): void {
    this.code = code;
  }

  async finish(summaries: RunSummary[]): Promise<void> {
    const doc = jsonDocument(this.code, this.errors, summaries, this.results, this.messages);
    this.write(`${mask(JSON.stringify(doc, null, 2))}\n`);
  }
}
