// The runner: facts → plan → apply for each step on each host; the only place that decides ok/changed,
// and the only place that honours check mode.
import pLimit from 'p-limit';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import type { Reporter } from '../report/types.ts';
import { mask } from '../secrets.ts';
import type { TransportPool } from '../transport/open.ts';
import { UnreachableError, type Transport } from '../transport/types.ts';
import { waitFor, waitingProgress } from './wait.ts';
import { applyAction } from './apply.ts';
import { Outputs, type OutputKey, type OutputSource } from './outputs.ts';
import { recapHosts } from './recap.ts';
import type { AnyStep, FileDiff, HostContext, HostOutcome, Plan, RunResult, RunSummary, Step, StepResult, WaitEnd, WaitStep } from './types.ts';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
}

/** What lives across the phases of one command: inventory, connections, reporter, options. */
export interface Session {
  inventory: Inventory;
  /** Hosts selected by --limit. */
  hosts: HostSpec[];
  options: RunOptions;
  reporter: Reporter;
  pool: TransportPool;
  /** Phase-specific options parsed by the CLI. */
  args: Record<string, string | boolean | string[] | undefined>;
  /** What steps and phases recorded for later ones in this command (deploy hands the image reference to stack-deploy). */
  outputs: Outputs;
  /** The phases this command runs, in order (absent: only the one being run). */
  phases?: string[];
}

export interface PlayOptions {
  name: string;
  /** Defaults to every selected host. Hosts outside --limit and hosts that already failed are left out. */
  hosts?: HostSpec[];
  steps: AnyStep[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a step hands back to the runner besides its result: the value to record, when there is one. */
interface Ran {
  result: StepResult;
  /** Present when the runner records an output for this step on this host. */
  output?: { value: unknown };
}

async function decide(step: Step<unknown, unknown>, ctx: HostContext): Promise<{ plan: Plan; facts?: { value: unknown } } | { failed: string }> {
  try {
    const facts = await step.gather(ctx);
    return { plan: step.plan(facts, ctx), facts: { value: facts } };
  } catch (err) {
    if (err instanceof UnreachableError) throw err;
    return { failed: mask(`could not read facts: ${message(err)}`) };
  }
}

async function applyPlan(plan: Plan, ctx: HostContext, result: (status: StepResult['status'], extra?: Partial<StepResult>) => StepResult): Promise<StepResult> {
  switch (plan.kind) {
    case 'ok':
      return result('ok', plan.msg ? { msg: plan.msg } : {});
    case 'skip':
      return result('skipped', { msg: plan.msg });
    case 'fail':
      return result('failed', { msg: mask(plan.msg) });
    case 'unmet':
      if (!ctx.check) return result('failed', { msg: mask(plan.msg) });
      if ('skip' in plan.inCheck) return result('skipped', { msg: mask(plan.inCheck.skip) });
      return result('changed', { changes: plan.inCheck.changes.map((c) => mask(c.summary)), msg: 'would change (check mode)' });
    case 'change': {
      const changes = plan.changes.map((c) => mask(c.summary));
      const diffs = plan.changes.flatMap((c): FileDiff[] => (c.diff ? [c.diff] : []));
      if (ctx.check) return result('changed', { changes, diffs, msg: 'would change (check mode)' });
      const done: string[] = [];
      for (const change of plan.changes) {
        for (const action of change.actions) {
          const outcome = await applyAction(action, ctx);
          if (!outcome.ok) return result('failed', { msg: outcome.msg, changes: done, diffs });
        }
        done.push(mask(change.summary));
      }
      return result('changed', { changes, diffs });
    }
  }
}

function defaultConclusion<S>(end: WaitEnd<S>, ctx: HostContext, explanation: string): Plan {
  const why = [end.why, explanation].filter(Boolean).join('\n');
  switch (end.kind) {
    case 'done':
      return { kind: 'ok', msg: `done after ${(end.waitedMs / 1000).toFixed(1)} s` };
    case 'notYet':
      return { kind: 'skip', msg: `not yet; a real run would wait: ${why}` };
    case 'failed':
    case 'timedOut':
      return ctx.check ? { kind: 'skip', msg: `not yet; a real run would wait: ${why}` } : { kind: 'fail', msg: why };
  }
}

/**
 * The one way Fridge waits: poll, judge each look purely, give up at the deadline. Check mode looks once.
 * Progress says what the last look saw, whenever it changes.
 */
async function runWait(step: WaitStep<unknown>, ctx: HostContext): Promise<{ plan: Plan; state: unknown } | { failed: string }> {
  const started = Date.now();
  let state: unknown;
  const look = async () => {
    state = await step.poll(ctx, state);
    const v = step.verdict(state, ctx);
    return v.kind === 'waiting' ? { done: false as const, last: v.state } : { done: true as const, result: v };
  };
  let end: WaitEnd<unknown>;
  try {
    if (ctx.check) {
      const p = await look();
      end = p.done ? { kind: p.result.kind, state, why: p.result.kind === 'failed' ? p.result.why : '', waitedMs: Date.now() - started } : { kind: 'notYet', state, why: p.last, waitedMs: Date.now() - started };
    } else {
      const r = await waitFor(look, { timeoutMs: step.timeoutMs, intervalMs: step.intervalMs ?? 500, ...waitingProgress(ctx.progress) });
      const waitedMs = Date.now() - started;
      end = 'ok' in r ? { kind: 'timedOut', state, why: r.message, waitedMs } : { kind: r.kind, state, why: r.kind === 'failed' ? r.why : '', waitedMs };
    }
    const explanation = end.kind !== 'done' && step.explain ? await step.explain(state, ctx) : '';
    return { plan: (step.conclude ?? defaultConclusion)(end, ctx, explanation), state };
  } catch (err) {
    if (err instanceof UnreachableError) throw err;
    return { failed: mask(`could not read facts: ${message(err)}`) };
  }
}

async function runStep(step: AnyStep, ctx: HostContext): Promise<Ran> {
  const started = Date.now();
  const result = (status: StepResult['status'], extra: Partial<StepResult> = {}): StepResult => ({
    host: ctx.host.name,
    step: step.name,
    status,
    durationMs: Date.now() - started,
    ...extra,
  });
  if ('kind' in step) {
    const waited = await runWait(step, ctx);
    if ('failed' in waited) return { result: result('failed', { msg: waited.failed }) };
    // A wait's last look is recorded whatever its verdict: what it saw is true even when it gave up.
    return { result: await applyPlan(waited.plan, ctx, result), output: { value: waited.state } };
  }
  const decided = await decide(step, ctx);
  if ('failed' in decided) return { result: result('failed', { msg: decided.failed }) };
  const r = await applyPlan(decided.plan, ctx, result);
  if (r.status !== 'ok' && r.status !== 'changed') return { result: r };
  const facts = decided.facts?.value;
  return { result: r, output: { value: step.output ? step.output(facts) : facts } };
}

export class Run {
  readonly outcomes: HostOutcome[] = [];
  readonly outputs: Record<string, string> = {};
  readonly data: Record<string, unknown> = {};
  private readonly dropped = new Set<string>();
  private readonly started = Date.now();
  private readonly seen: string[] = [];
  /** The phase's fact cache (facts/cache.ts): exists while this phase runs, so no other phase sees stale facts. */
  private readonly factCache: NonNullable<HostContext['factCache']> = new Map();
  /** Typed lines of the recap that other code reads (the GitHub deployment's URL), beside the display lines. */
  readonly result: RunResult = {};

  constructor(
    readonly phase: string,
    readonly session: Session,
  ) {}

  get check(): boolean {
    return this.session.options.check;
  }
  get inventory(): Inventory {
    return this.session.inventory;
  }
  get hosts(): HostSpec[] {
    return this.session.hosts;
  }
  /** What a step (or a phase, with `record`) of this command recorded for `host`; undefined when nothing was. */
  output<T>(from: OutputSource<T>, host: HostSpec | string): T | undefined {
    return this.session.outputs.get(from, typeof host === 'string' ? host : host.name);
  }

  /**
   * A phase's own result for later phases, for a value no step produces yet (#16 item 1 turns them into steps).
   * `undefined` removes it.
   */
  record<T>(key: OutputKey<T>, host: HostSpec | string, value: T | undefined): void {
    const name = typeof host === 'string' ? host : host.name;
    if (value === undefined) this.session.outputs.delete(key, name);
    else this.session.outputs.set(key, name, value);
  }

  /** How `step` ended on `host` in this phase (the last time it ran there); undefined when it did not run. */
  statusOf(step: AnyStep | string, host: HostSpec | string): StepResult['status'] | undefined {
    const name = typeof step === 'string' ? step : step.name;
    const on = typeof host === 'string' ? host : host.name;
    const results = this.outcomes.filter((o) => o.host === on).flatMap((o) => o.results.filter((r) => r.step === name));
    return results.at(-1)?.status;
  }

  get args(): Session['args'] {
    return this.session.args;
  }

  /** Whether this command runs the phase `name` after this one: a phase may leave work to it. */
  runsLater(name: string): boolean {
    const order = this.session.phases ?? [];
    const here = order.indexOf(this.phase);
    return here >= 0 && order.indexOf(name) > here;
  }

  /** Hosts still in the run: selected by --limit, not failed or unreachable earlier. */
  active(hosts: HostSpec[] = this.hosts): HostSpec[] {
    const selected = new Set(this.hosts.map((h) => h.name));
    return hosts.filter((h) => (selected.has(h.name) || h.connection === 'local') && !this.dropped.has(h.name));
  }

  transport(host: HostSpec): Promise<Transport> {
    return this.session.pool.get(host);
  }

  message(level: 'info' | 'warning' | 'error', text: string, host?: string): void {
    this.session.reporter.emit({ kind: 'message', level, text: mask(text), ...(host ? { host } : {}) });
  }

  /** Marks a host failed with a result that is not a step's (a precondition, a phase-level error). */
  fail(host: string, step: string, msg: string): void {
    const result: StepResult = { host, step, status: 'failed', msg: mask(msg), durationMs: 0 };
    this.noteOutcome({ host, results: [result] });
    this.session.reporter.emit({ kind: 'step-result', result });
  }

  private noteOutcome(outcome: HostOutcome): void {
    if (!this.seen.includes(outcome.host)) this.seen.push(outcome.host);
    this.outcomes.push(outcome);
    if (outcome.unreachable !== undefined || outcome.results.some((r) => r.status === 'failed')) this.dropped.add(outcome.host);
  }

  async play(opts: PlayOptions): Promise<HostOutcome[]> {
    const hosts = this.active(opts.hosts);
    const steps = opts.steps;
    const reporter = this.session.reporter;
    reporter.emit({ kind: 'play-start', play: opts.name, hosts: hosts.map((h) => h.name) });
    const outcomes: HostOutcome[] = [];
    await pLimit(this.session.options.forks).map(hosts, async (host) => {
      const outcome: HostOutcome = { host: host.name, results: [] };
      try {
        const transport = await this.transport(host);
        const outputs = this.session.outputs;
        let staged: Array<{ key: OutputKey<unknown>; value: unknown }> = [];
        const ctx: HostContext = {
          host,
          inventory: this.inventory,
          transport,
          check: this.check,
          factCache: this.factCache,
          output: (from, on = host.name) => outputs.get(from, on),
          record: (key, value) => void staged.push({ key, value }),
        };
        for (const step of steps) {
          // The start event lets reporters show what runs and for how long: a Docker install is silent for minutes.
          reporter.emit({ kind: 'step-start', host: host.name, step: step.name });
          let said = '';
          const progress = (text: string): void => {
            const masked = mask(text);
            if (masked !== said) reporter.emit({ kind: 'progress', host: host.name, step: step.name, text: (said = masked) });
          };
          staged = [];
          const ran = await runStep(step, { ...ctx, progress });
          const r = ran.result;
          // After a change (or a failure, which may have applied part of one) the next step reads the host again.
          if (!this.check && (r.status === 'changed' || r.status === 'failed')) this.factCache.delete(host.name);
          if (r.status === 'ok' || r.status === 'changed') {
            for (const s of staged) outputs.set(s.key, host.name, s.value);
          }
          if (ran.output) {
            outputs.set(step, host.name, ran.output.value);
            if (step.key) outputs.set(step.key, host.name, ran.output.value);
          }
          outcome.results.push(r);
          reporter.emit({ kind: 'step-result', result: r });
          if (r.status === 'failed') break;
        }
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        this.factCache.delete(host.name);
        outcome.unreachable = mask(err.message);
        await this.session.pool.drop(host.name);
        reporter.emit({ kind: 'unreachable', host: host.name, msg: outcome.unreachable });
      }
      outcomes.push(outcome);
      this.noteOutcome(outcome);
    });
    return outcomes;
  }

  summary(): RunSummary {
    // The recap lists hosts in inventory order (the implicit localhost first), not in the order they finished.
    const order = (h: string) => this.inventory.hosts.findIndex((x) => x.name === h);
    const names = [...this.seen].sort((a, b) => order(a) - order(b));
    return {
      phase: this.phase,
      check: this.check,
      recap: recapHosts(names, this.outcomes),
      durationMs: Date.now() - this.started,
      outputs: this.outputs,
      result: this.result,
      data: this.data,
    };
  }
}
