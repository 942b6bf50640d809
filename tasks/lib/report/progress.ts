// What is running now and for how long, from the runner's events: the live lines on a terminal and the
// heartbeat in CI and under --json both come from here, so a Docker install or a 10-minute convergence
// wait is never silent. Timers are unref'd and cleared when the phase ends: they never keep the process alive.

import { mask } from '../secrets.ts';
import type { Reporter, ReportEvent } from './types.ts';

/** How often CI logs and --json's stderr hear that work is still going. */
export const HEARTBEAT_MS = 30_000;

export interface RunningStep {
  host: string;
  step: string;
  startedAt: number;
  /** The step's latest progress text ("waiting: 2/3 taskmanagers"). */
  detail?: string;
}

/** 45s, 2m05s, 1h02m: short enough for a line per host. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Follows the events of a run and answers "what is running, since when". */
export class ProgressTracker {
  // Keyed by host: a host runs one step at a time. A Map keeps first-seen order, so lines do not jump around.
  private readonly steps = new Map<string, RunningStep>();
  private phase: { name: string; startedAt: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  track(e: ReportEvent): void {
    switch (e.kind) {
      case 'phase-start':
        this.phase = { name: e.phase, startedAt: this.now() };
        this.steps.clear();
        return;
      case 'step-start':
        this.steps.set(e.host, { host: e.host, step: e.step, startedAt: this.now() });
        return;
      case 'progress': {
        const running = this.steps.get(e.host);
        if (running && running.step === e.step) running.detail = e.text;
        return;
      }
      case 'step-result':
        this.steps.delete(e.result.host);
        return;
      case 'unreachable':
        this.steps.delete(e.host);
        return;
      case 'phase-end':
        this.phase = undefined;
        this.steps.clear();
        return;
      case 'play-start':
      case 'message':
        return;
      default: {
        const unknown: never = e;
        throw new Error(`bug: unhandled report event ${JSON.stringify(unknown)}`);
      }
    }
  }

  running(): RunningStep[] {
    return [...this.steps.values()];
  }

  /** The phase begun and not yet ended, if any. */
  openPhase(): { name: string; startedAt: number } | undefined {
    return this.phase;
  }

  /** A phase is open or a step runs: there is something to report. */
  get busy(): boolean {
    return this.phase !== undefined || this.steps.size > 0;
  }

  /** "pi1 docker engine (2m30s)" per running step; the phase itself while it runs code between steps. */
  describe(): string[] {
    const now = this.now();
    const steps = this.running().map((r) => `${r.host} ${r.step} (${formatElapsed(now - r.startedAt)}${r.detail ? `; ${r.detail}` : ''})`);
    if (steps.length > 0 || !this.phase) return steps;
    return [`phase ${this.phase.name} (${formatElapsed(now - this.phase.startedAt)})`];
  }
}

export interface HeartbeatOptions {
  intervalMs?: number;
  now?: () => number;
}

/**
 * Writes "… still running: pi1 docker engine (2m30s), pi2 docker engine (2m28s)" every interval while a phase
 * is open or a step runs; the timer starts with the first event that makes the run busy and stops when it is not.
 */
export class Heartbeat {
  private readonly tracker: ProgressTracker;
  private readonly intervalMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly write: (line: string) => void,
    opts: HeartbeatOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? HEARTBEAT_MS;
    this.tracker = new ProgressTracker(opts.now);
  }

  track(e: ReportEvent): void {
    this.tracker.track(e);
    if (this.tracker.busy && !this.timer) {
      this.timer = setInterval(() => this.beat(), this.intervalMs);
      this.timer.unref?.();
    } else if (!this.tracker.busy) {
      this.stop();
    }
  }

  private beat(): void {
    const what = this.tracker.describe();
    if (what.length > 0) this.write(mask(`… still running: ${what.join(', ')}`));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * For reporters that print nothing while a step runs (--json, whose heartbeat goes to stderr so stdout keeps
 * one JSON document) or that must not redraw (GitHub Actions): the same reporter plus a heartbeat.
 */
export function withHeartbeat(inner: Reporter, write: (line: string) => void, opts: HeartbeatOptions = {}): Reporter {
  const heartbeat = new Heartbeat(write, opts);
  const stop = (): void => {
    heartbeat.stop();
    inner.stop?.();
  };
  return {
    emit(e) {
      inner.emit(e);
      heartbeat.track(e);
    },
    async finish(summaries) {
      stop();
      await inner.finish(summaries);
    },
    stop,
  };
}

/**
 * Long work outside the runner (bringing up the virtual fridge: apt, debootstrap): `work` logs through `say`,
 * and while it is quiet the heartbeat says it still runs, with its last line. Stopped however `work` ends.
 */
export async function withKeepAlive<T>(label: string, write: (line: string) => void, work: (say: (line: string) => void) => Promise<T>, opts: HeartbeatOptions = {}): Promise<T> {
  const heartbeat = new Heartbeat(write, opts);
  const host = 'localhost';
  heartbeat.track({ kind: 'step-start', host, step: label });
  try {
    return await work((line) => {
      write(line);
      heartbeat.track({ kind: 'progress', host, step: label, text: line });
    });
  } finally {
    heartbeat.stop();
  }
}

/** Writes a line to stderr: the heartbeat's channel under --json. */
export function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}
