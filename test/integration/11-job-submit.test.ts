// The example job on a real Flink 2.3.0 (jobmanager + taskmanager on loopback): submit through the job-submit
// steps run by the engine's runner (REST, and `flink run` through a docker stand-in), idempotent re-submit, the running count grows, survives stop-with-savepoint + resume and an upgrade
// to a new jar, and failures come back with Flink's root exception. Every sensor's readings are numbered, and the
// job's keyed state counts the numbers skipped (gaps) and repeated (duplicates): both stay 0 across a savepoint
// and resume and across a task failure restored from a checkpoint (exactly-once state).

import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopRunningJobs } from '../../tasks/lib/deploy/savepoints.ts';
import { ensureFlinkDistribution } from '../../tasks/lib/flink/distribution.ts';
import { buildExampleJob, readingsCheck, readingsTotal, type ReadingsCheck } from '../../tasks/lib/flink/example-job.ts';
import { jarIdentity, type SubmitRequest } from '../../tasks/lib/flink/jobs.ts';
import type { FlinkRest, RestResult } from '../../tasks/lib/flink/rest.ts';
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { phase as jobSubmitPhase } from '../../tasks/lib/phases/job-submit.ts';
import { localTransport } from '../../tasks/lib/transport/local.ts';
import { localHosts, session } from '../helpers/engine.ts';
import type { Transport } from '../../tasks/lib/transport/types.ts';
import { waitFor, type Probe } from '../../tasks/lib/engine/wait.ts';
import { startLocalFlink, type LocalFlink } from './job-local-flink.ts';
import { runSubmitSteps, seen, type StepsRun } from './job-steps.ts';

let flink: LocalFlink | undefined;
let jar = '';
let scratch = '';

function cluster(): FlinkRest {
  if (!flink) throw new Error('local Flink did not start');
  return flink.rest;
}

/** job-submit through the REST API: the steps the phase runs, against the local Flink. */
function submit(req: SubmitRequest): Promise<StepsRun> {
  if (!flink) throw new Error('local Flink did not start');
  return runSubmitSteps({ mode: 'rest', restUrl: flink.restUrl }, req, { cluster: flink.restUrl });
}

/** The statuses of a submission: ready, jar (uploaded now or earlier), submit, running, leftovers (older uploads removed or none). */
const SUBMITTED_NOW = (jar: 'changed' | 'ok', leftovers: 'changed' | 'ok' = 'ok') => ['ok', jar, 'changed', 'ok', leftovers];
const HEX32 = /^[0-9a-f]{32}$/;

/** Waits until the job's running count reaches `atLeast` and returns it. */
async function countReaches(jobId: string, atLeast: number, timeoutMs: number): Promise<number> {
  const r = await waitFor(
    async () => {
      const c = await readingsTotal(cluster(), jobId);
      if (c.ok && c.value !== undefined && c.value >= atLeast) return { done: true as const, result: c.value };
      return { done: false as const, last: c.ok ? `readingsTotal=${c.value ?? 'not reported yet'}` : c.message };
    },
    { timeoutMs, intervalMs: 300 },
  );
  if (typeof r !== 'number') throw new Error(`running count of ${jobId} did not reach ${atLeast}: ${r.message}`);
  return r;
}

/** The job's default --sensors. */
const SENSORS = 10;

/** Polls `read` until it gives a value `accept` takes; throws with what it saw last when that takes too long. */
async function until<T>(what: string, read: () => Promise<RestResult<T | undefined>>, accept: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const r = await waitFor(
    async (): Promise<Probe<{ value: T }>> => {
      const v = await read();
      if (v.ok && v.value !== undefined && accept(v.value)) return { done: true, result: { value: v.value } };
      return { done: false, last: v.ok ? JSON.stringify(v.value ?? 'not reported yet') : v.message };
    },
    { timeoutMs, intervalMs: 300 },
  );
  if ('ok' in r) throw new Error(`${what}: ${r.message}`);
  return r.value;
}

/** Waits until the job reports its sequence check and `accept` holds. */
function checkReaches(jobId: string, what: string, accept: (c: ReadingsCheck) => boolean, timeoutMs: number): Promise<ReadingsCheck> {
  return until(`sequence check of ${jobId}: ${what}`, () => readingsCheck(cluster(), jobId), accept, timeoutMs);
}

/**
 * A job that started from reading 0 and lost or repeated none has counted exactly highest + 1 readings per
 * sensor. Waited for rather than read once: the gauges are read one after the other while readings flow.
 */
function countsEveryReadingOnce(c: ReadingsCheck): boolean {
  return c.gaps === 0 && c.duplicates === 0 && c.total === c.highestSeq + SENSORS;
}

beforeAll(async () => {
  const [dist, built] = await Promise.all([ensureFlinkDistribution('2.3.0'), buildExampleJob()]);
  jar = built;
  scratch = await mkdtemp(path.join(os.tmpdir(), 'fridge-job-test-'));
  flink = await startLocalFlink(dist.dir);
}, 600_000);

afterAll(async () => {
  await flink?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('job submission against a real Flink', () => {
  it('reports the root cause when main() throws', async () => {
    const out = await submit({ jar, args: ['--fail-in', 'main'] });
    // The jar is uploaded first; Flink runs main() when asked to run it, and refuses.
    expect(out.statuses, out.failure).toEqual(['ok', 'changed', 'failed']);
    expect(out.failure).toContain('java.lang.IllegalStateException: sensor-window: failing in main() as asked');
    expect(out.submitted).toBeUndefined();
  });

  it('reports the root exception of a job that fails once running', async () => {
    const out = await submit({ jar, args: ['--fail-in', 'open'], startTimeoutMs: 60_000 });
    expect(out.statuses, out.failure).toEqual(['ok', 'ok', 'changed', 'failed']);
    expect(out.submitted?.jobId).toMatch(HEX32);
    expect(out.failure).toContain('FAILED');
    expect(out.failure).toContain('failing in open() as asked');
    expect(seen(out)?.state).toBe('FAILED');
    expect(seen(out)?.stacktrace).toContain('java.lang.IllegalStateException');
  });

  let jobId = '';
  let countAtStop = 0;

  it('submits the example job and waits until every task runs', async () => {
    const out = await submit({ jar, args: ['--rate', '20'] });
    expect(out.statuses, out.failure).toEqual(SUBMITTED_NOW('ok'));
    const { digest } = await jarIdentity(jar);
    expect(seen(out)).toMatchObject({ name: `sensor-window@${digest}`, state: 'RUNNING' });
    jobId = out.submitted?.jobId ?? '';
    expect(jobId).toMatch(HEX32);
    expect(out.lines['web UI']).toBe(`${flink?.restUrl}/#/job/running/${jobId}/overview`);
  }, 120_000);

  it('does nothing when the same jar already runs', async () => {
    const out = await submit({ jar, args: ['--rate', '20'] });
    expect(out.statuses, out.failure).toEqual(['ok', 'ok', 'ok', 'skipped', 'ok']);
    expect(out.changed).toBe(false);
    expect(out.submitted).toBeUndefined();
    expect(out.decision?.kind === 'running' && out.decision.job.jid).toBe(jobId);
    expect(out.lines['job id']).toBe(jobId);
    const jobs = await cluster().jobs();
    expect(jobs.ok && jobs.value.filter((j) => j.state === 'RUNNING').map((j) => j.jid)).toEqual([jobId]);
  });

  it('counts readings: the readingsTotal gauge grows', async () => {
    const first = await countReaches(jobId, 1, 30_000);
    const later = await countReaches(jobId, first + 40, 30_000);
    expect(later).toBeGreaterThan(first);
    // Enough history that a job restarting from zero could not catch up within the checks below.
    countAtStop = await countReaches(jobId, 300, 60_000);
  }, 120_000);

  it('keeps the count across stop-with-savepoint and resume', async () => {
    const dir = path.join(scratch, 'savepoints');
    await mkdir(dir, { recursive: true });
    const before = await checkReaches(jobId, 'every reading counted once', countsEveryReadingOnce, 30_000);
    const sp = await cluster().stopWithSavepoint(jobId, `file://${dir}`);
    expect(sp.ok, sp.ok ? '' : sp.message).toBe(true);
    if (!sp.ok) return;
    expect(sp.value).toContain(dir);
    const stopped = await cluster().jobStatus(jobId);
    expect(stopped.ok && stopped.value.state).toBe('FINISHED');

    const resumed = await submit({ jar, args: ['--rate', '20'], fromSavepoint: sp.value });
    expect(resumed.statuses, resumed.failure).toEqual(SUBMITTED_NOW('ok'));
    expect(seen(resumed)?.state).toBe('RUNNING');
    const resumedId = resumed.submitted?.jobId ?? '';
    expect(resumedId).toMatch(HEX32);
    expect(resumedId).not.toBe(jobId);
    // At 20 readings/s a job starting from zero needs 15 s to reach 300; the restored one is there at once.
    const t0 = Date.now();
    const after = await countReaches(resumedId, countAtStop + 1, 8_000);
    expect(after).toBeGreaterThan(countAtStop);
    expect(Date.now() - t0).toBeLessThan(8_000);
    // The sequence continues where the savepoint left it: nothing lost, nothing counted twice.
    const resumedCheck = await checkReaches(resumedId, 'the sequence past the savepoint', (c) => c.highestSeq > before.highestSeq && countsEveryReadingOnce(c), 30_000);
    console.log(`stop-with-savepoint + resume: before ${JSON.stringify(before)}, after ${JSON.stringify(resumedCheck)}`);
    expect(resumedCheck).toMatchObject({ gaps: 0, duplicates: 0 });
    expect(resumedCheck.highestSeq).toBeGreaterThan(before.highestSeq);
    jobId = resumedId;
    countAtStop = after;
  }, 120_000);

  it('upgrades to a new jar through a savepoint, keeping the count', async () => {
    // Same job, different bytes: a new version of the jar.
    const v2dir = path.join(scratch, 'v2');
    await mkdir(v2dir, { recursive: true });
    const v2 = path.join(v2dir, 'sensor-window.jar');
    await copyFile(jar, v2);
    await writeFile(path.join(v2dir, 'VERSION'), 'v2\n');
    execFileSync('jar', ['uf', v2, '-C', v2dir, 'VERSION']);
    const before = await countReaches(jobId, countAtStop, 10_000);

    // Without a savepoint directory the running older version is a conflict (v2 is uploaded, not run).
    const refused = await submit({ jar: v2, args: ['--rate', '20'] });
    expect(refused.statuses, refused.failure).toEqual(['ok', 'changed', 'failed']);
    expect(refused.failure).toContain('--savepoint-dir');
    expect(refused.submitted).toBeUndefined();

    const out = await submit({ jar: v2, args: ['--rate', '20'], savepointDir: `file://${path.join(scratch, 'upgrade')}` });
    // v2 is uploaded already; the leftovers step removes the older version's upload.
    expect(out.statuses, out.failure).toEqual(SUBMITTED_NOW('ok', 'changed'));
    expect(seen(out)?.state).toBe('RUNNING');
    expect(out.submitted?.previous).toContain(path.join(scratch, 'upgrade'));
    expect(out.lines['savepoint of the previous version']).toBe(out.submitted?.previous);
    const newId = out.submitted?.jobId ?? '';
    expect(newId).toMatch(HEX32);
    const { digest } = await jarIdentity(v2);
    expect(seen(out)?.name).toBe(`sensor-window@${digest}`);
    const old = await cluster().jobStatus(jobId);
    expect(old.ok && old.value.state).toBe('FINISHED');
    expect(await countReaches(newId, before + 1, 8_000)).toBeGreaterThan(before);
    // Only the running version's jar stays uploaded.
    const jars = await cluster().jars();
    expect(jars.ok && jars.value.map((j) => j.name).filter((n) => n.startsWith('sensor-window-'))).toEqual([`sensor-window-${digest}.jar`]);
    const cancelled = await cluster().cancel(newId);
    expect(cancelled.ok).toBe(true);
    await cluster().waitForState(newId, (st) => st === 'CANCELED', { timeoutMs: 30_000 });
  }, 120_000);

  it('restarts from its last checkpoint after a task failure: no reading lost, none counted twice', async () => {
    const failAfter = 150;
    // Checkpoints every second: at 20 readings/s several complete before the failure at 7.5 s.
    const out = await submit({ jar, args: ['--rate', '20', '--checkpoint-seconds', '1', '--fail-once-after', String(failAfter)] });
    // Back to the first jar: uploaded again (the upgrade removed it), and v2's upload goes.
    expect(out.statuses, out.failure).toEqual(SUBMITTED_NOW('changed', 'changed'));
    expect(seen(out)?.state).toBe('RUNNING');
    const id = out.submitted?.jobId ?? '';
    expect(id).toMatch(HEX32);
    const failed = await until('the task failure', () => cluster().exceptions(id), () => true, 60_000);
    expect(failed.message).toContain(`failing once after ${failAfter} readings as asked`);

    // The restart strategy brings it back from a checkpoint, not from zero.
    const restored = await until('a restore from a checkpoint', () => cluster().checkpointCounts(id), (c) => c.restored >= 1, 60_000);
    expect(restored.lastRestoredId).toBeGreaterThan(0);
    await cluster().waitForState(id, (st) => st === 'RUNNING', { timeoutMs: 30_000 });

    // Past the point of failure, every sensor's sequence is whole: the replayed readings were not counted twice.
    const after = await checkReaches(id, 'the count past the failure', (c) => c.total > failAfter + 40 && countsEveryReadingOnce(c), 60_000);
    console.log(`task failure after ${failAfter} readings, restored from checkpoint ${restored.lastRestoredId}: ${JSON.stringify(after)}`);
    expect(after).toMatchObject({ gaps: 0, duplicates: 0 });
    expect(after.total).toBe(after.highestSeq + SENSORS);
    const cancelled = await cluster().cancel(id);
    expect(cancelled.ok).toBe(true);
    await cluster().waitForState(id, (st) => st === 'CANCELED', { timeoutMs: 30_000 });
  }, 180_000);
});

/**
 * --mode cli runs `docker ps / cp / exec <jm> flink ...` on the jobmanager's host. Here a stand-in `docker`
 * maps those onto this machine, so the real bin/flink talks to the real local cluster: the parsing of
 * `flink list`, `flink run -d` and their failures is tested against Flink's actual output.
 */
async function dockerShimTransport(f: LocalFlink): Promise<Transport> {
  const bin = path.join(scratch, 'shim-bin');
  await mkdir(bin, { recursive: true });
  const shim = [
    '#!/bin/sh',
    'case "$1" in',
    '  ps) [ "$4" = "name=teststack_jobmanager" ] && echo fakejm0001; exit 0 ;;',
    '  cp) cp "$2" "${3#*:}" ;;',
    '  exec) shift 2; exec "$@" ;;',
    '  *) echo "docker stand-in: $1 not supported" >&2; exit 1 ;;',
    'esac',
    '',
  ].join('\n');
  await writeFile(path.join(bin, 'docker'), shim, { mode: 0o755 });
  const local = localTransport('jm-host');
  const env = `export PATH=${bin}:$PATH FLINK_HOME=${f.flinkHome} FLINK_CONF_DIR=${f.confDir};`;
  return {
    host: local.host,
    exec: (command, opts) => local.exec(`${env} ${command}`, opts),
    put: (p, c, o) => local.put(p, c, o),
    putFile: (l, r, o) => local.putFile(l, r, o),
    get: (p, o) => local.get(p, o),
    close: () => local.close(),
  };
}

describe('job submission with --mode cli (flink run in the jobmanager container)', () => {
  it('submits, then recognises the running job, and reports a failing main()', async () => {
    if (!flink) throw new Error('local Flink did not start');
    const t = await dockerShimTransport(flink);
    // The parent of the private staging directories must exist: mktemp -d makes only the last level.
    const staging = path.join(scratch, 'staging');
    await mkdir(staging, { recursive: true });
    const opts = { cluster: flink.restUrl, transport: t };
    const target = { mode: 'cli' as const, stack: 'teststack', sudo: false, stagingDir: staging };

    // A container that never shows up: the readiness wait gives up (sooner than the phase's 30 s) and says why.
    const missing = await runSubmitSteps({ mode: 'cli', stack: 'otherstack', sudo: false }, { jar, args: [] }, { ...opts, readyTimeoutMs: 2_000 });
    expect(missing.statuses).toEqual(['failed']);
    expect(missing.failure).toBe('no running container named otherstack_jobmanager on jm-host');

    const bad = await runSubmitSteps(target, { jar, args: ['--fail-in', 'main'] }, opts);
    expect(bad.statuses, bad.failure).toEqual(['ok', 'failed']);
    expect(bad.failure).toContain('java.lang.IllegalStateException: sensor-window: failing in main() as asked');

    const out = await runSubmitSteps(target, { jar, args: ['--rate', '20'] }, opts);
    // Ready, submit, running, leftovers: `flink run` uploads nothing to Flink's jar store.
    expect(out.statuses, out.failure).toEqual(['ok', 'changed', 'ok', 'ok']);
    const { digest } = await jarIdentity(jar);
    expect(seen(out)).toMatchObject({ name: `sensor-window@${digest}`, state: 'RUNNING' });
    const jobId = out.submitted?.jobId ?? '';
    expect(jobId).toMatch(HEX32);
    const viaRest = await cluster().job(jobId);
    expect(viaRest.ok && viaRest.value.name).toBe(`sensor-window@${digest}`);

    const again = await runSubmitSteps(target, { jar, args: ['--rate', '20'] }, opts);
    expect(again.statuses, again.failure).toEqual(['ok', 'ok', 'skipped', 'ok']);
    expect(again.changed).toBe(false);
    expect(again.decision?.kind === 'running' && again.decision.job.jid).toBe(jobId);
    expect((await cluster().cancel(jobId)).ok).toBe(true);
    await t.close();
  }, 180_000);
});

describe('the job-submit phase', () => {
  async function runPhase(args: Run['args'], check = false): Promise<Run> {
    // The jobmanager's host is also the swarm's leader, as in every inventory (one manager at least).
    const hosts = localHosts(['jm'], () => ({})).map((h) => ({ ...h, role: 'manager' as const }));
    const s = session(hosts, { check });
    s.inventory.cluster = { stackName: 'teststack', dnsrr: true, flink: { jobmanagerHost: 'jm', stateDir: scratch } } as Inventory['cluster'];
    s.args = { 'rest-url': flink?.restUrl, jar, ...args };
    const run = new Run('job-submit', s);
    await jobSubmitPhase.run(run);
    await s.pool.closeAll();
    return run;
  }

  it('plans in check mode, submits, then reports ok with the job id; a failing job fails the host with its cause', async () => {
    // The jar is uploaded by now (the tests above): the one change check mode plans is the submission.
    const checked = await runPhase({ args: ['--rate 20'] }, true);
    expect(checked.summary().recap).toMatchObject([{ host: 'jm', changed: 1, failed: 0 }]);
    const none = await cluster().jobs();
    expect(none.ok && none.value.filter((j) => j.state === 'RUNNING')).toEqual([]);

    const first = await runPhase({ args: ['--rate 20'] });
    expect(first.summary().recap).toMatchObject([{ host: 'jm', changed: 1, failed: 0 }]);
    const jobId = first.outputs['job id'] ?? '';
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.outputs['web UI']).toBe(`${flink?.restUrl}/#/job/running/${jobId}/overview`);

    const second = await runPhase({ args: ['--rate 20'] });
    // Ready, jar, submit and leftovers ok; nothing to wait for.
    expect(second.summary().recap).toMatchObject([{ host: 'jm', ok: 4, changed: 0, skipped: 1, failed: 0 }]);
    expect(second.outputs['job id']).toBe(jobId);
    expect((await cluster().cancel(jobId)).ok).toBe(true);
    await cluster().waitForState(jobId, (st) => st === 'CANCELED', { timeoutMs: 30_000 });

    const failing = await runPhase({ args: ['--fail-in open'], timeout: '60' });
    const recap = failing.summary().recap;
    expect(recap).toMatchObject([{ host: 'jm', failed: 1 }]);
    expect(recap[0]?.firstError).toContain('failing in open() as asked');
  }, 180_000);
});

describe('a stack update over a job whose tasks cannot run (no savepoint possible)', () => {
  it('leaves the job alone without a state to resume from, else cancels it and resumes from that state', async () => {
    const up = await cluster().uploadJar(jar);
    expect(up.ok, up.ok ? '' : up.message).toBe(true);
    if (!up.ok) return;
    // More parallelism than the cluster has slots: the job is RUNNING, its tasks never leave SCHEDULED.
    const started = await cluster().runJar(up.value, { programArgsList: ['--rate', '20'], parallelism: 99 });
    expect(started.ok, started.ok ? '' : started.message).toBe(true);
    if (!started.ok) return;
    const stuck = started.value;
    await cluster().waitForState(stuck, (st) => st === 'RUNNING', { timeoutMs: 30_000 });
    const dir = `file://${path.join(scratch, 'stuck-savepoints')}`;

    const refused = await stopRunningJobs(cluster(), dir, () => []);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.msg).toMatch(/stop-with-savepoint of job .* failed: .*no remembered savepoint or retained checkpoint/);
    const still = await cluster().jobStatus(stuck);
    expect(still.ok && still.value.state).toBe('RUNNING');

    const name = still.ok ? still.value.name : '';
    const earlier = { cluster: cluster().baseUrl, name, jobId: 'f'.repeat(32), savepoint: 'file:/state/savepoints/savepoint-earlier', stoppedAt: 1 };
    const kept = await stopRunningJobs(cluster(), dir, () => [earlier]);
    expect(kept.ok, kept.ok ? '' : kept.msg).toBe(true);
    const mine = kept.ok ? kept.stopped.find((s) => s.jobId === stuck) : undefined;
    expect(mine).toMatchObject({ savepoint: earlier.savepoint, fallback: expect.stringContaining('no savepoint possible; cancelled') });
    const after = await cluster().jobStatus(stuck);
    expect(after.ok && after.value.state).toBe('CANCELED');
  }, 120_000);
});
