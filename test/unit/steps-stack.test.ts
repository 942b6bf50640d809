// The stack-deploy flow's steps, facts in → plan out through the refusing fixture, and through the runner where
// what matters is what it applies: stop-with-savepoint only in a real run, the deployed stack read once.
import { describe, expect, it } from 'vitest';
import { convergeStep, flinkOutputs, type ConvergeFacts } from '../../tasks/lib/deploy/converge.ts';
import { STOPPED_JOBS, type StoppedJob } from '../../tasks/lib/deploy/savepoints.ts';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import { Run, type Session } from '../../tasks/lib/engine/runner.ts';
import type { StepResult, WaitEnd } from '../../tasks/lib/engine/types.ts';
import { FlinkRest, type JobSummary, type RestResult } from '../../tasks/lib/flink/rest.ts';
import type { HostSpec } from '../../tasks/lib/inventory/types.ts';
import { planStack } from '../../tasks/lib/stack/plan.ts';
import type { GeneratedStack } from '../../tasks/lib/stack/types.ts';
import { stackDeployStep, stackDigest } from '../../tasks/lib/steps/stack/deploy.ts';
import { DEPLOYED_STACK, type DeployedFacts } from '../../tasks/lib/steps/stack/deployed.ts';
import { stopJobsStep, stoppedJobMessages, type StopJobsFacts } from '../../tasks/lib/steps/stack/stop-jobs.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';
import type { ExecResult, Transport } from '../../tasks/lib/transport/types.ts';
import { RecordingReporter } from '../helpers/engine.ts';
import { commands, ctxFor, inventory } from './steps-fixture.ts';

const stack: GeneratedStack = {
  yaml: 'version: "3.8"\nservices: {}\n',
  files: {},
  services: ['jobmanager', 'taskmanager'],
  expected: { taskmanagers: 2, slots: 2 },
  capacity: { taskmanagers: 6, detail: 'pi2: 2, pi3: 2' },
  secrets: [],
  problems: [],
};
const DIGEST = stackDigest(stack);
const JOB = { jid: 'a'.repeat(32), name: 'sensor-window@1384dc3f1b48' };
const deployed = (digest: string | undefined): DeployedFacts => ({ deployedDigest: digest, services: digest ? ['flink_jobmanager', 'flink_taskmanager'] : [], taskmanagers: undefined });

/** Flink as the step sees it: the jobs listed, each stop answered from `savepoints` (job id → path, absent: refused). */
class FakeFlink extends FlinkRest {
  readonly stopsAsked: string[] = [];
  constructor(
    private readonly running: Array<Pick<JobSummary, 'jid' | 'name'>>,
    private readonly savepoints: Record<string, string>,
  ) {
    super({ baseUrl: 'http://fake-flink:8081' });
  }
  override async jobs(): Promise<RestResult<JobSummary[]>> {
    return { ok: true, value: this.running.map((j) => ({ ...j, state: 'RUNNING' as const, 'start-time': 1 })) };
  }
  override async stopWithSavepoint(jobId: string): Promise<RestResult<string>> {
    this.stopsAsked.push(jobId);
    const sp = this.savepoints[jobId];
    return sp ? { ok: true, value: sp } : { ok: false, status: 500, message: 'tasks not running' };
  }
  override async latestCheckpoint(): Promise<RestResult<{ id: number; path: string } | undefined>> {
    return { ok: true, value: undefined };
  }
}

describe('stop jobs with savepoint: the plan', () => {
  const inv = inventory();
  const step = stopJobsStep(inv, DIGEST, { rest: new FakeFlink([], {}), remember: () => undefined });
  const plan = (f: StopJobsFacts) => step.plan(f, ctxFor('pi1', { inv }));
  it('stops nothing when nothing is deployed yet, when the stack does not change, or when no job runs', () => {
    expect(plan({ deployed: deployed(undefined), running: [JOB] })).toEqual({ kind: 'ok', msg: 'stack flink is not deployed yet: no job to keep' });
    expect(plan({ deployed: deployed(DIGEST), running: [JOB] })).toEqual({ kind: 'ok', msg: 'stack flink does not change: its jobs keep running' });
    expect(plan({ deployed: deployed('other'), running: [] })).toEqual({ kind: 'ok', msg: 'no job running' });
  });
  it('stops each running job with a savepoint when the stack changes', () => {
    const other = { jid: 'b'.repeat(32), name: 'other@0123456789ab' };
    const p = plan({ deployed: deployed('other'), running: [JOB, other] });
    expect(p.kind === 'change' && p.changes.map((c) => c.summary)).toEqual([`stop job ${JOB.name} with a savepoint`, `stop job ${other.name} with a savepoint`]);
    expect(commands(p)).toEqual([`call savepoint of ${JOB.name}`, `call savepoint of ${other.name}`]);
  });
  it('hands the deployed stack it read to docker stack deploy', () => {
    expect(step.key).toBe(DEPLOYED_STACK);
    expect(step.output?.({ deployed: deployed('x'), running: [JOB] })).toEqual(deployed('x'));
  });
  it('tells the operator which savepoint each job resumes from; a fallback is a warning', () => {
    const s: StoppedJob = { cluster: 'c', name: JOB.name, jobId: JOB.jid, savepoint: 'file:/sp/1', stoppedAt: 1 };
    expect(stoppedJobMessages([s, { ...s, savepoint: 'file:/cp/2', fallback: 'no savepoint possible; cancelled, its retained checkpoint 2 is kept' }])).toEqual([
      { level: 'info', text: `stopped job ${JOB.name} with savepoint file:/sp/1` },
      { level: 'warning', text: `job ${JOB.name}: no savepoint possible; cancelled, its retained checkpoint 2 is kept; it resumes from file:/cp/2` },
    ]);
  });
});

/** The leader with a deployed stack whose digest is `mark`; every command remembered. */
class LeaderPool extends TransportPool {
  readonly ran: string[] = [];
  constructor(private readonly mark: string) {
    super();
  }
  override get(host: HostSpec): Promise<Transport> {
    const answer = (command: string): ExecResult => {
      this.ran.push(command);
      if (command.startsWith('cat ')) return { code: 0, stdout: `${this.mark}\n\n---\nflink_jobmanager\nflink_taskmanager\n---\n2 2\n`, stderr: '' };
      return { code: 0, stdout: '', stderr: '' };
    };
    return Promise.resolve({ host: host.name, exec: async (c: string) => answer(c), put: async () => undefined, putFile: async () => undefined, get: async () => undefined, close: async () => undefined });
  }
}

function runOn(pool: LeaderPool, check: boolean): { run: Run; results: () => StepResult[] } {
  const inv = inventory();
  const reporter = new RecordingReporter();
  const session: Session = { inventory: inv, hosts: inv.hosts, options: { check, diff: false, forks: 4 }, reporter, pool, args: {}, outputs: new Outputs(), phases: ['stack-deploy'] };
  return { run: new Run('stack-deploy', session), results: () => reporter.events.flatMap((e) => (e.kind === 'step-result' ? [e.result] : [])) };
}

describe('stop jobs with savepoint, through the runner', () => {
  const lead = (run: Run) => run.inventory.hosts[0] as HostSpec;

  it('check mode: says which jobs a real run would stop, stops none, records none', async () => {
    const pool = new LeaderPool('old-digest');
    const flink = new FakeFlink([JOB], { [JOB.jid]: 'file:/sp/1' });
    const { run, results } = runOn(pool, true);
    await run.play({ name: 'jobs', hosts: [lead(run)], steps: [stopJobsStep(run.inventory, DIGEST, { rest: flink, remember: () => undefined })] });
    expect(results()[0]).toMatchObject({ step: 'stop jobs with savepoint', status: 'changed', changes: [`stop job ${JOB.name} with a savepoint`], msg: 'would change (check mode)' });
    expect(flink.stopsAsked).toEqual([]);
    expect(run.output(STOPPED_JOBS, 'pi1')).toBeUndefined();
  });

  it('a real run stops each job, remembers and records it; docker stack deploy decides on the same reading', async () => {
    const pool = new LeaderPool('old-digest');
    const flink = new FakeFlink([JOB], { [JOB.jid]: 'file:/sp/1' });
    const remembered: StoppedJob[] = [];
    const { run, results } = runOn(pool, false);
    await run.play({
      name: 'deploy',
      hosts: [lead(run)],
      steps: [stopJobsStep(run.inventory, DIGEST, { rest: flink, remember: (s) => remembered.push(...s) }), stackDeployStep(run.inventory, stack)],
    });
    expect(results().map((r) => [r.step, r.status])).toEqual([
      ['stop jobs with savepoint', 'changed'],
      ['docker stack deploy', 'changed'],
    ]);
    expect(flink.stopsAsked).toEqual([JOB.jid]);
    expect(run.output(STOPPED_JOBS, 'pi1')).toMatchObject([{ name: JOB.name, jobId: JOB.jid, savepoint: 'file:/sp/1', cluster: 'http://fake-flink:8081' }]);
    expect(remembered).toMatchObject([{ jobId: JOB.jid, savepoint: 'file:/sp/1' }]);
    // The deployed digest is read once, by the first step.
    expect(pool.ran.filter((c) => c.includes('.deployed.sha256') && c.startsWith('cat '))).toHaveLength(1);
    expect(pool.ran.some((c) => c.includes('docker stack deploy'))).toBe(true);
  });

  it('a job whose state cannot be kept fails the step: the stack is not deployed, nothing is recorded', async () => {
    const pool = new LeaderPool('old-digest');
    const flink = new FakeFlink([JOB], {});
    const { run, results } = runOn(pool, false);
    await run.play({ name: 'deploy', hosts: [lead(run)], steps: [stopJobsStep(run.inventory, DIGEST, { rest: flink, remember: () => undefined }), stackDeployStep(run.inventory, stack)] });
    expect(results()).toHaveLength(1);
    expect(results()[0]).toMatchObject({ step: 'stop jobs with savepoint', status: 'failed', msg: expect.stringContaining(`stop-with-savepoint of job ${JOB.name} (${JOB.jid}) failed: tasks not running`) });
    expect(pool.ran.some((c) => c.includes('docker stack deploy'))).toBe(false);
    expect(run.output(STOPPED_JOBS, 'pi1')).toBeUndefined();
  });

  it('an unchanged stack asks Flink nothing', async () => {
    const pool = new LeaderPool(DIGEST);
    const flink = new FakeFlink([JOB], { [JOB.jid]: 'file:/sp/1' });
    const { run, results } = runOn(pool, false);
    await run.play({ name: 'jobs', hosts: [lead(run)], steps: [stopJobsStep(run.inventory, DIGEST, { rest: flink, remember: () => undefined })] });
    expect(results()[0]).toMatchObject({ status: 'ok', msg: 'stack flink does not change: its jobs keep running' });
    expect(flink.stopsAsked).toEqual([]);
    expect(run.output(DEPLOYED_STACK, 'pi1')?.deployedDigest).toBe(DIGEST);
  });
});

describe('the convergence wait concludes without reading check mode', () => {
  const inv = inventory();
  const step = convergeStep(inv, { slotsPerTaskmanager: 2 }, 1_000);
  const look = (services: ConvergeFacts['services']): ConvergeFacts => ({ services, overview: undefined, noticed: true, pendingSince: new Map(), tasksReadAt: 0 });
  const end = (kind: WaitEnd<ConvergeFacts>['kind'], state: ConvergeFacts, why: string): WaitEnd<ConvergeFacts> => ({ kind, state, why, waitedMs: 1_000 });
  const conclude = (e: WaitEnd<ConvergeFacts>) => step.conclude?.(e, ctxFor('pi1', { inv }), '');
  it('nothing deployed: a real run fails, check mode says docker stack deploy would deploy it', () => {
    expect(conclude(end('notYet', look([]), 'no services'))).toEqual({
      kind: 'unmet',
      msg: 'not converged: no services',
      inCheck: { skip: 'the stack flink is not deployed yet (check mode: docker stack deploy would deploy it, then this step waits until it converges)' },
    });
  });
  it('deployed but not converged: a real run fails, check mode says a real run would wait', () => {
    const state = look([{ name: 'flink_taskmanager', running: 1, desired: 2 }]);
    expect(conclude(end('timedOut', state, 'gave up after 1 s: x'))).toEqual({ kind: 'unmet', msg: 'not converged: gave up after 1 s: x', inCheck: { skip: 'not converged now; a real run would wait: gave up after 1 s: x' } });
  });
});

describe("the recap's Flink line", () => {
  const url = 'http://10.77.0.11:8081';
  const look = (services: ConvergeFacts['services'], answered: boolean): ConvergeFacts => ({
    services,
    overview: answered ? { taskmanagers: 2, 'slots-total': 4, 'slots-available': 4, 'jobs-running': 0, 'flink-version': '1.20.1' } : undefined,
    ...(answered ? {} : { restError: 'connect ECONNREFUSED' }),
    noticed: true,
    pendingSince: new Map(),
    tasksReadAt: 0,
  });
  it('chooses by what the wait saw and how it ended', () => {
    expect(flinkOutputs(url, look([], true), 'ok')).toEqual({ lines: { 'Flink dashboard': url }, dashboardUrl: url });
    expect(flinkOutputs(url, undefined, undefined).lines.Flink).toContain('not checked: stack-deploy stopped before the deploy');
    expect(flinkOutputs(url, look([], false), 'skipped').lines.Flink).toBe(`not deployed yet (check mode): the dashboard would answer at ${url}`);
    expect(flinkOutputs(url, look([], false), 'failed').lines.Flink).toBe(`did not answer at ${url} (connect ECONNREFUSED): no dashboard`);
  });
});

describe('planStack (stack/plan.ts): the stack an inventory gives, for stack-deploy and scale', () => {
  it('gives the stack and its capacity, or why there is none', () => {
    const planned = planStack(inventory(), '10.77.0.1:5000/fridge/flink:1');
    expect(planned.ok && planned.stack.capacity.taskmanagers).toBeGreaterThan(0);
  });
});
