// Runs the job-submit steps (steps/flink/) through a real Run on one local "jobmanager host", as the phase does:
// Flink's readiness, then the jar, the submission, the wait until the job runs, the leftovers. What it returns is
// what the user sees: each step's status, the first failure, the job submitted or found running, the recap lines.
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { HostOutcome, StepStatus, WaitStep } from '../../tasks/lib/engine/types.ts';
import type { SubmitDecision, SubmitRequest } from '../../tasks/lib/flink/jobs.ts';
import { jobmanagerReadyStep, restReadyStep, type Readiness } from '../../tasks/lib/steps/flink/flink-ready.ts';
import { jobLines } from '../../tasks/lib/steps/flink/job-lines.ts';
import type { JobLook } from '../../tasks/lib/steps/flink/job-running.ts';
import type { Submitted } from '../../tasks/lib/steps/flink/job-submitted.ts';
import { jarFileName, jobOutcome, readyStep, submitSteps, type SubmitTarget } from '../../tasks/lib/steps/flink/submit-steps.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';
import type { Transport } from '../../tasks/lib/transport/types.ts';
import { localHosts, session } from '../helpers/engine.ts';

/** Every host reached through one given transport (the `docker` stand-in of the --mode cli tests). */
class FixedPool extends TransportPool {
  constructor(private readonly transport: Transport) {
    super();
  }
  override get(): Promise<Transport> {
    return Promise.resolve(this.transport);
  }
}

export interface StepsOptions {
  /** The address remembered savepoints are filed under (the phase: the inventory's Flink address). */
  cluster: string;
  /** How the jobmanager's host is reached (default: this machine). */
  transport?: Transport;
  /** How long Flink's readiness is waited for (default: the phase's). */
  readyTimeoutMs?: number;
}

export interface StepsRun {
  run: Run;
  outcome: HostOutcome | undefined;
  /** Each step's status, in order: ready, [jar,] submit, running, leftovers (fewer after a failure). */
  statuses: StepStatus[];
  /** Some step changed something. */
  changed: boolean;
  /** The first failed step's message. */
  failure: string | undefined;
  /** What the submit step decided (`running`: the job found already running). */
  decision: SubmitDecision | undefined;
  /** The job this run submitted (and, an upgrade, the savepoint of the version it replaced). */
  submitted: Submitted | undefined;
  /** The running wait's last look: the job's name, state and root cause. */
  look: JobLook | undefined;
  /** The recap's job lines, as the phase prints them. */
  lines: Record<string, string>;
}

const HOST = 'jm';

function ready(target: SubmitTarget, jarName: string, timeoutMs: number | undefined): WaitStep<Readiness> {
  if (timeoutMs === undefined) return readyStep(target, jarName);
  return target.mode === 'rest' ? restReadyStep(target.restUrl, jarName, timeoutMs) : jobmanagerReadyStep(target.stack, jarName, target.sudo, timeoutMs);
}

export async function runSubmitSteps(target: SubmitTarget, req: SubmitRequest, opts: StepsOptions): Promise<StepsRun> {
  const hosts = localHosts([HOST], () => ({}));
  const s = session(hosts);
  if (opts.transport) s.pool = new FixedPool(opts.transport);
  const run = new Run('job-submit', s);
  const jarName = jarFileName(req.jar);
  const readiness = ready(target, jarName, opts.readyTimeoutMs);
  const { steps, submit, running } = submitSteps(target, req, opts.cluster, readiness);
  const [outcome] = await run.play({ name: 'job-submit', hosts, steps: [readiness, ...steps] });
  await s.pool.closeAll();
  const results = outcome?.results ?? [];
  const failure = results.find((r) => r.status === 'failed')?.msg ?? outcome?.unreachable;
  const o = jobOutcome(run, { submit, running }, HOST, { jarName, ...(target.mode === 'rest' ? { restUrl: target.restUrl } : {}), ...(failure ? { failure } : {}) });
  const { decision, submitted, look } = o;
  const lines = jobLines(o);
  return { run, outcome, statuses: results.map((r) => r.status), changed: results.some((r) => r.status === 'changed'), failure, decision, submitted, look, lines };
}

/** The name and state of the job the wait saw, when it read one. */
export function seen(r: StepsRun): { name: string; state: string; stacktrace?: string } | undefined {
  const look = r.look;
  if (look?.kind !== 'read') return undefined;
  return { name: look.name, state: look.state, ...(look.rootCause ? { stacktrace: look.rootCause.stacktrace } : {}) };
}
