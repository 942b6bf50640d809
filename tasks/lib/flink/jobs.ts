// Which job is which: a jar's identity (its sha256), the naming convention that lets a second submit recognise
// a job it already started, and the pure decision "nothing to do / submit / upgrade".

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { JobState } from './rest.ts';

/** Program argument job-submit appends; a job that follows the convention names itself `<name>@<digest>`. */
export const JAR_DIGEST_ARG = '--fridge-jar';

export interface JarIdentity {
  path: string;
  sha256: string;
  /** First 12 hex digits: short enough for a job name, long enough not to collide between versions. */
  digest: string;
  /** The jar's file name without .jar: the job's expected name (sensor-window.jar → sensor-window). */
  name: string;
  /** File name used for the upload, so an uploaded jar can be recognised too. */
  uploadName: string;
}

export async function jarIdentity(jarPath: string): Promise<JarIdentity> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(jarPath)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  const digest = sha256.slice(0, 12);
  const name = path.basename(jarPath).replace(/\.jar$/i, '');
  return { path: jarPath, sha256, digest, name, uploadName: `${name}-${digest}.jar` };
}

/**
 * States in which a job runs or will run again (submitting it again would run it twice). FAILING and
 * CANCELLING jobs are on their way out: a new submission replaces them.
 */
const ACTIVE: ReadonlySet<JobState> = new Set(['INITIALIZING', 'CREATED', 'RUNNING', 'RESTARTING', 'RECONCILING']);
export function isActive(state: JobState): boolean {
  return ACTIVE.has(state);
}

export interface JobRef {
  jid: string;
  name: string;
  state: JobState;
}

/** One look at a submitted job: its state (and why it failed, when it did), or why it could not be read. */
export type JobReading =
  | { kind: 'read'; name: string; state: JobState; tasks?: Record<string, unknown> & { total: number; running: number; finished: number }; rootCause?: { message: string; stacktrace: string } }
  /** `final`: the answer will not change by waiting (not a job still unlisted, not Flink busy for a moment). */
  | { kind: 'unread'; msg: string; final: boolean };

/** `sensor-window@0123456789ab` → { name: 'sensor-window', digest: '0123456789ab' }. */
export function parseJobName(jobName: string): { name: string; digest?: string } {
  const m = /^(.*)@([0-9a-f]{12})$/.exec(jobName);
  return m?.[1] !== undefined && m[2] !== undefined ? { name: m[1], digest: m[2] } : { name: jobName };
}

/** What job-submit is asked to run, in either mode. */
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

export const DEFAULT_START_TIMEOUT_MS = 120_000;

export type SubmitDecision =
  | { kind: 'running'; job: JobRef }
  | { kind: 'submit' }
  | { kind: 'upgrade'; job: JobRef }
  | { kind: 'conflict'; job: JobRef; msg: string };

/**
 * Pure: given the cluster's jobs and the jar, decide. Same name and same digest, active → nothing to do.
 * Same name, another digest, active → upgrade (stop with savepoint, resume the new jar from it) when a
 * savepoint directory is given, else a conflict the user must resolve.
 */
export function decideSubmit(jobs: JobRef[], jar: Pick<JarIdentity, 'name' | 'digest'>, opts: { savepointDir?: string; fromSavepoint?: string }): SubmitDecision {
  const active = jobs.filter((j) => isActive(j.state));
  const same = active.find((j) => {
    const p = parseJobName(j.name);
    return p.name === jar.name && p.digest === jar.digest;
  });
  if (same) return { kind: 'running', job: same };
  const older = active.find((j) => {
    const p = parseJobName(j.name);
    return p.name === jar.name && p.digest !== undefined;
  });
  if (!older) return { kind: 'submit' };
  if (opts.fromSavepoint) {
    return { kind: 'conflict', job: older, msg: `job ${older.name} (${older.jid}) is ${older.state}: stop it before resuming from ${opts.fromSavepoint}` };
  }
  if (opts.savepointDir) return { kind: 'upgrade', job: older };
  return {
    kind: 'conflict',
    job: older,
    msg: `job ${older.name} (${older.jid}) is ${older.state} with another jar; pass --savepoint-dir DIR to upgrade it (stop with savepoint, resume the new jar)`,
  };
}

/** The decision for a request (pure): only how the jobs were read differs between REST and `flink run`. */
export function decisionFor(jobs: JobRef[], jar: Pick<JarIdentity, 'name' | 'digest'>, req: Pick<SubmitRequest, 'savepointDir' | 'fromSavepoint'>): SubmitDecision {
  const opts: { savepointDir?: string; fromSavepoint?: string } = {};
  if (req.savepointDir) opts.savepointDir = req.savepointDir;
  if (req.fromSavepoint) opts.fromSavepoint = req.fromSavepoint;
  return decideSubmit(jobs, jar, opts);
}

/** Program arguments as given, plus the jar digest that names the job. */
export function programArgs(args: string[], jar: Pick<JarIdentity, 'digest'>): string[] {
  return args.includes(JAR_DIGEST_ARG) ? args : [...args, JAR_DIGEST_ARG, jar.digest];
}

/** The web UI's page of a job. */
export function jobUrl(restUrl: string, jobId: string): string {
  return `${restUrl.replace(/\/+$/, '')}/#/job/running/${jobId}/overview`;
}
