// The console reporter while steps run: live lines redrawn in place on a terminal, heartbeat lines elsewhere.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunSummary } from '../../tasks/lib/engine/types.ts';
import { ConsoleReporter, progressMode } from '../../tasks/lib/report/console.ts';
import { registerSecret } from '../../tasks/lib/secrets.ts';

const ESC = '\u001b[';
const summary: RunSummary = { phase: 'pi-setup', check: false, recap: [{ host: 'pi1', ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: false }], durationMs: 0, outputs: {} };

function terminal(isTTY = true) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 60, rows: 24, write: (t: string) => writes.push(t) } };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('progress mode', () => {
  it.each([
    [true, {}, 'live'],
    [false, {}, 'heartbeat'],
    [true, { CI: 'true' }, 'heartbeat'],
    [true, { GITHUB_ACTIONS: 'true' }, 'heartbeat'],
    [true, { TERM: 'dumb' }, 'heartbeat'],
    [true, { CI: 'false' }, 'live'],
  ] as const)('tty=%s env=%o → %s', (isTTY, env, mode) => {
    expect(progressMode({ isTTY }, env)).toBe(mode);
  });
});

describe('live lines on a terminal', () => {
  it('shows a line per running host with its step and elapsed time, redrawn in place, and clears them when the phase ends', async () => {
    const { writes, stream } = terminal();
    const r = new ConsoleReporter({ diff: false, color: false, terminal: stream, progress: 'live', refreshMs: 1_000 });
    r.emit({ kind: 'phase-start', phase: 'pi-setup', check: false, hosts: ['pi1', 'pi10'] });
    r.emit({ kind: 'step-start', host: 'pi1', step: 'docker engine' });
    r.emit({ kind: 'step-start', host: 'pi10', step: 'docker engine' });
    expect(writes.at(-1)).toBe(`${ESC}1A\r${ESC}J  pi1   docker engine  0s\n  pi10  docker engine  0s\n`);

    await vi.advanceTimersByTimeAsync(150_000);
    expect(writes.at(-1)).toBe(`${ESC}2A\r${ESC}J  pi1   docker engine  2m30s\n  pi10  docker engine  2m30s\n`);

    r.emit({ kind: 'progress', host: 'pi10', step: 'docker engine', text: 'apt: retry 2 of 5' });
    expect(writes.at(-1)).toBe(`${ESC}2A\r${ESC}J  pi1   docker engine  2m30s\n  pi10  docker engine  2m30s  apt: retry 2 of 5\n`);

    // A result is printed above the live lines, which are then redrawn without the finished host.
    r.emit({ kind: 'step-result', result: { host: 'pi1', step: 'docker engine', status: 'changed', durationMs: 150_000 } });
    expect(writes.slice(-2)).toEqual([
      `${ESC}2A\r${ESC}Jchanged: [pi1] docker engine\n  pi1   docker engine  2m30s\n  pi10  docker engine  2m30s  apt: retry 2 of 5\n`,
      `${ESC}2A\r${ESC}J  pi10  docker engine  2m30s  apt: retry 2 of 5\n`,
    ]);

    r.emit({ kind: 'step-result', result: { host: 'pi10', step: 'docker engine', status: 'changed', durationMs: 150_000 } });
    // No step runs, but the phase does (its own code between plays): its line stays.
    expect(writes.at(-1)).toBe(`${ESC}1A\r${ESC}J  phase  pi-setup  2m30s\n`);
    r.emit({ kind: 'phase-end', summary });
    expect(writes.at(-1)).toBe(`${ESC}1A\r${ESC}J`); // the live area is erased once the phase ended
    const count = writes.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes.length).toBe(count);
    expect(vi.getTimerCount()).toBe(0);
    expect(writes.join('')).toContain('PLAY RECAP pi-setup');
  });

  it('stop() (Ctrl-C) erases the live lines and its timer, and masks secrets in them', async () => {
    registerSecret('live-secret-1');
    const { writes, stream } = terminal();
    const r = new ConsoleReporter({ diff: false, color: true, terminal: stream, progress: 'live' });
    r.emit({ kind: 'step-start', host: 'pi1', step: 'registry login' });
    r.emit({ kind: 'progress', host: 'pi1', step: 'registry login', text: 'as live-secret-1' });
    expect(writes.at(-1)).toBe(`${ESC}1A\r${ESC}J${ESC}2m  pi1  registry login  0s  as ***${ESC}0m\n`);
    r.stop();
    expect(writes.at(-1)).toBe(`${ESC}1A\r${ESC}J`);
    const count = writes.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes.length).toBe(count);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cuts live lines to the terminal width so the redraw never miscounts wrapped lines', () => {
    const { writes, stream } = terminal();
    const r = new ConsoleReporter({ diff: false, color: false, terminal: { ...stream, columns: 30 }, progress: 'live' });
    r.emit({ kind: 'step-start', host: 'pi1', step: 'a very long step name that would wrap' });
    expect(writes.at(-1)).toBe('  pi1  a very long step name…\n'); // 29 characters: one column left free
  });
});

describe('not a terminal (CI, a pipe, a log file)', () => {
  it('prints a heartbeat line every 30 s and never a cursor code', async () => {
    const { writes, stream } = terminal(false);
    const r = new ConsoleReporter({ diff: false, color: false, terminal: stream, heartbeatMs: 30_000 });
    r.emit({ kind: 'phase-start', phase: 'pi-setup', check: false, hosts: ['pi1', 'pi2'] });
    r.emit({ kind: 'step-start', host: 'pi1', step: 'docker engine' });
    await vi.advanceTimersByTimeAsync(2_000);
    r.emit({ kind: 'step-start', host: 'pi2', step: 'docker engine' });
    await vi.advanceTimersByTimeAsync(148_000);
    r.emit({ kind: 'step-result', result: { host: 'pi1', step: 'docker engine', status: 'changed', durationMs: 150_000 } });
    r.emit({ kind: 'step-result', result: { host: 'pi2', step: 'docker engine', status: 'changed', durationMs: 148_000 } });
    r.emit({ kind: 'phase-end', summary });
    await vi.advanceTimersByTimeAsync(120_000);
    const text = writes.join('');
    expect(text).not.toContain('\u001b');
    expect(text.split('\n').filter((l) => l.startsWith('…'))).toEqual([
      '… still running: pi1 docker engine (30s), pi2 docker engine (28s)',
      '… still running: pi1 docker engine (1m00s), pi2 docker engine (58s)',
      '… still running: pi1 docker engine (1m30s), pi2 docker engine (1m28s)',
      '… still running: pi1 docker engine (2m00s), pi2 docker engine (1m58s)',
      '… still running: pi1 docker engine (2m30s), pi2 docker engine (2m28s)',
    ]);
    expect(text.trimEnd().split('\n').at(-1)).toMatch(/^pi1 +: ok=1/); // the recap is the last thing printed
    expect(vi.getTimerCount()).toBe(0);
  });
});
