// Submitting a jar through Flink's REST API, the pieces the job-submit steps (steps/flink/) are made of: which
// uploaded jar is ours, the run request, one look at a submitted job. Read or one request each; the steps decide.

import { programArgs, type JarIdentity, type JobReading, type SubmitRequest } from './jobs.ts';
import { isTerminal, type FlinkRest, type JobSummary, type RunJarRequest, type UploadedJar } from './rest.ts';

/** The upload of this very jar (same digest-named file), so re-runs do not pile up uploads. */
export function uploadedJar(jars: UploadedJar[], jar: Pick<JarIdentity, 'uploadName'>): UploadedJar | undefined {
  return jars.find((j) => j.name === jar.uploadName);
}

/** Older (or other) versions of this jar, left in the jobmanager's upload directory by earlier deploys. */
export function otherVersions(jars: UploadedJar[], jar: Pick<JarIdentity, 'name' | 'digest'>): UploadedJar[] {
  return jars.filter((j) => {
    const p = /^(.*)-([0-9a-f]{12})\.jar$/.exec(j.name);
    return p?.[1] === jar.name && p[2] !== jar.digest;
  });
}

/** The body of POST /jars/:id/run (pure). */
export function runRequest(req: SubmitRequest, jar: Pick<JarIdentity, 'digest'>, savepoint: string | undefined): RunJarRequest {
  const run: RunJarRequest = { programArgsList: programArgs(req.args, jar) };
  if (req.entryClass) run.entryClass = req.entryClass;
  if (req.parallelism !== undefined) run.parallelism = req.parallelism;
  if (savepoint) run.savepointPath = savepoint;
  if (req.allowNonRestoredState) run.allowNonRestoredState = true;
  return run;
}

/** Runs the uploaded jar; the new job's id. */
export async function startJob(rest: FlinkRest, req: SubmitRequest, jar: JarIdentity, savepoint: string | undefined): Promise<{ ok: true; jobId: string } | { ok: false; msg: string }> {
  const jars = await rest.jars();
  if (!jars.ok) return { ok: false, msg: `cannot list the jars on ${rest.baseUrl}: ${jars.message}` };
  const up = uploadedJar(jars.value, jar);
  if (!up) return { ok: false, msg: `${jar.uploadName} is not uploaded to ${rest.baseUrl}` };
  const jobId = await rest.runJar(up.id, runRequest(req, jar, savepoint));
  return jobId.ok ? { ok: true, jobId: jobId.value } : { ok: false, msg: `Flink refused to run ${jar.name}: ${jobId.message}` };
}

/**
 * One look at a submitted job. The dispatcher may not list it for a moment (404) and Flink may not answer
 * for a moment (status 0): both are "not yet". A job that ended other than FINISHED comes with its root exception.
 */
export async function readJob(rest: FlinkRest, jobId: string): Promise<JobReading> {
  const j = await rest.jobStatus(jobId);
  if (!j.ok) return { kind: 'unread', msg: j.message, final: j.status !== 0 && j.status !== 404 };
  return withRootCause(rest, jobId, reading(j.value));
}

function reading(j: JobSummary): JobReading {
  return j.tasks ? { kind: 'read', name: j.name, state: j.state, tasks: j.tasks } : { kind: 'read', name: j.name, state: j.state };
}

async function withRootCause(rest: FlinkRest, jobId: string, r: JobReading): Promise<JobReading> {
  if (r.kind !== 'read' || !isTerminal(r.state) || r.state === 'FINISHED') return r;
  const cause = await rootCause(rest, jobId);
  return cause ? { ...r, rootCause: cause } : r;
}

/** The job's latest failure, when Flink has one. */
export async function rootCause(rest: FlinkRest, jobId: string): Promise<{ message: string; stacktrace: string } | undefined> {
  const e = await rest.exceptions(jobId);
  return e.ok && e.value ? { message: e.value.message, stacktrace: e.value.stacktrace } : undefined;
}

/** "1/3 running, 2 deploying": the states that have subtasks. */
export function describeTasks(tasks: Record<string, unknown> & { total: number; running: number }): string {
  const others = Object.entries(tasks)
    .filter(([k, v]) => k !== 'total' && k !== 'running' && typeof v === 'number' && v > 0)
    .map(([k, v]) => `${String(v)} ${k}`);
  return [`${tasks.running}/${tasks.total} running`, ...others].join(', ');
}
