import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../tasks/lib/engine/recap.ts';
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { HostContext, Step } from '../../tasks/lib/engine/types.ts';
import { formatRecap } from '../../tasks/lib/report/console.ts';
import { registerSecret } from '../../tasks/lib/secrets.ts';
import { shq } from '../../tasks/lib/transport/types.ts';
import { localHosts, session } from '../helpers/engine.ts';

// A step like pyinfra's files.put: reads the file (fact), plans a write only when the content differs.
function fileStep(name: string, content: string): Step<{ current: string | undefined; path: string }> {
  return {
    name: `file ${name}`,
    async gather(ctx: HostContext) {
      const p = path.join(String(ctx.host.vars.root), name);
      return { path: p, current: await ctx.transport.get(p) };
    },
    plan(facts) {
      if (facts.current === content) return { kind: 'ok' };
      return {
        kind: 'change',
        changes: [{ summary: `write ${name}`, actions: [{ kind: 'put', path: facts.path, content }], diff: { path: facts.path, before: facts.current ?? '', after: content } }],
      };
    },
  };
}

const failingStep: Step<null> = {
  name: 'fails on host b',
  async gather() {
    return null;
  },
  plan(_, ctx) {
    return ctx.host.name === 'b' ? { kind: 'change', changes: [{ summary: 'run false', actions: [{ kind: 'run', command: 'echo broken >&2; exit 7' }] }] } : { kind: 'ok' };
  },
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-engine-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function hosts(names = ['a', 'b', 'c']) {
  return localHosts(names, (n) => {
    fs.mkdirSync(path.join(dir, n), { recursive: true });
    return { root: path.join(dir, n) };
  });
}

describe('runner', () => {
  it('changes on the first run and reports 0 changed on the second', async () => {
    const hs = hosts();
    const steps = [fileStep('motd', 'hello fridge\n'), fileStep('hosts.conf', 'x=1\n')];
    const first = new Run('demo', session(hs));
    await first.play({ name: 'files', steps });
    expect(first.summary().recap.map((h) => [h.host, h.changed, h.ok])).toEqual([
      ['a', 2, 0],
      ['b', 2, 0],
      ['c', 2, 0],
    ]);
    expect(fs.readFileSync(path.join(dir, 'b', 'motd'), 'utf8')).toBe('hello fridge\n');

    const second = new Run('demo', session(hs));
    await second.play({ name: 'files', steps });
    const recap = second.summary().recap;
    expect(recap.every((h) => h.changed === 0 && h.ok === 2)).toBe(true);
    expect(exitCodeFor(recap)).toBe(0);
  });

  it('check mode reports what would change and writes nothing', async () => {
    const hs = hosts(['a']);
    const s = session(hs, { check: true });
    const run = new Run('demo', s);
    await run.play({ name: 'files', steps: [fileStep('motd', 'hi\n')] });
    expect(run.summary().recap[0]).toMatchObject({ host: 'a', changed: 1, failed: 0 });
    expect(fs.existsSync(path.join(dir, 'a', 'motd'))).toBe(false);
    const results = s.reporter.events.flatMap((e) => (e.kind === 'step-result' ? [e.result] : []));
    expect(results[0]?.diffs?.[0]).toMatchObject({ before: '', after: 'hi\n' });
  });

  it('an unmet prerequisite fails a real run; check mode skips or reports the would-be change, and nothing runs', async () => {
    const needsSwarm = (inCheck: { skip: string } | { changes: Array<{ summary: string; actions: [] }> }): Step<null> => ({
      name: 'needs a swarm',
      gather: async () => null,
      plan: () => ({ kind: 'unmet', msg: 'the leader is not a swarm manager', inCheck }),
    });
    const real = new Run('demo', session(hosts(['a'])));
    await real.play({ name: 'p', steps: [needsSwarm({ skip: 'no swarm yet (check mode)' }), fileStep('after', 'x')] });
    expect(real.summary().recap[0]).toMatchObject({ failed: 1, firstError: 'needs a swarm: the leader is not a swarm manager' });
    expect(real.statusOf('needs a swarm', 'a')).toBe('failed');
    expect(fs.existsSync(path.join(dir, 'a', 'after'))).toBe(false);

    const skipped = new Run('demo', session(hosts(['a']), { check: true }));
    await skipped.play({ name: 'p', steps: [needsSwarm({ skip: 'no swarm yet (check mode)' })] });
    expect(skipped.summary().recap[0]).toMatchObject({ failed: 0, skipped: 1 });
    expect(skipped.statusOf('needs a swarm', 'a')).toBe('skipped');

    const would = new Run('demo', session(hosts(['a']), { check: true }));
    await would.play({ name: 'p', steps: [needsSwarm({ changes: [{ summary: 'join the swarm as worker', actions: [] }] })] });
    expect(would.summary().recap[0]).toMatchObject({ failed: 0, changed: 1 });
    expect(would.statusOf('needs a swarm', 'a')).toBe('changed');
    expect(would.statusOf('never ran', 'a')).toBeUndefined();
  });

  it('a failing host does not stop the others and is left out of later plays', async () => {
    const hs = hosts();
    const run = new Run('demo', session(hs));
    await run.play({ name: 'one', steps: [failingStep] });
    await run.play({ name: 'two', steps: [fileStep('after', 'x')] });
    const recap = run.summary().recap;
    expect(recap.find((h) => h.host === 'b')).toMatchObject({ failed: 1, changed: 0 });
    expect(recap.find((h) => h.host === 'b')?.firstError).toContain('exit 7');
    expect(recap.find((h) => h.host === 'b')?.firstError).toContain('broken');
    expect(fs.existsSync(path.join(dir, 'b', 'after'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'a', 'after'))).toBe(true);
    expect(exitCodeFor(recap)).toBe(2);
  });

  it('forks limits how many hosts run at once', async () => {
    let running = 0;
    let peak = 0;
    const slow: Step<null> = {
      name: 'slow',
      async gather() {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return null;
      },
      plan: () => ({ kind: 'ok' }),
    };
    await new Run('demo', session(hosts(['a', 'b', 'c', 'd']), { forks: 2 })).play({ name: 'slow', steps: [slow] });
    expect(peak).toBe(2);
  });

  it('masks registered secrets in failure messages and in the recap', async () => {
    registerSecret('SWMTKN-1-supersecret');
    const leaky: Step<null> = {
      name: 'leaky',
      async gather() {
        return null;
      },
      plan: () => ({ kind: 'change', changes: [{ summary: 'join', actions: [{ kind: 'run', command: `echo ${shq('token SWMTKN-1-supersecret rejected')} >&2; exit 1` }] }] }),
    };
    const run = new Run('demo', session(hosts(['a'])));
    await run.play({ name: 'leak', steps: [leaky] });
    const text = formatRecap(run.summary()).join('\n');
    expect(text).toContain('first error');
    expect(text).not.toContain('supersecret');
    expect(text).toContain('***');
  });
});

describe('runner events for progress', () => {
  it('announces each step before its result, and passes on what a long step says it is doing', async () => {
    registerSecret('pr0gress-secret');
    const waiting: Step<null> = {
      name: 'converged',
      async gather(ctx) {
        ctx.progress?.('waiting: 1/3 taskmanagers');
        ctx.progress?.('waiting: 1/3 taskmanagers'); // unchanged: not repeated
        ctx.progress?.('waiting: 2/3 taskmanagers, token pr0gress-secret');
        return null;
      },
      plan: () => ({ kind: 'ok' }),
    };
    const s = session(hosts(['a']));
    await new Run('demo', s).play({ name: 'wait', steps: [fileStep('motd', 'x'), waiting] });
    const seen = s.reporter.events.flatMap((e) =>
      e.kind === 'step-start' ? [`start ${e.host} ${e.step}`] : e.kind === 'progress' ? [`progress ${e.host} ${e.step}: ${e.text}`] : e.kind === 'step-result' ? [`result ${e.result.host} ${e.result.step}`] : [],
    );
    expect(seen).toEqual([
      'start a file motd',
      'result a file motd',
      'start a converged',
      'progress a converged: waiting: 1/3 taskmanagers',
      'progress a converged: waiting: 2/3 taskmanagers, token ***',
      'result a converged',
    ]);
  });
});

describe('phases of one command', () => {
  it('a phase knows which phases the command runs after it', () => {
    const s = { ...session(hosts()), phases: ['stack-deploy', 'job-submit'] };
    expect(new Run('stack-deploy', s).runsLater('job-submit')).toBe(true);
    expect(new Run('job-submit', s).runsLater('stack-deploy')).toBe(false);
    expect(new Run('stack-deploy', { ...s, phases: ['stack-deploy'] }).runsLater('job-submit')).toBe(false);
    expect(new Run('stack-deploy', session(hosts())).runsLater('job-submit')).toBe(false);
  });
});

describe('exit codes', () => {
  const base = { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: false };
  it.each([
    [[base], 0],
    [[base, { ...base, host: 'x', failed: 1 }], 2],
    [[{ ...base, failed: 1 }, { ...base, unreachable: true }], 3],
  ])('recap %# → %i', (recap, code) => {
    expect(exitCodeFor(recap.map((r, i) => ({ host: `h${i}`, ...r })))).toBe(code);
  });
});
