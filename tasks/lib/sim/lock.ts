// One `up`/`down` at a time on this machine: several tools and test files share the one virtual fridge.
import fs from 'node:fs';
import path from 'node:path';
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

export async function withSimLock<T>(body: () => Promise<T>, timeoutMs = 10 * 60_000): Promise<T> {
  fs.mkdirSync(SIM_PATHS.dir, { recursive: true, mode: 0o700 });
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = holder();
      // The holder died without cleaning up: the lock is stale.
      if (pid === undefined) fs.rmSync(LOCK, { force: true });
      else if (pid === process.pid) throw new Error('bug: simUp/simDown called while this process holds the sim lock');
      else if (Date.now() > end) throw new SimError(`another sim up/down (pid ${pid}) has held ${LOCK} for too long`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await body();
  } finally {
    if (holder() === process.pid) fs.rmSync(LOCK, { force: true });
  }
}
