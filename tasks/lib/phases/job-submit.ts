// job-submit: runs a jar on the Fridge's Flink (by default our example job, built from jobs/sensor-window).
// Through the REST API (default) or, as the seed did, with `flink run` inside the jobmanager container
// (--mode cli). Idempotent: the same jar already running is left alone; a new version of a running job is
// upgraded through a savepoint; a job that fails to start is reported with Flink's root exception.

import path from 'node:path';
import { CONVERGE_LEFT, convergeStep } from '../deploy/converge.ts';
import { flinkUrl } from '../deploy/endpoints.ts';
import { forgetStopped, newestStopped, recallStopped, savepointDir, STOPPED_JOBS, type StoppedJob } from '../deploy/savepoints.ts';
import { parseDurationMs, type Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import type { CallOutcome, Plan, Step } from '../engine/types.ts';
import { buildExampleJob, EXAMPLE_JOB_JAR } from '../flink/example-job.ts';
import { jobUrl, parseJobName, type SubmitDecision } from '../flink/jobs.ts';
import { FlinkRest } from '../flink/rest.ts';
import { applyCli, findJobmanager, gatherCli, planCli, type CliFacts, type CliSubmitRequest } from '../flink/submit-cli.ts';
import { applySubmit, gatherSubmit, planSubmit, type SubmitFacts, type SubmitOutcome, type SubmitRequest } from '../flink/submit-rest.ts';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import { leader } from '../inventory/types.ts';

export type SubmitMode = 'rest' | 'cli';

export interface JobSubmitOptions extends SubmitRequest {
  mode: SubmitMode;
  restUrl: string;
}

type Parsed = { ok: true; value: Omit<JobSubmitOptions, 'jar'> & { jar?: string } } | { ok: false; msg: string };

/** Splits "--rate 20 --sensors 4" like a shell would for plain words (no quoting: Flink's args rarely need it). */
export function splitArgs(values: string[]): string[] {
  return values.flatMap((v) => v.split(/\s+/)).filter((a) => a.length > 0);
}

/** Phase options → a request (pure). */
export function parseJobSubmitArgs(args: Run['args'], inv: Inventory): Parsed {
  const str = (k: string): string | undefined => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  const list = (k: string): string[] => {
    const v = args[k];
    return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  };
  const mode = str('mode') ?? 'rest';
  if (mode !== 'rest' && mode !== 'cli') return { ok: false, msg: `--mode must be rest or cli, got '${mode}'` };
  const value: Omit<JobSubmitOptions, 'jar'> & { jar?: string } = {
    mode,
    restUrl: str('rest-url') ?? flinkUrl(inv),
    args: splitArgs(list('args')),
    savepointDir: str('savepoint-dir') ?? savepointDir(inv),
  };
  const jar = str('jar');
  if (jar) value.jar = jar;
  const cls = str('class');
  if (cls) value.entryClass = cls;
  const p = str('parallelism');
  if (p !== undefined) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1) return { ok: false, msg: `--parallelism must be a positive integer, got '${p}'` };
    value.parallelism = n;
  }
  const sp = str('from-savepoint');
  if (sp) value.fromSavepoint = sp;
  if (args['allow-non-restored-state'] === true) value.allowNonRestoredState = true;
  const t = str('timeout');
  if (t !== undefined) {
    const ms = parseDurationMs(t, 's');
    if (ms === undefined || ms <= 0) return { ok: false, msg: `--timeout must be a duration such as 90s or 5m (a plain number means seconds), got '${t}'` };
    value.startTimeoutMs = ms;
  }
  return { ok: true, value };
}

/** A savepoint stack-deploy took of this job when it restarted Flink (the newest one): in this command, else remembered. */
export function savepointFromStackUpdate(inRun: StoppedJob[] | undefined, jarName: string, remembered: () => StoppedJob[] = () => []): string | undefined {
  return newestStopped(inRun ?? remembered(), jarName)?.savepoint;
}

/** What the decision means for the runner: nothing to do, a change to apply, or a failure. */
export function planFromDecision(d: SubmitDecision, jarName: string, apply: () => Promise<CallOutcome>): Plan {
  switch (d.kind) {
    case 'running':
      return { kind: 'ok', msg: `${d.job.name} already ${d.job.state.toLowerCase()} (${d.job.jid})` };
    case 'conflict':
      return { kind: 'fail', msg: d.msg };
    case 'submit':
      return { kind: 'change', changes: [{ summary: `submit ${jarName}`, actions: [{ kind: 'call', label: `submit ${jarName}`, fn: apply }] }] };
    case 'upgrade':
      return {
        kind: 'change',
        changes: [{ summary: `upgrade ${d.job.name} (${d.job.jid}) to this jar through a savepoint`, actions: [{ kind: 'call', label: `upgrade ${d.job.name}`, fn: apply }] }],
      };
  }
}

function outcomeToCall(run: Run, o: SubmitOutcome): CallOutcome {
  if (o.status === 'failed') {
    if (o.jobId) run.outputs['job id'] = o.jobId;
    const trace = o.rootException ? `\n${o.rootException.split('\n').slice(0, 12).join('\n')}` : '';
    return { ok: false, msg: `${o.msg}${trace}` };
  }
  run.outputs['job id'] = o.jobId;
  if (jobRuns(o.state)) run.outputs['job'] = `${o.jobName} (${o.state})`;
  if (!run.check) forgetStopped(flinkUrl(run.inventory), parseJobName(o.jobName).name, (n) => parseJobName(n).name);
  if (o.webUi) run.outputs['web UI'] = o.webUi;
  if (o.savepoint) run.outputs['savepoint of the previous version'] = o.savepoint;
  return { ok: true, output: o.msg };
}

type Gathered<F> = { ok: true; facts: F } | { ok: false; msg: string };

/** A `job:` line means the job runs (or, for a batch job, ran to the end), nothing less. */
function jobRuns(state: string): boolean {
  return state === 'RUNNING' || state === 'FINISHED';
}

/** Output key saying why there is no `job:` line. */
export const NO_JOB = 'no running job';

/** When nothing had to be done, the outputs still name the running job; a job that is not running is said so. */
function reportRunning(run: Run, d: SubmitDecision | undefined, restUrl: string | undefined): void {
  if (d?.kind !== 'running' || run.outputs['job id']) return;
  run.outputs['job id'] = d.job.jid;
  if (!jobRuns(d.job.state)) {
    run.outputs[NO_JOB] = `${d.job.name} is ${d.job.state}`;
    return;
  }
  run.outputs['job'] = `${d.job.name} (${d.job.state})`;
  if (restUrl) run.outputs['web UI'] = jobUrl(restUrl, d.job.jid);
}

/** Why the recap has no `job:` line (pure): check mode's plan, or the step's failure. */
export function missingJob(check: boolean, jarName: string, d: SubmitDecision | undefined, failure: string | undefined): string {
  if (failure) return `job-submit failed: ${failure.split('\n')[0]}`;
  if (check && d?.kind === 'submit') return `check mode: ${jarName} would be submitted`;
  if (check && d?.kind === 'upgrade') return `check mode: ${d.job.name} would be upgraded to ${jarName} through a savepoint`;
  return 'no job was submitted';
}

export type Readiness = { ok: true; msg: string } | { ok: false; msg: string };

/**
 * Check mode on nodes where Flink does not run yet (fresh nodes: stack-deploy would start it): what job-submit
 * would do, skipped, instead of a failure. A real run keeps failing on the same fact.
 */
export function planReadiness(r: Readiness, check: boolean, jarName: string): Plan {
  if (r.ok) return { kind: 'ok', msg: r.msg };
  if (check) return { kind: 'skip', msg: `${r.msg} (check mode: stack-deploy would start Flink, then ${jarName} would be submitted)` };
  return { kind: 'fail', msg: r.msg };
}

export function flinkReadyStep(inv: Inventory, req: Omit<JobSubmitOptions, 'jar'>, jarName: string, sudo = true): Step<Readiness> {
  return {
    name: req.mode === 'cli' ? `Flink's jobmanager container (${inv.cluster.stackName}_jobmanager)` : `Flink's REST API (${req.restUrl})`,
    async gather({ transport }) {
      if (req.mode === 'cli') {
        const c = await findJobmanager(transport, inv.cluster.stackName, sudo);
        return c.ok ? { ok: true, msg: `container ${c.value}` } : { ok: false, msg: c.message };
      }
      const o = await new FlinkRest({ baseUrl: req.restUrl, timeoutMs: 5_000 }).overview();
      return o.ok ? { ok: true, msg: `Flink answers at ${req.restUrl}` } : { ok: false, msg: `Flink at ${req.restUrl} is not ready: ${o.message}` };
    },
    plan: (r, { check }) => planReadiness(r, check, jarName),
  };
}

/** Both steps' output: what they decided (the recap's job lines say it when nothing was done). */
type SubmitStep<F> = Step<Gathered<F>, SubmitDecision | undefined>;

function restStep(run: Run, req: JobSubmitOptions): SubmitStep<SubmitFacts> {
  const rest = new FlinkRest({ baseUrl: req.restUrl });
  return {
    name: `job-submit (REST ${req.restUrl})`,
    async gather() {
      const f = await gatherSubmit(rest, req);
      return f.ok ? { ok: true, facts: f.value } : { ok: false, msg: f.message };
    },
    output: (g) => (g.ok ? planSubmit(g.facts, req) : undefined),
    plan(g) {
      if (!g.ok) return { kind: 'fail', msg: g.msg };
      const decision = planSubmit(g.facts, req);
      return planFromDecision(decision, g.facts.jar.name, async () => outcomeToCall(run, await applySubmit(rest, req, g.facts, decision)));
    },
  };
}

function cliStep(run: Run, req: JobSubmitOptions & CliSubmitRequest): SubmitStep<CliFacts> {
  return {
    name: `job-submit (flink run in ${req.stack}_jobmanager)`,
    async gather(ctx) {
      const f = await gatherCli(ctx.transport, req);
      return f.ok ? { ok: true, facts: f.value } : { ok: false, msg: f.message };
    },
    output: (g) => (g.ok ? planCli(g.facts, req) : undefined),
    plan(g, ctx) {
      if (!g.ok) return { kind: 'fail', msg: g.msg };
      const decision = planCli(g.facts, req);
      return planFromDecision(decision, g.facts.jar.name, async () => outcomeToCall(run, await applyCli(ctx.transport, req, g.facts, decision)));
    },
  };
}

function jobmanagerHost(inv: Inventory): HostSpec {
  return inv.hosts.find((h) => h.name === inv.cluster.flink.jobmanagerHost) ?? leader(inv);
}

export const phase: Phase = {
  name: 'job-submit',
  description: 'Upload and run a Flink job (default: the example sensor-window job), wait until it runs, print its id and web UI address.',
  options: {
    jar: { type: 'string', placeholder: 'PATH', description: 'job jar (default: jobs/sensor-window, built with Maven)', check: { kind: 'file', jar: true } },
    class: { type: 'string', placeholder: 'CLASS', description: "entry class (default: the jar's Main-Class)" },
    args: { type: 'string', multiple: true, placeholder: "'ARGS'", description: "program arguments, e.g. --args='--rate 20' (repeatable)" },
    parallelism: { type: 'string', placeholder: 'N', description: 'job parallelism (default: the cluster default)', check: { kind: 'int', min: 1, max: 32768 } },
    'from-savepoint': { type: 'string', placeholder: 'PATH', description: 'start from this savepoint' },
    'allow-non-restored-state': { type: 'boolean', description: 'with --from-savepoint: skip state no operator claims' },
    'savepoint-dir': { type: 'string', placeholder: 'DIR', description: 'where a running older version is savepointed when upgraded (default: <flink.stateDir>/savepoints)' },
    mode: {
      type: 'string',
      placeholder: 'rest|cli',
      description: 'rest: REST API (default); cli: flink run inside the jobmanager container, over SSH',
      check: { kind: 'choice', choices: ['rest', 'cli'] },
    },
    'rest-url': { type: 'string', placeholder: 'URL', description: 'Flink REST address (default: the dashboard address of the inventory)', check: { kind: 'url', protocols: ['http', 'https'] } },
    timeout: {
      type: 'string',
      placeholder: 'DURATION',
      description: 'how long the job may take to have all tasks running (default 120s)',
      check: { kind: 'duration', unit: 's', maxMs: 24 * 3_600_000 },
    },
  },
  async run(run) {
    await submitJob(run);
    await convergeLeft(run);
  },
};

/** What stack-deploy left for after the resume: every service and taskmanager of the stack up. */
async function convergeLeft(run: Run): Promise<void> {
  const inv = run.inventory;
  const leftMs = run.output(CONVERGE_LEFT, leader(inv));
  if (leftMs === undefined) return;
  run.record(CONVERGE_LEFT, leader(inv), undefined);
  await run.play({ name: `stack ${inv.cluster.stackName} converged`, hosts: [leader(inv)], steps: [convergeStep(inv, { slotsPerTaskmanager: inv.cluster.flink.slotsPerTaskmanager }, leftMs)] });
}

async function submitJob(run: Run): Promise<void> {
  const inv = run.inventory;
  const jm = jobmanagerHost(inv);
  const parsed = parseJobSubmitArgs(run.args, inv);
  if (!parsed.ok) {
    run.fail(jm.name, 'job-submit options', parsed.msg);
    return;
  }
  // Check mode on fresh nodes: no Flink to ask, so no jar to build for the decision; say what would happen.
  if (run.check) {
    const jarName = path.basename(parsed.value.jar ?? EXAMPLE_JOB_JAR);
    const [ready] = await run.play({ name: 'Flink ready for job-submit', hosts: [jm], steps: [flinkReadyStep(inv, parsed.value, jarName)] });
    const r = ready?.results[0];
    if (r?.status !== 'ok') {
      run.outputs[NO_JOB] = r?.status === 'skipped' ? `check mode: Flink is not running yet, so ${jarName} is not submitted` : missingJob(true, jarName, undefined, r?.msg ?? ready?.unreachable);
      return;
    }
  }
  let jar = parsed.value.jar;
  if (!jar) {
    try {
      jar = await buildExampleJob();
    } catch (err) {
      run.fail(jm.name, 'build example job', err instanceof Error ? err.message : String(err));
      return;
    }
  }
  const req: JobSubmitOptions = { ...parsed.value, jar };
  if (!req.fromSavepoint) {
    const sp = savepointFromStackUpdate(run.output(STOPPED_JOBS, leader(inv)), jar.replace(/^.*\//, '').replace(/\.jar$/i, ''), () => recallStopped(flinkUrl(inv)));
    if (sp) {
      req.fromSavepoint = sp;
      run.message('info', `resuming from the savepoint taken when the stack was updated: ${sp}`);
    }
  }
  // REST calls go from this machine, but the step belongs to the jobmanager's host in the recap.
  const step = req.mode === 'cli' ? cliStep(run, { ...req, stack: inv.cluster.stackName, sudo: true }) : restStep(run, req);
  const [outcome] = await run.play({ name: 'job-submit', hosts: [jm], steps: [step] });
  const decision = run.output(step, jm);
  reportRunning(run, decision, req.mode === 'rest' ? req.restUrl : undefined);
  if (!run.outputs.job && !run.outputs[NO_JOB]) {
    const failed = outcome?.results.find((x) => x.status === 'failed');
    run.outputs[NO_JOB] = missingJob(run.check, path.basename(jar), decision, failed?.msg ?? outcome?.unreachable);
  }
}
