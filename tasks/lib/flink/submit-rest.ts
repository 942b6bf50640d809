// Submitting a jar through Flink's REST API: facts (the cluster's jobs), a pure decision (jobs.ts), then
// upload + run + wait until the job really runs. Failures come back with Flink's root exception.

import { decideSubmit, jarIdentity, jobUrl, programArgs, type JarIdentity, type JobRef, type SubmitDecision } from './jobs.ts';
import { isTerminal, type FlinkRest, type JobState, type RestResult, type RunJarRequest } from './rest.ts';
import { waitFor, type Probe } from '../engine/wait.ts';

export interface SubmitRequest {
  jar: string;
  entryClass?: string;
  args: string[];
  parallelism?: number;
  /** Start from this savepoint (a path the jobmanager can read). */
  fromSavepoint?: string;
  allowNonRestoredState?: boolean;
  /** Where to put the savepoint when a running older version of the job is upgraded. */
  savepointDir?: string;
  /** How long the job may take to have all its tasks running (default 120 s). */
  startTimeoutMs?: number;
}

export type SubmitOutcome =
  | {
      status: 'ok' | 'changed';
      jobId: string;
      jobName: string;
      state: JobState;
      webUi: string;
      msg: string;
      /** Savepoint taken from the previous version during an upgrade. */
      savepoint?: string;
    }
  | { status: 'failed'; msg: string; jobId?: string; rootException?: string };

export interface SubmitFacts {
  jar: JarIdentity;
  jobs: JobRef[];
}

/** Read-only: the jar's identity and the jobs on the cluster. */
export async function gatherSubmit(rest: FlinkRest, req: SubmitRequest): Promise<RestResult<SubmitFacts>> {
  const overview = await rest.overview();
  if (!overview.ok) return { ...overview, message: `Flink at ${rest.baseUrl} is not ready: ${overview.message}` };
  let jar: JarIdentity;
  try {
    jar = await jarIdentity(req.jar);
  } catch (err) {
    return { ok: false, status: 0, message: `cannot read ${req.jar}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const jobs = await rest.jobs();
  if (!jobs.ok) return jobs;
  return { ok: true, value: { jar, jobs: jobs.value.map((j) => ({ jid: j.jid, name: j.name, state: j.state })) } };
}

export function planSubmit(facts: SubmitFacts, req: SubmitRequest): SubmitDecision {
  const opts: { savepointDir?: string; fromSavepoint?: string } = {};
  if (req.savepointDir) opts.savepointDir = req.savepointDir;
  if (req.fromSavepoint) opts.fromSavepoint = req.fromSavepoint;
  return decideSubmit(facts.jobs, facts.jar, opts);
}

export async function applySubmit(rest: FlinkRest, req: SubmitRequest, facts: SubmitFacts, decision: SubmitDecision): Promise<SubmitOutcome> {
  switch (decision.kind) {
    case 'running':
      return {
        status: 'ok',
        jobId: decision.job.jid,
        jobName: decision.job.name,
        state: decision.job.state,
        webUi: jobUrl(rest.baseUrl, decision.job.jid),
        msg: `${decision.job.name} already ${decision.job.state.toLowerCase()} with this jar`,
      };
    case 'conflict':
      return { status: 'failed', msg: decision.msg, jobId: decision.job.jid };
    case 'submit':
      return startJob(rest, req, facts.jar, req.fromSavepoint);
    case 'upgrade': {
      // planSubmit only decides 'upgrade' when a savepoint directory was given.
      const dir = req.savepointDir ?? '';
      const sp = await rest.stopWithSavepoint(decision.job.jid, dir);
      if (!sp.ok) return { status: 'failed', jobId: decision.job.jid, msg: `could not stop ${decision.job.name} with a savepoint: ${sp.message}` };
      const started = await startJob(rest, req, facts.jar, sp.value);
      if (started.status === 'failed') {
        return { ...started, msg: `${started.msg}\nthe previous version was stopped; its savepoint is ${sp.value}` };
      }
      return { ...started, savepoint: sp.value, msg: `upgraded ${decision.job.name} from its savepoint ${sp.value}` };
    }
  }
}

/** gather → plan → apply in one call, for scripts and tests. */
export async function submitJob(rest: FlinkRest, req: SubmitRequest): Promise<SubmitOutcome> {
  const facts = await gatherSubmit(rest, req);
  if (!facts.ok) return { status: 'failed', msg: facts.message };
  return applySubmit(rest, req, facts.value, planSubmit(facts.value, req));
}

async function startJob(rest: FlinkRest, req: SubmitRequest, jar: JarIdentity, savepoint: string | undefined): Promise<SubmitOutcome> {
  const jarId = await uploadOnce(rest, jar);
  if (!jarId.ok) return { status: 'failed', msg: `upload of ${jar.path} failed: ${jarId.message}` };
  const run: RunJarRequest = { programArgsList: programArgs(req.args, jar) };
  if (req.entryClass) run.entryClass = req.entryClass;
  if (req.parallelism !== undefined) run.parallelism = req.parallelism;
  if (savepoint) run.savepointPath = savepoint;
  if (req.allowNonRestoredState) run.allowNonRestoredState = true;
  const jobId = await rest.runJar(jarId.value, run);
  if (!jobId.ok) return { status: 'failed', msg: `Flink refused to run ${jar.name}: ${jobId.message}` };

  const started = await waitStarted(rest, jobId.value, req.startTimeoutMs ?? 120_000);
  if (!started.ok) {
    const out: SubmitOutcome = { status: 'failed', jobId: jobId.value, msg: started.message };
    if (started.rootException) out.rootException = started.rootException;
    return out;
  }
  await forgetOtherVersions(rest, jar);
  return {
    status: 'changed',
    jobId: jobId.value,
    jobName: started.name,
    state: started.state,
    webUi: jobUrl(rest.baseUrl, jobId.value),
    msg: `${started.name} ${started.state.toLowerCase()}${savepoint ? ` from savepoint ${savepoint}` : ''}`,
  };
}

/** Reuses a jar uploaded earlier under the same digest-named file, so re-runs do not pile up uploads. */
async function uploadOnce(rest: FlinkRest, jar: JarIdentity): Promise<RestResult<string>> {
  const existing = await rest.jars();
  if (existing.ok) {
    const same = existing.value.find((j) => j.name === jar.uploadName);
    if (same) return { ok: true, value: same.id };
  }
  return rest.uploadJar(jar.path, jar.uploadName);
}

/** Older versions of this jar stay in the jobmanager's upload directory otherwise, one per deploy. */
async function forgetOtherVersions(rest: FlinkRest, jar: JarIdentity): Promise<void> {
  const all = await rest.jars();
  if (!all.ok) return;
  for (const j of all.value) {
    const p = /^(.*)-([0-9a-f]{12})\.jar$/.exec(j.name);
    if (p?.[1] === jar.name && p[2] !== jar.digest) await rest.deleteJar(j.id);
  }
}

export type Started = { ok: true; state: JobState; name: string } | { ok: false; message: string; rootException?: string };

/**
 * Waits until a streaming job has every task RUNNING (the job's own state says RUNNING as soon as it is
 * scheduled, before its tasks could fail) or a batch job FINISHED. A job that fails or does not get there in
 * time is reported with its latest root exception.
 */
export async function waitStarted(rest: FlinkRest, jobId: string, timeoutMs: number): Promise<Started> {
  const r = await waitFor(
    async (): Promise<Probe<Started>> => {
      const j = await rest.jobStatus(jobId);
      if (!j.ok) return j.status === 0 || j.status === 404 ? { done: false, last: j.message } : { done: true, result: { ok: false, message: j.message } };
      const { state, name, tasks } = j.value;
      if (state === 'FINISHED') return { done: true, result: { ok: true, state, name } };
      if (isTerminal(state)) return { done: true, result: await failure(rest, jobId, `job ${name} ${state}`) };
      if (state === 'RUNNING' && tasks && tasks.total > 0 && tasks.running + tasks.finished === tasks.total) return { done: true, result: { ok: true, state, name } };
      return { done: false, last: `job ${name} ${state}, tasks: ${tasks ? describeTasks(tasks) : 'not reported'}` };
    },
    { timeoutMs, intervalMs: 500 },
  );
  // A timeout (TimedOut carries a status) still says why, with the job's latest exception when there is one.
  if ('status' in r) return failure(rest, jobId, `job ${jobId} did not start: ${r.message}`);
  return r;
}

/** "1/3 running, 2 deploying": the states that have subtasks. */
export function describeTasks(tasks: Record<string, unknown> & { total: number; running: number }): string {
  const others = Object.entries(tasks)
    .filter(([k, v]) => k !== 'total' && k !== 'running' && typeof v === 'number' && v > 0)
    .map(([k, v]) => `${String(v)} ${k}`);
  return [`${tasks.running}/${tasks.total} running`, ...others].join(', ');
}

async function failure(rest: FlinkRest, jobId: string, headline: string): Promise<Started> {
  const e = await rest.exceptions(jobId);
  if (e.ok && e.value) return { ok: false, message: `${headline}: ${e.value.message}`, rootException: e.value.stacktrace };
  return { ok: false, message: headline };
}
