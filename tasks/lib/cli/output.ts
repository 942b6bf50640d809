// Where a command's errors go, in each output mode, on every exit path:
// - console: `file:line:col: error: ...` / `error: ...` on stderr, after the report's own lines;
// - --json: one JSON document on stdout with the errors and the exit code (and the same text on stderr for people);
// - GitHub Actions: `::error file=…,line=…,col=…::` annotations, so inventory errors point at their line.
import type { RunSummary } from '../engine/types.ts';
import { ConsoleReporter } from '../report/console.ts';
import { JsonReporter, type JsonError } from '../report/json.ts';
import { stderrLine, withHeartbeat } from '../report/progress.ts';
import type { Reporter, ReportEvent } from '../report/types.ts';
import { mask } from '../secrets.ts';

export type OutputMode = 'console' | 'json' | 'github';

export interface OutputOptions {
  mode: OutputMode;
  diff: boolean;
  color: boolean;
  /** Defaults to process.stderr. */
  stderr?: (text: string) => void;
}

/** "file:line:col: error: message", or "error: message" when it has no place in a file. */
export function formatError(e: JsonError, severity: 'error' | 'warning' = 'error'): string {
  const where = e.file ? `${e.file}:${e.line ?? 1}:${e.col ?? 1}: ` : '';
  return `${where}${severity}: ${e.message}`;
}

export class Output {
  /** Hand this to the run: events stop reaching the real reporter once the output is closed (after Ctrl-C). */
  readonly reporter: Reporter;
  private readonly inner: Reporter;
  private readonly json: JsonReporter | undefined;
  private readonly stderr: (text: string) => void;
  private readonly later: string[] = [];
  private closed = false;
  private ended = false;

  constructor(
    readonly options: OutputOptions,
    github: () => Reporter,
  ) {
    this.stderr = options.stderr ?? ((t) => void process.stderr.write(t));
    // Reporters that cannot redraw a line get a heartbeat: on stderr under --json (stdout holds one document).
    if (options.mode === 'json') {
      this.json = new JsonReporter();
      this.inner = withHeartbeat(this.json, stderrLine);
    } else if (options.mode === 'github') {
      this.inner = withHeartbeat(github(), (line) => void process.stdout.write(`${mask(line)}\n`));
    } else {
      this.inner = new ConsoleReporter({ diff: options.diff, color: options.color });
    }
    this.reporter = {
      emit: (e: ReportEvent) => {
        if (!this.closed) this.inner.emit(e);
      },
      finish: async () => undefined,
    };
  }

  /** What stopped the command: a bad option, an inventory problem, an internal error, an interruption. */
  error(e: JsonError): void {
    this.problem(e, 'error');
  }

  /** An inventory warning reported alongside errors (the run did not start). */
  warning(e: JsonError): void {
    this.problem(e, 'warning');
  }

  private problem(e: JsonError, severity: 'error' | 'warning'): void {
    const masked: JsonError = { ...e, message: mask(e.message) };
    if (this.options.mode === 'github') {
      this.inner.emit({ kind: 'message', level: severity, text: masked.message, ...(e.file ? { file: e.file } : {}), ...(e.line !== undefined ? { line: e.line } : {}), ...(e.col !== undefined ? { col: e.col } : {}) });
      return;
    }
    if (this.json) {
      if (severity === 'error') this.json.error(masked);
      else this.json.emit({ kind: 'message', level: 'warning', text: masked.message, ...(e.file ? { file: e.file, line: e.line ?? 1, col: e.col ?? 1 } : {}) });
    }
    this.later.push(formatError(masked, severity));
  }

  /** A line for the person at the terminal only (a hint such as "Try: --help"). */
  note(line: string): void {
    if (this.options.mode !== 'github') this.later.push(mask(line));
  }

  /** No more events from the run (it may still be unwinding after Ctrl-C). */
  close(): void {
    this.closed = true;
    this.inner.stop?.();
  }

  /** Ends the output: the JSON document, the job summary, then the error lines; returns `code`. */
  async end(code: number, summaries: RunSummary[]): Promise<number> {
    if (this.ended) return code;
    this.ended = true;
    this.closed = true;
    this.json?.exitCode(code);
    await this.inner.finish(summaries);
    if (this.later.length) this.stderr(`${this.later.join('\n')}\n`);
    return code;
  }
}
