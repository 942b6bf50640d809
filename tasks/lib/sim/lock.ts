// One `up`/`down` at a time on this machine: several tools and test files share the one virtual fridge.
import fs from 'node:fs';
import path from 'node:path';
import { waitFor, type Probe } from '../engine/wait.ts';
import { SIM_PATHS } from './config.ts';
import { SimError } from './run.ts';

const LOCK = path.join(SIM_PATHS.dir, 'lock');

function holder(): number | undefined {
  try {
    const pid = Number(fs.readFileSync(LOCK, 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** One try at the lock: taken, or the live process that holds it. A stale lock is removed and tried once more. */
function take(staleAgain = true): Probe<true> {
  try {
    fs.writeFileSync(LOCK, `${process.pid}\n`, { flag: 'wx' });
    return { done: true, result: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const pid = holder();
    if (pid === process.pid) throw new Error('bug: simUp/simDown called while this process holds the sim lock');
    if (pid !== undefined) return { done: false, last: `pid ${pid}` };
    // The holder died without cleaning up: the lock is stale.
    fs.rmSync(LOCK, { force: true });
    return staleAgain ? take(false) : { done: false, last: 'a holder that died' };
  }
}

export async function withSimLock<T>(body: () => Promise<T>, timeoutMs = 10 * 60_000): Promise<T> {
  fs.mkdirSync(SIM_PATHS.dir, { recursive: true, mode: 0o700 });
  const taken = await waitFor(async () => take(), { timeoutMs, intervalMs: 250 });
  if (taken !== true) throw new SimError(`another sim up/down (${taken.last}) has held ${LOCK} for too long`);
  try {
    return await body();
  } finally {
    if (holder() === process.pid) fs.rmSync(LOCK, { force: true });
  }
}
