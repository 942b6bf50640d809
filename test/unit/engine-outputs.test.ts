// #16 item 2: step outputs are recorded by the runner, typed, per host; nothing for a failed or skipped step;
// the fact cache is the runner's, forgotten after every change on a host (no step opts in).
import { describe, expect, it } from 'vitest';
import { outputKey } from '../../tasks/lib/engine/outputs.ts';
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { HostContext, Plan, Step } from '../../tasks/lib/engine/types.ts';
import { localHosts, session } from '../helpers/engine.ts';

const hosts = () => localHosts(['a', 'b', 'c'], () => ({}));

/** Facts: the host's name and a number; plan: what `decide` says for that host. */
function step(name: string, decide: (host: string) => Plan): Step<{ host: string; n: number }> {
  return {
    name,
    gather: async (ctx) => ({ host: ctx.host.name, n: ctx.host.name.charCodeAt(0) }),
    plan: (f) => decide(f.host),
  };
}

const change = (summary: string): Plan => ({ kind: 'change', changes: [{ summary, actions: [] }] });

describe('step outputs', () => {
  it('records each host its own facts, typed, for the phase and for later steps', async () => {
    const facts = step('facts', () => ({ kind: 'ok' }));
    let seenByLater: number | undefined;
    const later: Step<null> = {
      name: 'later',
      gather: async (ctx) => {
        // Typed through the step: `n` is a number here, no cast.
        seenByLater = ctx.output(facts)?.n;
        return null;
      },
      plan: () => ({ kind: 'ok' }),
    };
    const run = new Run('demo', session(hosts()));
    await run.play({ name: 'p', steps: [facts, later] });
    expect(run.output(facts, 'a')).toEqual({ host: 'a', n: 97 });
    expect(run.output(facts, 'c')?.n).toBe(99);
    expect(seenByLater).toBeGreaterThan(96);
  });

  it('records what `output` makes of the facts, also under the step key, across phases of one command', async () => {
    const DOUBLED = outputKey<number>('test.doubled');
    const doubling: Step<{ host: string; n: number }, number> = { ...step('double', () => change('x')), output: (f) => f.n * 2, key: DOUBLED };
    const s = session(hosts());
    await new Run('first', s).play({ name: 'p', steps: [doubling] });
    const second = new Run('second', s);
    expect(second.output(DOUBLED, 'b')).toBe(196);
    // A key made again with the same name reads the same output (a reader in another module).
    expect(second.output(outputKey<number>('test.doubled'), 'a')).toBe(194);
  });

  it('records nothing for a failed or skipped step, and nothing a failed step staged while applying', async () => {
    const STAGED = outputKey<string>('test.staged');
    const mixed: Step<{ host: string; n: number }> = {
      ...step('mixed', (h) => (h === 'a' ? { kind: 'ok' } : h === 'b' ? { kind: 'skip', msg: 'not here' } : { kind: 'fail', msg: 'broken' })),
    };
    const staging: Step<null> = {
      name: 'stage then fail on b',
      gather: async () => null,
      plan: (_, ctx) => ({
        kind: 'change',
        changes: [
          {
            summary: 'stage',
            actions: [
              {
                kind: 'call',
                label: 'stage',
                fn: async (c: HostContext) => {
                  c.record(STAGED, `made on ${c.host.name}`);
                  return ctx.host.name === 'b' ? { ok: false, msg: 'no' } : { ok: true };
                },
              },
            ],
          },
        ],
      }),
    };
    const run = new Run('demo', session(hosts()));
    await run.play({ name: 'p', steps: [mixed] });
    expect(run.output(mixed, 'a')).toBeDefined();
    expect(run.output(mixed, 'b')).toBeUndefined();
    expect(run.output(mixed, 'c')).toBeUndefined();

    const run2 = new Run('demo2', session(hosts()));
    await run2.play({ name: 'p', steps: [staging] });
    expect(run2.output(STAGED, 'a')).toBe('made on a');
    expect(run2.output(STAGED, 'b')).toBeUndefined();
    expect(run2.output(staging, 'b')).toBeUndefined();
  });

  it('a phase records its own result under a key and removes it', () => {
    const LEFT = outputKey<number>('test.left');
    const run = new Run('demo', session(hosts()));
    run.record(LEFT, 'a', 5);
    expect(run.output(LEFT, 'a')).toBe(5);
    run.record(LEFT, 'a', undefined);
    expect(run.output(LEFT, 'a')).toBeUndefined();
  });
});

describe('the fact cache', () => {
  /** Reads "facts" through the phase's cache, counting real reads per host. */
  function cachedRead(reads: Map<string, number>, decide: (host: string) => Plan = () => ({ kind: 'ok' })): Step<null> {
    return {
      name: 'read facts',
      async gather(ctx) {
        const cache = ctx.factCache;
        if (cache && !cache.has(ctx.host.name)) {
          reads.set(ctx.host.name, (reads.get(ctx.host.name) ?? 0) + 1);
          cache.set(ctx.host.name, Promise.resolve(new Map()));
        }
        return null;
      },
      plan: (_, ctx) => decide(ctx.host.name),
    };
  }

  it('is read once per host while nothing changes, and again after any change on that host only', async () => {
    const reads = new Map<string, number>();
    const run = new Run('demo', session(hosts()));
    await run.play({ name: 'p', steps: [cachedRead(reads), cachedRead(reads), step('change on b', (h) => (h === 'b' ? change('x') : { kind: 'ok' })), cachedRead(reads)] });
    expect(Object.fromEntries(reads)).toEqual({ a: 1, b: 2, c: 1 });
  });

  it('is kept in check mode (nothing was applied), and is the phase own: a new phase reads again', async () => {
    const reads = new Map<string, number>();
    const s = session(hosts(), { check: true });
    const run = new Run('demo', s);
    await run.play({ name: 'p', steps: [cachedRead(reads, () => change('would')), cachedRead(reads)] });
    expect(Object.fromEntries(reads)).toEqual({ a: 1, b: 1, c: 1 });
    await new Run('next', s).play({ name: 'p', steps: [cachedRead(reads)] });
    expect(Object.fromEntries(reads)).toEqual({ a: 2, b: 2, c: 2 });
  });
});
