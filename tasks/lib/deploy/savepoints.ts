// Keeps running jobs across a stack update: stop them with a savepoint before, resume them after.
import fs from 'node:fs';
import path from 'node:path';
import { FlinkRest } from '../flink/rest.ts';
import { STATE_DIR } from '../paths.ts';
import type { Inventory } from '../inventory/types.ts';
import { flinkUrl } from './endpoints.ts';

export const SHARED_SAVEPOINTS_KEY = 'savepoints';

export interface StoppedJob {
  name: string;
  jobId: string;
  savepoint: string;
  stoppedAt: number;
}

export type StopOutcome = { ok: true; stopped: StoppedJob[] } | { ok: false; msg: string };

export function savepointDir(inv: Inventory): string {
  return `${inv.cluster.flink.stateDir.replace(/\/+$/, '')}/savepoints`;
}

/** Stops every RUNNING job with a savepoint; none running (or no cluster yet) is fine. */
export async function stopRunningJobs(inv: Inventory): Promise<StopOutcome> {
  const rest = new FlinkRest({ baseUrl: flinkUrl(inv), timeoutMs: 5_000 });
  const jobs = await rest.jobs();
  if (!jobs.ok) return { ok: true, stopped: [] };
  const stopped: StoppedJob[] = [];
  for (const job of jobs.value.filter((j) => j.state === 'RUNNING')) {
    const sp = await rest.stopWithSavepoint(job.jid, savepointDir(inv), { timeoutMs: 180_000, intervalMs: 500 });
    if (!sp.ok) return { ok: false, msg: `stop-with-savepoint of job ${job.name} (${job.jid}) failed: ${sp.message}; the stack was not updated` };
    stopped.push({ name: job.name, jobId: job.jid, savepoint: sp.value, stoppedAt: Date.now() });
  }
  return { ok: true, stopped };
}

/** Kept on disk too: if job-submit fails after the stack update, the next run still resumes from the savepoint. */
export const STOPPED_JOBS_FILE = path.join(STATE_DIR, 'stopped-jobs.json');

export function rememberStopped(stopped: StoppedJob[], file = STOPPED_JOBS_FILE): void {
  if (stopped.length === 0) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify([...recallStopped(file), ...stopped], null, 2)}\n`);
}

export function recallStopped(file = STOPPED_JOBS_FILE): StoppedJob[] {
  try {
    const data: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return Array.isArray(data) ? (data as StoppedJob[]) : [];
  } catch {
    return [];
  }
}

/** Once a job runs again (resumed or found running), its remembered savepoints have served. */
export function forgetStopped(jobBaseName: string, nameOf: (jobName: string) => string, file = STOPPED_JOBS_FILE): void {
  const all = recallStopped(file);
  const kept = all.filter((s) => nameOf(s.name) !== jobBaseName);
  if (kept.length !== all.length) fs.writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`);
}
