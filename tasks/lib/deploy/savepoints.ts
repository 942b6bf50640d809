// Keeps running jobs across a stack update: stop them with a savepoint before, resume them after.
import fs from 'node:fs';
import path from 'node:path';
import { parseJobName } from '../flink/jobs.ts';
import { FlinkRest, isTerminal, type JobSummary } from '../flink/rest.ts';
import { writeFileAtomicSync } from '../atomic-file.ts';
import { STATE_DIR } from '../paths.ts';
import type { Inventory } from '../inventory/types.ts';
import { outputKey } from '../engine/outputs.ts';

export interface StoppedJob {
  /** The Flink REST address of the cluster the job ran on: remembered savepoints are per cluster. */
  cluster: string;
  name: string;
  jobId: string;
  savepoint: string;
  stoppedAt: number;
  /** How the state was kept when no savepoint could be taken (the job's tasks were not all running). */
  fallback?: string;
}

/** Recorded (for the leader) by stack-deploy when it stopped jobs for a stack update: job-submit resumes them. */
export const STOPPED_JOBS = outputKey<StoppedJob[]>('stack.stoppedJobs');

export type StopOutcome = { ok: true; stopped: StoppedJob[] } | { ok: false; msg: string };

export function savepointDir(inv: Inventory): string {
  return `${inv.cluster.flink.stateDir.replace(/\/+$/, '')}/savepoints`;
}

/** Stops every RUNNING job with a savepoint into `targetDir`; none running (or no cluster yet) is fine. */
export async function stopRunningJobs(rest: FlinkRest, targetDir: string, remembered: () => StoppedJob[] = () => recallStopped(rest.baseUrl)): Promise<StopOutcome> {
  const jobs = await rest.jobs();
  if (!jobs.ok) return { ok: true, stopped: [] };
  const stopped: StoppedJob[] = [];
  for (const job of jobs.value.filter((j) => j.state === 'RUNNING')) {
    const one = await stopJob(rest, job, targetDir, remembered);
    if (!one.ok) return one;
    stopped.push(one.stopped);
  }
  return { ok: true, stopped };
}

/**
 * Stops one job with a savepoint into `targetDir`; when none can be taken, cancels it if its state is kept
 * elsewhere (a retained checkpoint, the savepoint it resumed from), else leaves it running and says why.
 */
export async function stopJob(
  rest: FlinkRest,
  job: Pick<JobSummary, 'jid' | 'name'>,
  targetDir: string,
  remembered: () => StoppedJob[] = () => recallStopped(rest.baseUrl),
): Promise<{ ok: true; stopped: StoppedJob } | { ok: false; msg: string }> {
  const sp = await rest.stopWithSavepoint(job.jid, targetDir, { timeoutMs: 180_000, intervalMs: 500 });
  if (sp.ok) return { ok: true, stopped: { cluster: rest.baseUrl, name: job.name, jobId: job.jid, savepoint: sp.value, stoppedAt: Date.now() } };
  // A job whose tasks never got going (the stack being fixed is why) cannot take a savepoint. Its state
  // is still somewhere: in the savepoint it was resumed from, or in its last retained checkpoint.
  const kept = await keptState(rest, job, remembered());
  if (!kept) {
    return {
      ok: false,
      msg:
        `stop-with-savepoint of job ${job.name} (${job.jid}) failed: ${sp.message}; it has no remembered savepoint or retained checkpoint ` +
        `to resume from, so the stack was not updated (cancel the job yourself to deploy without its state)`,
    };
  }
  const cancelled = await rest.cancel(job.jid).then((c) => (c.ok ? rest.waitForState(job.jid, isTerminal, { timeoutMs: 60_000 }) : c));
  if (!cancelled.ok) return { ok: false, msg: `cancelling job ${job.name} (${job.jid}) failed: ${cancelled.message}; the stack was not updated` };
  return { ok: true, stopped: { cluster: rest.baseUrl, name: job.name, jobId: job.jid, savepoint: kept.path, stoppedAt: Date.now(), fallback: kept.why } };
}

/** The newest remembered stop of the job with this base name (its name without the jar digest). */
export function newestStopped(stopped: StoppedJob[], baseName: string): StoppedJob | undefined {
  return stopped.filter((s) => parseJobName(s.name).name === baseName).sort((a, b) => b.stoppedAt - a.stoppedAt)[0];
}

async function keptState(rest: FlinkRest, job: Pick<JobSummary, 'jid' | 'name'>, remembered: StoppedJob[]): Promise<{ path: string; why: string } | undefined> {
  const base = parseJobName(job.name).name;
  const newest = newestStopped(remembered, base);
  const checkpoint = await rest.latestCheckpoint(job.jid);
  // A checkpoint completed by this job is newer than the savepoint it started from.
  if (checkpoint.ok && checkpoint.value) return { path: checkpoint.value.path, why: `no savepoint possible; cancelled, its retained checkpoint ${checkpoint.value.id} is kept` };
  if (newest) return { path: newest.savepoint, why: `no savepoint possible; cancelled, it had not checkpointed since resuming from ${newest.savepoint}` };
  return undefined;
}

/** Kept on disk too: if job-submit fails after the stack update, the next run still resumes from the savepoint. */
export const STOPPED_JOBS_FILE = path.join(STATE_DIR, 'stopped-jobs.json');

export function rememberStopped(stopped: StoppedJob[], file = STOPPED_JOBS_FILE): void {
  if (stopped.length === 0) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, `${JSON.stringify([...readAll(file), ...stopped], null, 2)}\n`);
}

function readAll(file: string): StoppedJob[] {
  try {
    const data: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Array.isArray(data) ? (data as StoppedJob[]) : [];
  } catch {
    return [];
  }
}

/** The jobs stopped on this cluster whose savepoints have not served yet. */
export function recallStopped(cluster: string, file = STOPPED_JOBS_FILE): StoppedJob[] {
  return readAll(file).filter((s) => s.cluster === cluster);
}

/** Once a job runs again (resumed or found running), its remembered savepoints have served. */
export function forgetStopped(cluster: string, jobBaseName: string, nameOf: (jobName: string) => string, file = STOPPED_JOBS_FILE): void {
  const all = readAll(file);
  const kept = all.filter((s) => s.cluster !== cluster || nameOf(s.name) !== jobBaseName);
  if (kept.length !== all.length) writeFileAtomicSync(file, `${JSON.stringify(kept, null, 2)}\n`);
}
