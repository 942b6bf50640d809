// Long work is never silent: what the heartbeat prints (CI, --json's stderr, GitHub Actions), on a fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { RunSummary, Step } from '../../tasks/lib/engine/types.ts';
import { waitFor } from '../../tasks/lib/engine/wait.ts';
import { JsonReporter } from '../../tasks/lib/report/json.ts';
import { formatElapsed, ProgressTracker, withHeartbeat, withKeepAlive } from '../../tasks/lib/report/progress.ts';
import type { Reporter } from '../../tasks/lib/report/types.ts';
import { registerSecret } from '../../tasks/lib/secrets.ts';
import { localHosts, RecordingReporter, session } from '../helpers/engine.ts';

const summary = (phase: string): RunSummary => ({ phase, check: false, recap: [], durationMs: 0, outputs: {} });

/** A step that says nothing for `ms` (a Docker install, a QEMU build). */
function quiet(name: string, ms: number): Step<null> {
  return {
    name,
    async gather() {
      await new Promise((r) => setTimeout(r, ms));
      return null;
    },
    plan: () => ({ kind: 'ok' }),
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('formatElapsed', () => {
  it.each([
    [0, '0s'],
    [45_900, '45s'],
    [150_000, '2m30s'],
    [65_000, '1m05s'],
    [3_725_000, '1h02m'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });
});

describe('heartbeat', () => {
  it('names every still-running host, step and elapsed time every 30 s while a quiet step runs, then stops', async () => {
    const lines: string[] = [];
    const s = session(localHosts(['pi1', 'pi2'], () => ({})));
    const inner = s.reporter;
    const reporter = withHeartbeat(inner, (l) => lines.push(l), { intervalMs: 30_000 });
    const run = new Run('pi-setup', { ...s, reporter });
    reporter.emit({ kind: 'phase-start', phase: 'pi-setup', check: false, hosts: ['pi1', 'pi2'] });
    const done = run.play({ name: 'docker', steps: [quiet('docker engine', 150_000)] });

    await vi.advanceTimersByTimeAsync(29_999);
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(lines).toEqual(['… still running: pi1 docker engine (30s), pi2 docker engine (30s)']);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(lines.slice(1)).toEqual([
      '… still running: pi1 docker engine (1m00s), pi2 docker engine (1m00s)',
      '… still running: pi1 docker engine (1m30s), pi2 docker engine (1m30s)',
      '… still running: pi1 docker engine (2m00s), pi2 docker engine (2m00s)',
      '… still running: pi1 docker engine (2m30s), pi2 docker engine (2m30s)',
    ]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    // The inner reporter still gets every event, in the runner's order.
    expect(inner.events.map((e) => e.kind)).toEqual(['phase-start', 'play-start', 'step-start', 'step-start', 'step-result', 'step-result']);

    reporter.emit({ kind: 'phase-end', summary: run.summary() });
    const printed = lines.length;
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(lines.length).toBe(printed);
    expect(vi.getTimerCount()).toBe(0); // nothing left to keep the process alive
  });

  it('names the phase when it runs code between steps, and a step\'s progress text beside it', async () => {
    registerSecret('hb-secret-value');
    const lines: string[] = [];
    const reporter = withHeartbeat(new RecordingReporter(), (l) => lines.push(l), { intervalMs: 30_000 });
    reporter.emit({ kind: 'phase-start', phase: 'stack-deploy', check: false, hosts: ['pi1'] });
    await vi.advanceTimersByTimeAsync(30_000);
    reporter.emit({ kind: 'step-start', host: 'pi1', step: 'converged' });
    await vi.advanceTimersByTimeAsync(5_000);
    reporter.emit({ kind: 'progress', host: 'pi1', step: 'converged', text: 'waiting: Flink: 2/3 taskmanagers (hb-secret-value)' });
    await vi.advanceTimersByTimeAsync(25_000);
    expect(lines).toEqual(['… still running: phase stack-deploy (30s)', '… still running: pi1 converged (30s; waiting: Flink: 2/3 taskmanagers (***))']);
  });

  it('under --json goes to stderr only: stdout keeps exactly one JSON document', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const reporter = withHeartbeat(new JsonReporter((t) => stdout.push(t)), (l) => stderr.push(`${l}\n`));
    reporter.emit({ kind: 'phase-start', phase: 'image-build', check: false, hosts: ['localhost'] });
    reporter.emit({ kind: 'step-start', host: 'localhost', step: 'flink image' });
    await vi.advanceTimersByTimeAsync(61_000);
    reporter.emit({ kind: 'step-result', result: { host: 'localhost', step: 'flink image', status: 'changed', durationMs: 61_000 } });
    reporter.emit({ kind: 'phase-end', summary: summary('image-build') });
    await reporter.finish([summary('image-build')]);
    expect(stderr).toEqual(['… still running: localhost flink image (30s)\n', '… still running: localhost flink image (1m00s)\n']);
    expect(stdout).toHaveLength(1);
    expect(JSON.parse(stdout[0] ?? '')).toMatchObject({ phases: [{ phase: 'image-build' }], results: [{ step: 'flink image' }] });
  });

  it('stop() (Ctrl-C) ends the heartbeat mid-step and stops the inner reporter too', async () => {
    const lines: string[] = [];
    let stopped = 0;
    const inner: Reporter = { emit: () => undefined, finish: async () => undefined, stop: () => void stopped++ };
    const reporter = withHeartbeat(inner, (l) => lines.push(l), { intervalMs: 30_000 });
    reporter.emit({ kind: 'phase-start', phase: 'swarm', check: false, hosts: ['pi1'] });
    reporter.emit({ kind: 'step-start', host: 'pi1', step: 'join' });
    reporter.stop?.();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(lines).toEqual([]);
    expect(stopped).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('long work outside the runner (deploy bringing up the virtual fridge)', () => {
  it('prints its lines, says every 30 s that it still runs with its last line, and stops when it ends', async () => {
    const lines: string[] = [];
    const done = withKeepAlive('virtual fridge up', (l) => lines.push(l), async (say) => {
      say('debootstrap bookworm into fridge-sim-base');
      await new Promise((r) => setTimeout(r, 70_000));
      return 'up';
    });
    await vi.advanceTimersByTimeAsync(70_000);
    expect(await done).toBe('up');
    expect(lines).toEqual([
      'debootstrap bookworm into fridge-sim-base',
      '… still running: localhost virtual fridge up (30s; debootstrap bookworm into fridge-sim-base)',
      '… still running: localhost virtual fridge up (1m00s; debootstrap bookworm into fridge-sim-base)',
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('progress tracker', () => {
  it('forgets a host once its step ends or it is unreachable, and keeps first-seen order', () => {
    let t = 0;
    const tracker = new ProgressTracker(() => t);
    tracker.track({ kind: 'step-start', host: 'pi1', step: 'docker engine' });
    tracker.track({ kind: 'step-start', host: 'pi2', step: 'docker engine' });
    t = 10_000;
    tracker.track({ kind: 'step-result', result: { host: 'pi1', step: 'docker engine', status: 'changed', durationMs: 10_000 } });
    tracker.track({ kind: 'step-start', host: 'pi1', step: 'cgroup flags' });
    t = 15_000;
    expect(tracker.describe()).toEqual(['pi2 docker engine (15s)', 'pi1 cgroup flags (5s)']);
    tracker.track({ kind: 'unreachable', host: 'pi2', msg: 'gone' });
    expect(tracker.describe()).toEqual(['pi1 cgroup flags (5s)']);
  });
});

describe('waitFor reports where a long wait stands', () => {
  it('tells onWait each new state once (the convergence wait shows "2/3 taskmanagers")', async () => {
    const states = ['1/3 taskmanagers', '1/3 taskmanagers', '2/3 taskmanagers'];
    let i = 0;
    const seen: string[] = [];
    const result = waitFor(
      async () => {
        const state = states[i++];
        return state === undefined ? { done: true as const, result: 'ok' } : { done: false as const, last: state };
      },
      { timeoutMs: 60_000, intervalMs: 500, onWait: (s) => seen.push(s) },
    );
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await result).toBe('ok');
    expect(seen).toEqual(['1/3 taskmanagers', '2/3 taskmanagers']);
  });
});
