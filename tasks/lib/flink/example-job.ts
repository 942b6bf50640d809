// The example job (jobs/sensor-window): built with Maven once, rebuilt only when its sources change, and read
// back through the REST API (its running-count gauge). A machine without a JDK and Maven (the self-hosted
// runner) is handed a jar built elsewhere (the workflow's hosted job) through FRIDGE_EXAMPLE_JOB_JAR, with
// the digest of the sources it was built from next to it, so a jar of other sources is refused.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { PROJECT_ROOT, STATE_DIR } from '../paths.ts';
import type { FlinkRest, RestResult } from './rest.ts';
import { waitFor, type Probe } from '../engine/wait.ts';

export const EXAMPLE_JOB_DIR = path.join(PROJECT_ROOT, 'jobs', 'sensor-window');
export const EXAMPLE_JOB_JAR = path.join(EXAMPLE_JOB_DIR, 'target', 'sensor-window.jar');
export const EXAMPLE_JOB_CLASS = 'fridge.jobs.sensorwindow.SensorWindowJob';
/** The operator holding the keyed running count, and its gauge (see RunningCount.java). */
export const RUNNING_COUNT_OPERATOR = 'running-count';
export const READINGS_TOTAL_GAUGE = 'readingsTotal';
/** The per-sensor sequence check's gauges on the same operator, each summed over sensors (see RunningCount.java). */
export const READINGS_GAPS_GAUGE = 'readingsGaps';
export const READINGS_DUPLICATES_GAUGE = 'readingsDuplicates';
export const READINGS_HIGHEST_SEQ_GAUGE = 'readingsHighestSeq';
/** Maven's local repository lives with Fridge's other caches, so CI can keep it with one cache entry. */
export const MAVEN_REPO = path.join(STATE_DIR, 'm2');

/** The prebuilt jar to use instead of building one with Maven. */
export const PREBUILT_JAR_ENV = 'FRIDGE_EXAMPLE_JOB_JAR';

/** Next to a prebuilt jar: the digest of the sources it was built from (sensor-window.jar → sensor-window.sources.sha256). */
export function sourcesStampOf(jar: string): string {
  return `${jar.replace(/\.jar$/i, '')}.sources.sha256`;
}

export interface ExampleJobOptions {
  /** Read for FRIDGE_EXAMPLE_JOB_JAR (default process.env). */
  env?: Record<string, string | undefined>;
  /** Maven's local repository (default MAVEN_REPO). */
  mavenRepo?: string;
}

/**
 * The example job's jar: the prebuilt one named by FRIDGE_EXAMPLE_JOB_JAR when set (no Maven), else jobs/sensor-window
 * built once. Throws with a message for the operator when the prebuilt jar is unusable or Maven fails (with its output).
 */
export async function buildExampleJob(dir = EXAMPLE_JOB_DIR, opts: ExampleJobOptions = {}): Promise<string> {
  const prebuilt = (opts.env ?? process.env)[PREBUILT_JAR_ENV];
  if (prebuilt) return checkPrebuilt(path.resolve(prebuilt), dir);
  const jar = path.join(dir, 'target', 'sensor-window.jar');
  const stamp = path.join(dir, 'target', '.fridge-sources.sha256');
  const digest = await sourcesDigest(dir);
  if ((await isFile(jar)) && (await readFile(stamp, 'utf8').catch(() => '')).trim() === digest) return jar;

  await mkdir(path.join(dir, 'target'), { recursive: true });
  const release = await lock(path.join(dir, 'target', '.fridge-build.lock'));
  try {
    // Another process may have built it while we waited for the lock.
    if ((await isFile(jar)) && (await readFile(stamp, 'utf8').catch(() => '')).trim() === digest) return jar;
    const mvn = $({ cwd: dir, quiet: true, nothrow: true });
    const repo = `-Dmaven.repo.local=${opts.mavenRepo ?? MAVEN_REPO}`;
    // Offline first: after the first download everything is in MAVEN_REPO and no network is needed.
    let r = await mvn`mvn -q -B -o ${repo} package`;
    if (r.exitCode !== 0) r = await mvn`mvn -q -B ${repo} package`;
    if (r.exitCode !== 0 || !(await isFile(jar))) {
      throw new Error(`building ${path.relative(PROJECT_ROOT, dir)} failed (mvn exit ${r.exitCode}):\n${(r.stdout + r.stderr).slice(-4000)}`);
    }
    await writeFile(stamp, `${digest}\n`);
    return jar;
  } finally {
    await release();
  }
}

async function checkPrebuilt(jar: string, dir: string): Promise<string> {
  const named = `${PREBUILT_JAR_ENV}=${jar}`;
  const rel = path.relative(PROJECT_ROOT, dir);
  if (!(await isFile(jar))) throw new Error(`${named}: no such file`);
  const stamp = sourcesStampOf(jar);
  const built = (await readFile(stamp, 'utf8').catch(() => '')).trim();
  if (!built) throw new Error(`${named}: ${path.basename(stamp)} is missing next to it, so which sources it was built from is unknown; build it with 'npx tsx tasks/lib/github/example-job-jar.ts DIR', which writes both`);
  const now = await sourcesDigest(dir);
  if (built !== now) throw new Error(`${named} was built from other sources than ${rel} has now (${built.slice(0, 12)} ≠ ${now.slice(0, 12)}): rebuild it, or unset ${PREBUILT_JAR_ENV} to build with Maven here`);
  return jar;
}

/** Builds the jar with Maven and copies it into outDir with its sources digest: what FRIDGE_EXAMPLE_JOB_JAR expects. */
export async function writePrebuiltJob(outDir: string, opts: { dir?: string; mavenRepo?: string } = {}): Promise<{ jar: string; stamp: string }> {
  const dir = opts.dir ?? EXAMPLE_JOB_DIR;
  const built = await buildExampleJob(dir, { env: {}, ...(opts.mavenRepo ? { mavenRepo: opts.mavenRepo } : {}) });
  await mkdir(outDir, { recursive: true });
  const jar = path.join(outDir, path.basename(built));
  await copyFile(built, jar);
  const stamp = sourcesStampOf(jar);
  await writeFile(stamp, `${await sourcesDigest(dir)}\n`);
  return { jar, stamp };
}

/** Digest of everything that goes into the jar: pom.xml and src/. */
export async function sourcesDigest(dir = EXAMPLE_JOB_DIR): Promise<string> {
  const hash = createHash('sha256');
  const files = [path.join(dir, 'pom.xml'), ...(await listFiles(path.join(dir, 'src')))].sort();
  for (const f of files) {
    hash.update(path.relative(dir, f));
    hash.update('\0');
    hash.update(await readFile(f));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/**
 * The job's running count of readings (sum over the running-count subtasks). undefined while Flink has not yet
 * fetched the metric (the REST metric fetcher lags by up to metrics.fetcher.update-interval).
 */
export async function readingsTotal(rest: FlinkRest, jobId: string): Promise<RestResult<number | undefined>> {
  const job = await rest.job(jobId);
  if (!job.ok) return job;
  const vertex = job.value.vertices.find((v) => v.name === RUNNING_COUNT_OPERATOR);
  if (!vertex) return { ok: false, status: 404, message: `job ${jobId} has no ${RUNNING_COUNT_OPERATOR} operator` };
  const id = `${RUNNING_COUNT_OPERATOR}.${READINGS_TOTAL_GAUGE}`;
  const m = await rest.subtaskMetrics(jobId, vertex.id, [id]);
  if (!m.ok) return m;
  const sum = m.value.find((x) => x.id === id)?.sum;
  return { ok: true, value: sum };
}

/** Records lost and counted twice, as the job's keyed state sees them: sums over sensors. */
export interface ReadingsCheck {
  total: number;
  /** Sequence numbers skipped: readings lost. */
  gaps: number;
  /** Sequence numbers at or below a sensor's highest: readings counted twice. */
  duplicates: number;
  /** Sum of each sensor's highest sequence number: grows while the job runs, continues after a restore. */
  highestSeq: number;
}

/**
 * The running count with its sequence check, in one request (one metric fetch of Flink's). undefined until Flink has
 * fetched all four (a jar older than the check never reports the last three).
 */
export async function readingsCheck(rest: FlinkRest, jobId: string): Promise<RestResult<ReadingsCheck | undefined>> {
  const job = await rest.job(jobId);
  if (!job.ok) return job;
  const vertex = job.value.vertices.find((v) => v.name === RUNNING_COUNT_OPERATOR);
  if (!vertex) return { ok: false, status: 404, message: `job ${jobId} has no ${RUNNING_COUNT_OPERATOR} operator` };
  const gauges = [READINGS_TOTAL_GAUGE, READINGS_GAPS_GAUGE, READINGS_DUPLICATES_GAUGE, READINGS_HIGHEST_SEQ_GAUGE] as const;
  const ids = gauges.map((g) => `${RUNNING_COUNT_OPERATOR}.${g}`);
  const m = await rest.subtaskMetrics(jobId, vertex.id, ids);
  if (!m.ok) return m;
  const [total, gaps, duplicates, highestSeq] = ids.map((id) => m.value.find((x) => x.id === id)?.sum);
  if (total === undefined || gaps === undefined || duplicates === undefined || highestSeq === undefined) return { ok: true, value: undefined };
  return { ok: true, value: { total, gaps, duplicates, highestSeq } };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/** A build never takes this long here: a lock that old, or held that long, was left by a killed process. */
const STALE_LOCK_MS = 10 * 60_000;

/** A lock directory (mkdir is atomic): parallel test files must not run two Maven builds into one target/. */
async function lock(lockDir: string): Promise<() => Promise<void>> {
  const release = () => rm(lockDir, { recursive: true, force: true });
  const take = async (): Promise<Probe<true>> => {
    try {
      await mkdir(lockDir);
      return { done: true, result: true };
    } catch {
      const age = await stat(lockDir).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await release();
      return { done: false, last: `${lockDir} is held by another build` };
    }
  };
  const taken = await waitFor(take, { timeoutMs: STALE_LOCK_MS, intervalMs: 250 });
  // Held for longer than any build takes: its holder was killed, so the lock is taken over.
  if (taken !== true) await mkdir(lockDir, { recursive: true });
  return release;
}
