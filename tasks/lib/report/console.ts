// Ansible-style console output: a line per host per step while it runs, then PLAY RECAP.
// While steps run: on a terminal, a live line per host (step, elapsed time) redrawn in place under the log;
// elsewhere (CI, a pipe, TERM=dumb) a heartbeat line every 30 s, so long work is never silent.
import { createTwoFilesPatch } from 'diff';
import type { RunSummary, StepResult } from '../engine/types.ts';
import { mask } from '../secrets.ts';
import { LiveArea, type TerminalStream } from './live-area.ts';
import { formatElapsed, Heartbeat, HEARTBEAT_MS, ProgressTracker } from './progress.ts';
import type { Reporter, ReportEvent } from './types.ts';

export type ProgressMode = 'live' | 'heartbeat' | 'none';

export interface ConsoleOptions {
  diff: boolean;
  color: boolean;
  /** Where lines go (tests); default stdout. */
  write?: (line: string) => void;
  /** Default: live on a terminal outside CI, else heartbeat (see progressMode). */
  progress?: ProgressMode;
  /** The terminal the live area is drawn on (default stdout); lines then go to it too. */
  terminal?: TerminalStream & { isTTY?: boolean };
  heartbeatMs?: number;
  /** How often the live lines' elapsed times are redrawn. */
  refreshMs?: number;
  now?: () => number;
}

/** Cursor movement only on a real terminal: never in a pipe or a log file, nor where CI fakes a TTY. */
export function progressMode(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return stream.isTTY === true && env.TERM !== 'dumb' && !ci && env.GITHUB_ACTIONS !== 'true' ? 'live' : 'heartbeat';
}

/** One live line: "  pi1  docker engine  2m30s  waiting: 2/3 taskmanagers". */
export function formatLiveLine(host: string, step: string, elapsedMs: number, detail?: string, hostWidth = host.length): string {
  return `  ${host.padEnd(hostWidth)}  ${step}  ${formatElapsed(elapsedMs)}${detail ? `  ${detail}` : ''}`;
}

const COLORS = { ok: 32, changed: 33, failed: 31, skipped: 36, unreachable: 31, warning: 35, info: 0, error: 31 } as const;

function banner(text: string): string {
  return `${text} ${'*'.repeat(Math.max(3, 72 - text.length))}`;
}

export function formatResult(r: StepResult): string {
  const label = r.status === 'failed' ? 'failed' : r.status;
  const detail = r.status === 'changed' && r.changes?.length ? ` => ${r.changes.join('; ')}` : r.msg ? ` => ${r.msg}` : '';
  return `${label}: [${r.host}] ${r.step}${detail}`;
}

export function formatRecap(summary: RunSummary): string[] {
  const width = Math.max(4, ...summary.recap.map((h) => h.host.length));
  const lines = [banner(`PLAY RECAP ${summary.phase}${summary.check ? ' (check mode: nothing was changed)' : ''}`)];
  for (const h of summary.recap) {
    lines.push(
      `${h.host.padEnd(width)} : ok=${h.ok} changed=${h.changed} unreachable=${h.unreachable ? 1 : 0} failed=${h.failed} skipped=${h.skipped}` +
        (h.firstError ? `\n${' '.repeat(width)}   first error: ${h.firstError.split('\n')[0]}` : ''),
    );
  }
  for (const [k, v] of Object.entries(summary.outputs)) lines.push(`${k}: ${v}`);
  return lines;
}

export class ConsoleReporter implements Reporter {
  private readonly write: (line: string) => void;
  private readonly live: { area: LiveArea; tracker: ProgressTracker; now: () => number; refreshMs: number } | undefined;
  private refresh: ReturnType<typeof setInterval> | undefined;
  private readonly heartbeat: Heartbeat | undefined;

  constructor(private readonly opts: ConsoleOptions) {
    const terminal = opts.terminal ?? process.stdout;
    // Lines written through a test's `write` have no terminal under them: no live area then, unless asked.
    const mode = opts.progress ?? (opts.write ? 'heartbeat' : progressMode(terminal));
    const plain = opts.write ?? ((line: string) => void terminal.write(`${line}\n`));
    if (mode === 'live') {
      const dim = (l: string): string => (opts.color ? `\u001b[2m${l}\u001b[0m` : l);
      const now = opts.now ?? Date.now;
      this.live = { area: new LiveArea(terminal, dim), tracker: new ProgressTracker(now), now, refreshMs: opts.refreshMs ?? 1_000 };
      const area = this.live.area;
      this.write = (line) => area.print(line);
    } else {
      this.write = plain;
    }
    if (mode === 'heartbeat') this.heartbeat = new Heartbeat(plain, { intervalMs: opts.heartbeatMs ?? HEARTBEAT_MS, ...(opts.now ? { now: opts.now } : {}) });
  }

  private out(text: string, color: number = 0): void {
    const masked = mask(text);
    this.write(this.opts.color && color ? `\u001b[${color}m${masked}\u001b[0m` : masked);
  }

  /** Redraws the live lines; keeps a timer for the elapsed times only while something runs. */
  private redraw(): void {
    if (!this.live) return;
    const { area, tracker, now, refreshMs } = this.live;
    if (!tracker.busy) {
      this.stopRefresh();
      area.clear();
      return;
    }
    const t = now();
    const running = tracker.running();
    const phase = tracker.openPhase();
    const width = Math.max(0, ...running.map((r) => r.host.length));
    // Between steps the phase's own code may run for a while (a wait, a build): its line keeps the screen alive.
    const lines = running.length > 0 || !phase ? running.map((r) => formatLiveLine(r.host, r.step, t - r.startedAt, r.detail, width)) : [formatLiveLine('phase', phase.name, t - phase.startedAt)];
    area.render(lines.map(mask));
    if (!this.refresh) {
      this.refresh = setInterval(() => this.redraw(), refreshMs);
      this.refresh.unref?.();
    }
  }

  private stopRefresh(): void {
    if (this.refresh) clearInterval(this.refresh);
    this.refresh = undefined;
  }

  emit(e: ReportEvent): void {
    this.print(e);
    this.heartbeat?.track(e);
    if (this.live) {
      this.live.tracker.track(e);
      if (e.kind !== 'message' && e.kind !== 'play-start') this.redraw();
    }
  }

  private print(e: ReportEvent): void {
    switch (e.kind) {
      case 'phase-start':
        this.out(banner(`PHASE [${e.phase}]${e.check ? ' (check mode)' : ''}`));
        break;
      case 'play-start':
        this.out(banner(`PLAY [${e.play}] ${e.hosts.length ? `(${e.hosts.join(', ')})` : '(no hosts)'}`));
        break;
      case 'step-result':
        this.out(formatResult(e.result), COLORS[e.result.status]);
        if (this.opts.diff) for (const d of e.result.diffs ?? []) this.out(createTwoFilesPatch(`${d.path} (before)`, `${d.path} (after)`, d.before, d.after));
        break;
      case 'unreachable':
        this.out(`unreachable: [${e.host}] => ${e.msg}`, COLORS.unreachable);
        break;
      case 'message': {
        const where = e.file ? `${e.file}:${e.line ?? 0}:${e.col ?? 0}: ` : e.host ? `[${e.host}] ` : '';
        this.out(`${e.level === 'info' ? '' : `${e.level}: `}${where}${e.text}`, COLORS[e.level]);
        break;
      }
      case 'phase-end':
        for (const line of formatRecap(e.summary)) this.out(line);
        break;
      case 'step-start':
      case 'progress':
        // Shown by the live lines or the heartbeat, not logged: a log line per poll would drown the results.
        break;
    }
  }

  /** Clears the live lines and every timer: nothing is printed after this but ordinary lines. */
  stop(): void {
    this.stopRefresh();
    this.heartbeat?.stop();
    this.live?.area.clear();
  }

  async finish(): Promise<void> {
    this.stop();
  }
}
