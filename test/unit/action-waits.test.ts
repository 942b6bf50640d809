// #16 item 3: the waits inside a step's apply (a reboot, a key login after sshd reloads, the sim lock) run on
// engine/wait.ts's waitFor: one deadline, one interval, progress through the step context. Fake timers, no host.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostContext } from '../../tasks/lib/engine/types.ts';
import { waitFor } from '../../tasks/lib/engine/wait.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { withSimLock } from '../../tasks/lib/sim/lock.ts';
import { rebootAndWait } from '../../tasks/lib/steps/docker.ts';
import { proveKeyLogin } from '../../tasks/lib/steps/ssh.ts';
import { openTransport } from '../../tasks/lib/transport/open.ts';
import { UnreachableError, type ExecResult, type Transport } from '../../tasks/lib/transport/types.ts';
import { ctxFor } from './steps-fixture.ts';

vi.mock('../../tasks/lib/transport/open.ts', () => ({ openTransport: vi.fn() }));

vi.mock('../../tasks/lib/sim/config.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../tasks/lib/sim/config.ts')>();
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  // The real lock belongs to the virtual fridge other runs may be using: this test locks a directory of its own.
  return { ...real, SIM_PATHS: { ...real.SIM_PATHS, dir: mkdtempSync(join(tmpdir(), 'fridge-lock-')) } };
});

const opened = vi.mocked(openTransport);

function transport(answers: (command: string) => ExecResult): Transport & { closed: number } {
  const refuse = (): never => {
    throw new Error('not used here');
  };
  const t = {
    host: 'pi1',
    closed: 0,
    exec: async (command: string) => answers(command),
    put: refuse,
    putFile: refuse,
    get: refuse,
    close: async () => {
      t.closed++;
    },
  };
  return t;
}

const said = (stdout: string, code = 0): ExecResult => ({ code, stdout, stderr: '' });

/** A context whose own connection answers `boot` to the boot id, and that collects progress lines. */
function ctx(boot = 'boot-1'): { ctx: HostContext; progress: string[] } {
  const progress: string[] = [];
  const own = transport((c) => said(c.includes('boot_id') ? `${boot}\n` : ''));
  return { ctx: { ...ctxFor('pi1'), transport: own, progress: (t) => progress.push(t) }, progress };
}

beforeEach(() => {
  vi.useFakeTimers();
  opened.mockReset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('rebootAndWait', () => {
  it('gives up at its deadline naming the host and the reboot, and says what the last look saw', async () => {
    opened.mockRejectedValue(new UnreachableError('pi1', 'connect ECONNREFUSED 10.77.0.11:22'));
    const { ctx: c, progress } = ctx();
    const done = rebootAndWait(c, 60_000);
    // The first look waits for the host to go down.
    await vi.advanceTimersByTimeAsync(9_999);
    expect(opened).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await done).toEqual({ ok: false, msg: 'pi1 did not come back within 60 s after the reboot' });
    // Looks at 10 s, then every 5 s until 60 s.
    expect(opened).toHaveBeenCalledTimes(11);
    expect(progress).toEqual(['waiting: no SSH connection yet (connect ECONNREFUSED 10.77.0.11:22)']);
  });

  it('is done when a new connection sees a new boot id, and closes every connection it opened', async () => {
    const boots = ['boot-1', 'boot-2'];
    const made: Array<ReturnType<typeof transport>> = [];
    opened.mockImplementation(async () => {
      const b = boots.shift() ?? 'boot-2';
      const t = transport(() => said(`${b}\n`));
      made.push(t);
      return t;
    });
    const { ctx: c, progress } = ctx();
    const done = rebootAndWait(c);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(await done).toEqual({ ok: true, output: 'rebooted' });
    expect(made.map((t) => t.closed)).toEqual([1, 1]);
    expect(progress).toEqual(['waiting: still the boot before the reboot']);
  });

  it('a failure that is not about reaching the host is a bug: it is thrown, not waited on', async () => {
    opened.mockRejectedValue(new TypeError('boom'));
    const { ctx: c } = ctx();
    const done = rebootAndWait(c);
    const seen = expect(done).rejects.toThrow('boom');
    await vi.advanceTimersByTimeAsync(10_000);
    await seen;
  });
});

describe('proveKeyLogin', () => {
  it('retries refusals while sshd reloads, then gives up at its deadline with the last error', async () => {
    let n = 0;
    opened.mockImplementation(async () => {
      throw new Error(`connect ECONNREFUSED 10.77.0.11:22 (try ${++n})`);
    });
    const { ctx: c, progress } = ctx();
    const done = proveKeyLogin(c, 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await done).toEqual({ ok: false, msg: `key-only login to pi@10.77.0.11 failed, password login left on: connect ECONNREFUSED 10.77.0.11:22 (try ${n})` });
    // A try at once, then every 500 ms up to the deadline.
    expect(n).toBe(5);
    expect(progress[0]).toBe('waiting: connect ECONNREFUSED 10.77.0.11:22 (try 1)');
    expect(opened).toHaveBeenCalledWith(c.host, { auth: 'inventory-key' });
  });

  it('succeeds once sshd answers again', async () => {
    let n = 0;
    const t = transport(() => said(''));
    opened.mockImplementation(async () => {
      if (++n < 3) throw new Error('read ECONNRESET');
      return t;
    });
    const { ctx: c } = ctx();
    const done = proveKeyLogin(c);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await done).toEqual({ ok: true });
    expect(t.closed).toBe(1);
  });

  it('an authentication failure is final: no retry', async () => {
    opened.mockRejectedValue(new UnreachableError('pi1', 'All configured authentication methods failed'));
    const { ctx: c } = ctx();
    expect(await proveKeyLogin(c)).toEqual({ ok: false, msg: 'key-only login to pi@10.77.0.11 failed, password login left on: All configured authentication methods failed' });
    expect(opened).toHaveBeenCalledTimes(1);
  });

  it("a login whose 'true' fails says so", async () => {
    opened.mockResolvedValue(transport(() => said('', 1)));
    const { ctx: c } = ctx();
    expect(await proveKeyLogin(c)).toEqual({ ok: false, msg: "key login to pi@10.77.0.11 ran but 'true' exited 1" });
  });
});

describe('withSimLock', () => {
  const lockFile = () => path.join(SIM_PATHS.dir, 'lock');
  afterEach(() => fs.rmSync(lockFile(), { force: true }));
  afterAll(() => fs.rmSync(SIM_PATHS.dir, { recursive: true, force: true }));

  it('locks a directory of its own, never the virtual fridge', () => {
    expect(SIM_PATHS.dir.startsWith(os.tmpdir())).toBe(true);
  });

  it('waits for a live holder, then gives up naming it', async () => {
    // A live process that is not this one: the test runner's parent.
    fs.writeFileSync(lockFile(), `${process.ppid}\n`);
    const body = vi.fn(async () => 'ran');
    const done = withSimLock(body, 2_000);
    const seen = expect(done).rejects.toThrow(`another sim up/down (pid ${process.ppid}) has held ${lockFile()} for too long`);
    await vi.advanceTimersByTimeAsync(2_500);
    await seen;
    expect(body).not.toHaveBeenCalled();
    expect(fs.readFileSync(lockFile(), 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('takes over a lock whose holder died, at once, and releases it after the body', async () => {
    const dead = spawnSync('true').pid;
    fs.writeFileSync(lockFile(), `${dead}\n`);
    const body = vi.fn(async () => fs.readFileSync(lockFile(), 'utf8'));
    expect(await withSimLock(body, 1_000)).toBe(`${process.pid}\n`);
    expect(fs.existsSync(lockFile())).toBe(false);
  });
});

describe('waitFor', () => {
  it('startAfterMs delays the first look and counts in the timeout', async () => {
    const looks: number[] = [];
    const t0 = Date.now();
    const done = waitFor(async () => (looks.push(Date.now() - t0), { done: false, last: 'no' }), { timeoutMs: 3_000, intervalMs: 1_000, startAfterMs: 2_000 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await done).toMatchObject({ ok: false, status: 0, last: 'no' });
    expect(looks).toEqual([2_000, 3_000]);
  });
});
