// #16 item 3: waits are a step kind the runner runs with the one polling loop: deadline, interval, verdict,
// progress for the reporters; check mode looks once; the last look is the step's output.
import { describe, expect, it } from 'vitest';
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { WaitStep } from '../../tasks/lib/engine/types.ts';
import { localHosts, session } from '../helpers/engine.ts';

/** Counts up by one per look; done at `doneAt`, failed at `failAt`. */
function counter(o: { doneAt?: number; failAt?: number; timeoutMs?: number; looks: { n: number } }): WaitStep<{ n: number }> {
  return {
    kind: 'wait',
    name: 'count',
    timeoutMs: o.timeoutMs ?? 5_000,
    intervalMs: 10,
    async poll(_, previous) {
      o.looks.n++;
      return { n: (previous?.n ?? 0) + 1 };
    },
    verdict: (s) => (s.n === o.doneAt ? { kind: 'done' } : s.n === o.failAt ? { kind: 'failed', why: `broke at ${s.n}` } : { kind: 'waiting', state: `at ${s.n}` }),
  };
}

const one = () => localHosts(['a'], () => ({}));

describe('wait steps', () => {
  it('ends as soon as the verdict is done, ok, with the last look as output', async () => {
    const looks = { n: 0 };
    const wait = counter({ doneAt: 3, looks });
    const run = new Run('demo', session(one()));
    const [o] = await run.play({ name: 'p', steps: [wait] });
    expect(o?.results[0]).toMatchObject({ status: 'ok', msg: expect.stringMatching(/^done after \d+\.\d s$/) });
    expect(looks.n).toBe(3);
    expect(run.output(wait, 'a')).toEqual({ n: 3 });
  });

  it('at the deadline fails with what it saw last, and that look is still its output', async () => {
    const wait = counter({ timeoutMs: 60, looks: { n: 0 } });
    const run = new Run('demo', session(one()));
    const [o] = await run.play({ name: 'p', steps: [wait] });
    const r = o?.results[0];
    expect(r?.status).toBe('failed');
    const last = run.output(wait, 'a')?.n;
    expect(r?.msg).toBe(`gave up after 0 s: at ${last}`);
  });

  it('fails early on a failed verdict, not at its deadline', async () => {
    const t0 = Date.now();
    const [o] = await new Run('demo', session(one())).play({ name: 'p', steps: [counter({ failAt: 2, timeoutMs: 60_000, looks: { n: 0 } })] });
    expect(o?.results[0]).toMatchObject({ status: 'failed', msg: 'broke at 2' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('in check mode looks once and reports: skipped when not done, ok when done', async () => {
    const looks = { n: 0 };
    const [o] = await new Run('demo', session(one(), { check: true })).play({ name: 'p', steps: [counter({ doneAt: 5, looks })] });
    expect(looks.n).toBe(1);
    expect(o?.results[0]).toMatchObject({ status: 'skipped', msg: 'not yet; a real run would wait: at 1' });
    const [done] = await new Run('demo', session(one(), { check: true })).play({ name: 'p', steps: [counter({ doneAt: 1, looks: { n: 0 } })] });
    expect(done?.results[0]?.status).toBe('ok');
  });

  it('tells the reporters where it stands, once per new state', async () => {
    const s = session(one());
    await new Run('demo', s).play({ name: 'p', steps: [counter({ doneAt: 4, looks: { n: 0 } })] });
    const progress = s.reporter.events.flatMap((e) => (e.kind === 'progress' ? [e.text] : []));
    expect(progress).toEqual(['waiting: at 1', 'waiting: at 2', 'waiting: at 3']);
  });

  it('a look that throws fails the step with the reason, as a gather would', async () => {
    const broken: WaitStep<number> = { kind: 'wait', name: 'broken', timeoutMs: 1_000, poll: async () => Promise.reject(new Error('no answer')), verdict: () => ({ kind: 'done' }) };
    const [o] = await new Run('demo', session(one())).play({ name: 'p', steps: [broken] });
    expect(o?.results[0]).toMatchObject({ status: 'failed', msg: 'could not read facts: no answer' });
  });
});
