// Polling with a deadline: the one place that decides how often to ask and when to give up. The runner's wait
// steps (engine/types.ts WaitStep) run on it, and so does every other wait (REST polls, smoke tests, the sim).

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between two probes (default 500 ms). */
  intervalMs?: number;
  /** Told what the probe saw whenever it changes, so a long wait shows where it stands (HostContext.progress). */
  onWait?: (last: string) => void;
  /** Pause before the first probe, counted in the timeout (a rebooting host keeps answering for a few seconds). */
  startAfterMs?: number;
}

/** Progress for a step's wait, shown by the reporters as "waiting: <what the probe saw>". */
export function waitingProgress(progress: ((text: string) => void) | undefined): Pick<WaitOptions, 'onWait'> {
  return progress ? { onWait: (last) => progress(`waiting: ${last}`) } : {};
}

/** What one probe found: finished (with the result to return) or not yet (with what it saw, for the timeout message). */
export type Probe<T> = { done: true; result: T } | { done: false; last: string };

/** Shaped like a REST error (status 0: no answer in time) so callers handle it with the other failures. */
export interface TimedOut {
  ok: false;
  status: 0;
  message: string;
  /** What the probe saw last. */
  last: string;
}

export async function waitFor<T>(probe: () => Promise<Probe<T>>, opts: WaitOptions): Promise<T | TimedOut> {
  const interval = opts.intervalMs ?? 500;
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'nothing seen yet';
  if (opts.startAfterMs) await pause(Math.min(opts.startAfterMs, opts.timeoutMs));
  for (;;) {
    const p = await probe();
    if (p.done) return p.result;
    if (p.last !== last) opts.onWait?.(p.last);
    last = p.last;
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, status: 0, message: `gave up after ${Math.round(opts.timeoutMs / 1000)} s: ${last}`, last };
    await pause(Math.min(interval, left));
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
