// The runner: facts → plan → apply for each step on each host; the only place that decides ok/changed,
// and the only place that honours check mode.
import pLimit from 'p-limit';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import type { Reporter } from '../report/types.ts';
import { mask } from '../secrets.ts';
import type { TransportPool } from '../transport/open.ts';
import { UnreachableError, type Transport } from '../transport/types.ts';
import { applyAction } from './apply.ts';
import { recapHosts } from './recap.ts';
import type { FileDiff, HostContext, HostOutcome, Plan, RunSummary, Step, StepResult } from './types.ts';

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
  /** Shared between phases of one command (deploy hands the image reference to stack-deploy). */
  shared: Map<string, unknown>;
  /** The phases this command runs, in order (absent: only the one being run). */
  phases?: string[];
}

export interface PlayOptions {
  name: string;
  /** Defaults to every selected host. Hosts outside --limit and hosts that already failed are left out. */
  hosts?: HostSpec[];
  steps: Step<unknown>[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runStep(step: Step<unknown>, ctx: HostContext): Promise<StepResult> {
  const started = Date.now();
  const result = (status: StepResult['status'], extra: Partial<StepResult> = {}): StepResult => ({
    host: ctx.host.name,
    step: step.name,
    status,
    durationMs: Date.now() - started,
    ...extra,
  });
  let plan: Plan;
  try {
    const facts = await step.gather(ctx);
    plan = step.plan(facts, ctx);
  } catch (err) {
    if (err instanceof UnreachableError) throw err;
    return result('failed', { msg: mask(`could not read facts: ${message(err)}`) });
  }
  switch (plan.kind) {
    case 'ok':
      return result('ok', plan.msg ? { msg: plan.msg } : {});
    case 'skip':
      return result('skipped', { msg: plan.msg });
    case 'fail':
      return result('failed', { msg: mask(plan.msg) });
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

export class Run {
  readonly outcomes: HostOutcome[] = [];
  readonly outputs: Record<string, string> = {};
  readonly data: Record<string, unknown> = {};
  private readonly dropped = new Set<string>();
  private readonly started = Date.now();
  private readonly seen: string[] = [];

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
  get shared(): Map<string, unknown> {
    return this.session.shared;
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
    this.record({ host, results: [result] });
    this.session.reporter.emit({ kind: 'step-result', result });
  }

  private record(outcome: HostOutcome): void {
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
        const ctx: HostContext = { host, inventory: this.inventory, transport, check: this.check, shared: this.shared };
        for (const step of steps) {
          // The start event lets reporters show what runs and for how long: a Docker install is silent for minutes.
          reporter.emit({ kind: 'step-start', host: host.name, step: step.name });
          let said = '';
          const progress = (text: string): void => {
            const masked = mask(text);
            if (masked !== said) reporter.emit({ kind: 'progress', host: host.name, step: step.name, text: (said = masked) });
          };
          const r = await runStep(step, { ...ctx, progress });
          outcome.results.push(r);
          reporter.emit({ kind: 'step-result', result: r });
          if (r.status === 'failed') break;
        }
      } catch (err) {
        if (!(err instanceof UnreachableError)) throw err;
        outcome.unreachable = mask(err.message);
        await this.session.pool.drop(host.name);
        reporter.emit({ kind: 'unreachable', host: host.name, msg: outcome.unreachable });
      }
      outcomes.push(outcome);
      this.record(outcome);
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
      data: this.data,
    };
  }
}
