// The seed's way of submitting, kept as `--mode cli`: copy the jar to the host running the jobmanager, into
// its container, and `flink run -d` there. Works over any Transport (SSH to a Pi, or this machine), needs no
// open REST port, but sees less than the REST API: a job that fails after starting is reported by state only.
// The pieces the job-submit steps (steps/flink/) are made of; the steps decide.

import { makeStagingDir, removeStagingDir } from '../transport/staging.ts';
import { shq, type Transport } from '../transport/types.ts';
import { programArgs, type JarIdentity, type JobReading, type JobRef, type SubmitRequest } from './jobs.ts';
import { JOB_STATES, rootCauseLine } from './rest.ts';

export interface CliSubmitRequest extends SubmitRequest {
  /** docker stack name: the container is <stack>_jobmanager.<n>.<id>. */
  stack: string;
  /** Run docker through sudo (a user outside the docker group). */
  sudo?: boolean;
  /** Parent of the private staging directory made for the jar on the host (default $TMPDIR or /tmp). */
  stagingDir?: string;
}

const FLINK_TIMEOUT_MS = 120_000;

type Found<T> = { ok: true; value: T } | { ok: false; message: string };

export async function findJobmanager(t: Transport, stack: string, sudo = false): Promise<Found<string>> {
  const r = await t.exec(`docker ps -q --filter ${shq(`name=${stack}_jobmanager`)}`, { sudo, timeoutMs: 30_000 });
  if (r.code !== 0) return { ok: false, message: `docker ps on ${t.host} failed: ${(r.stderr || r.stdout).trim()}` };
  const id = r.stdout.trim().split('\n')[0]?.trim();
  if (!id) return { ok: false, message: `no running container named ${stack}_jobmanager on ${t.host}` };
  return { ok: true, value: id };
}

const LIST_LINE = /^\S+ \S+ : ([0-9a-f]{32}) : (.*) \((\w+)\)$/;

/** Parses `flink list -a`: "25.11.2026 23:00:00 : <jobid> : <name> (RUNNING)". */
export function parseFlinkList(output: string): JobRef[] {
  const jobs: JobRef[] = [];
  for (const line of output.split('\n')) {
    const m = LIST_LINE.exec(line.trim());
    if (!m?.[1] || m[2] === undefined || !m[3]) continue;
    const state = JOB_STATES.find((s) => s === m[3]);
    if (state) jobs.push({ jid: m[1], name: m[2], state });
  }
  return jobs;
}

/** The job id printed by `flink run -d`: "Job has been submitted with JobID <id>". */
export function parseSubmittedJobId(output: string): string | undefined {
  return /JobID ([0-9a-f]{32})/.exec(output)?.[1];
}

/** The savepoint printed by `flink stop`: "Savepoint completed. Path: file:/...". */
export function parseSavepointPath(output: string): string | undefined {
  return /Savepoint completed\. Path: (\S+)/.exec(output)?.[1];
}

/**
 * `bin/flink ARGS` inside the container. Not through PATH: an image need not put Flink's bin/ there, while
 * FLINK_HOME is set by every Flink image (default /opt/flink).
 */
export function flinkInContainer(container: string, args: string[]): string {
  return ['docker', 'exec', container, 'sh', '-c', 'exec "${FLINK_HOME:-/opt/flink}/bin/flink" "$@"', 'flink', ...args].map(shq).join(' ');
}

/** The `flink run` command line (pure, so tests see exactly what is run). */
export function flinkRunCommand(container: string, jarInContainer: string, req: SubmitRequest, jar: Pick<JarIdentity, 'digest'>, savepoint?: string): string {
  const argv = ['run', '-d'];
  if (req.entryClass) argv.push('-c', req.entryClass);
  if (req.parallelism !== undefined) argv.push('-p', String(req.parallelism));
  if (savepoint) argv.push('-s', savepoint);
  if (savepoint && req.allowNonRestoredState) argv.push('-n');
  argv.push(jarInContainer, ...programArgs(req.args, jar));
  return flinkInContainer(container, argv);
}

type Done<T> = ({ ok: true } & T) | { ok: false; msg: string };

/** `flink list -a` in the container: every job the cluster knows. */
export async function listJobs(t: Transport, cid: string, sudo: boolean): Promise<Found<JobRef[]>> {
  const r = await t.exec(flinkInContainer(cid, ['list', '-a']), { sudo, timeoutMs: FLINK_TIMEOUT_MS });
  if (r.code !== 0) return { ok: false, message: `flink list in ${cid} failed: ${rootCauseLine(r.stderr || r.stdout) ?? `exit ${r.code}`}` };
  return { ok: true, value: parseFlinkList(r.stdout) };
}

/** One look at a submitted job through `flink list -a`, which says no more than its state. */
export async function readJobCli(t: Transport, cid: string, jobId: string, sudo: boolean): Promise<JobReading> {
  const jobs = await listJobs(t, cid, sudo);
  if (!jobs.ok) return { kind: 'unread', msg: jobs.message, final: true };
  const job = jobs.value.find((j) => j.jid === jobId);
  return job ? { kind: 'read', name: job.name, state: job.state } : { kind: 'unread', msg: `job ${jobId} not listed yet`, final: false };
}

/** `flink stop --savepointPath DIR`: the savepoint it wrote. */
export async function stopWithSavepointCli(t: Transport, cid: string, dir: string, job: JobRef, sudo: boolean): Promise<Done<{ savepoint: string }>> {
  const stop = await t.exec(flinkInContainer(cid, ['stop', '--savepointPath', dir, job.jid]), { sudo, timeoutMs: FLINK_TIMEOUT_MS });
  const sp = parseSavepointPath(stop.stdout + stop.stderr);
  if (stop.code !== 0 || !sp) return { ok: false, msg: `could not stop ${job.name} with a savepoint: ${rootCauseLine(stop.stderr || stop.stdout) ?? `exit ${stop.code}`}` };
  return { ok: true, savepoint: sp };
}

/** Copies the jar into the container (through a private staging directory) and runs it detached: the job's id. */
export async function runJarCli(t: Transport, cid: string, req: CliSubmitRequest, jar: JarIdentity, savepoint: string | undefined): Promise<Done<{ jobId: string }>> {
  const sudo = req.sudo === true;
  // A fresh 0700 directory: a fixed /tmp/fridge-jobs let any local user of the Pi own it and swap the jar
  // between the upload and the (root) docker cp.
  const staging = await makeStagingDir(t, 'fridge-job', req.stagingDir);
  if (!staging.ok) return { ok: false, msg: staging.message };
  const onHost = `${staging.dir}/${jar.uploadName}`;
  const inContainer = `/tmp/${jar.uploadName}`;
  try {
    await t.putFile(jar.path, onHost);
    const cp = await t.exec(`docker cp ${shq(onHost)} ${shq(`${cid}:${inContainer}`)}`, { sudo, timeoutMs: FLINK_TIMEOUT_MS });
    if (cp.code !== 0) return { ok: false, msg: `docker cp into ${cid} failed: ${(cp.stderr || cp.stdout).trim()}` };
  } finally {
    await removeStagingDir(t, staging.dir);
  }
  const run = await t.exec(flinkRunCommand(cid, inContainer, req, jar, savepoint), { sudo, timeoutMs: FLINK_TIMEOUT_MS });
  const jobId = parseSubmittedJobId(run.stdout);
  if (run.code !== 0 || !jobId) {
    const cause = rootCauseLine(afterHeadline(run.stdout + '\n' + run.stderr)) ?? `exit ${run.code}`;
    return { ok: false, msg: `flink run refused ${jar.name}: ${cause}` };
  }
  return { ok: true, jobId };
}

/** `flink run` prints usage noise first; the exception follows this headline. */
function afterHeadline(output: string): string {
  const at = output.indexOf('The program finished with the following exception:');
  return at >= 0 ? output.slice(at).split('\n').slice(1).join('\n') : output;
}
