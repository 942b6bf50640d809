// #16 "done when": no module outside the runner decides ok/changed or checks check mode. Today's exceptions
// are listed by file; the list may only shrink (a file that no longer needs its entry fails this test too).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../tasks/lib');
const RUNNER = 'engine/runner.ts';

/** Reads check mode (run.check, ctx.check, a destructured `check`), or makes a status of its own. */
const PATTERNS = [/\b(run|ctx|opts|options)\.check\b/, /[{,]\s*check\s*[,}]/, /status: '(ok|changed)'/];

/**
 * #16 item 1 (not done yet): these flows keep their own status or check-mode branch. Remove a line when its
 * file is split into steps the runner decides.
 */
const EXCEPTIONS: Record<string, string> = {
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [path.relative(ROOT, p)] : [];
  });
}

describe('the runner alone decides ok/changed and honours check mode', () => {
  const offenders = sources(ROOT)
    .filter((f) => f !== RUNNER)
    .filter((f) => {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      return PATTERNS.some((p) => text.split('\n').some((line) => !line.trim().startsWith('//') && p.test(line)));
    })
    .sort();

  it('no module outside the runner does it, except the listed ones (#16 item 1)', () => {
    expect(offenders.filter((f) => !(f in EXCEPTIONS))).toEqual([]);
  });

  it('the list of exceptions only shrinks: every entry is still needed', () => {
    expect(Object.keys(EXCEPTIONS).filter((f) => !offenders.includes(f))).toEqual([]);
  });
});

/**
 * #16 item 3: one implementation of waiting (engine/wait.ts waitFor: deadline, interval, what is waited for,
 * progress). A hand-written deadline loop or a bare sleep elsewhere fails here; justified ones are listed.
 */
const WAIT_HOME = 'engine/wait.ts';
const HAND_WAITS = [
  /\bwhile\s*\(.*Date\.now\(\)/, // while (Date.now() < deadline)
  /Date\.now\(\)\s*\+/, // const deadline = Date.now() + ms
  /(?<!\.)\bsetTimeout\(\s*\w+\s*,/, // new Promise((r) => setTimeout(r, ms)): a bare sleep (not a socket's timeout)
  /\bsleep\(|node:timers\/promises/, // zx's sleep, timers/promises' setTimeout
];
const WAIT_EXCEPTIONS: Record<string, string> = {
  'cli/main.ts': 'a cap on how long closing connections may hold up the exit (raced against closeAll), not a poll',
  'discover/probe.ts': 'pacing: connection attempts spread out to a rate per second, nothing is waited for',
};

describe('every wait goes through engine/wait.ts', () => {
  const offenders = sources(ROOT)
    .filter((f) => f !== WAIT_HOME)
    .filter((f) => {
      const lines = fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n');
      return lines.some((line) => !line.trim().startsWith('//') && !line.trim().startsWith('*') && HAND_WAITS.some((p) => p.test(line)));
    })
    .sort();

  it('no hand-written deadline loop or bare sleep outside it, except the listed ones', () => {
    expect(offenders.filter((f) => !(f in WAIT_EXCEPTIONS))).toEqual([]);
  });

  it('the list of exceptions only shrinks: every entry is still needed', () => {
    expect(Object.keys(WAIT_EXCEPTIONS).filter((f) => !offenders.includes(f))).toEqual([]);
  });
});
