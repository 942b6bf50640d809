// job-submit as steps (#16 item 1): facts in → plans out through the refusing fixture, the pure verdicts and
// conclusions of the waits, the recap's job lines, and the whole flow through the runner against a fetch that
// plays Flink's REST API (submit, then a second run changes nothing; check mode applies nothing).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Run } from '../../tasks/lib/engine/runner.ts';
import type { WaitEnd } from '../../tasks/lib/engine/types.ts';
import { jarIdentity, type JarIdentity, type JobRef } from '../../tasks/lib/flink/jobs.ts';
import { FlinkRest } from '../../tasks/lib/flink/rest.ts';
import { readinessPlan, restReadyStep } from '../../tasks/lib/steps/flink/flink-ready.ts';
import { jarUploadedStep } from '../../tasks/lib/steps/flink/jar-uploaded.ts';
import { leftoversStep } from '../../tasks/lib/steps/flink/job-leftovers.ts';
import { jobLines, NO_JOB } from '../../tasks/lib/steps/flink/job-lines.ts';
import { jobVerdict, restJobRunningStep, type JobLook } from '../../tasks/lib/steps/flink/job-running.ts';
import { cliSubmitStep, restSubmitStep, SUBMITTED } from '../../tasks/lib/steps/flink/job-submitted.ts';
import { readyStep, submitSteps, type SubmitTarget } from '../../tasks/lib/steps/flink/submit-steps.ts';
import { localHosts, session } from '../helpers/engine.ts';
import { commands, ctxFor } from './steps-fixture.ts';

const URL_ = 'http://10.77.0.11:8081';
const D1 = '0123456789ab';
const D2 = 'ba9876543210';
const JID = 'a'.repeat(32);
const jar: JarIdentity = { path: '/w/sensor-window.jar', sha256: `${D1}${'0'.repeat(52)}`, digest: D1, name: 'sensor-window', uploadName: `sensor-window-${D1}.jar` };
const job = (name: string, state: JobRef['state'], jid = JID): JobRef => ({ jid, name, state });
const rest = new FlinkRest({ baseUrl: URL_ });
const req = { jar: jar.path, args: [], savepointDir: 'file:///state/savepoints' };

describe('Flink ready', () => {
  it('ok once Flink answers; unmet otherwise: a real run fails, check mode says what stack-deploy would do', () => {
    expect(readinessPlan({ ok: true, msg: `Flink answers at ${URL_}` }, 'j.jar')).toEqual({ kind: 'ok', msg: `Flink answers at ${URL_}` });
    expect(readinessPlan({ ok: false, msg: `Flink at ${URL_} is not ready: refused` }, 'j.jar')).toEqual({
      kind: 'unmet',
      msg: `Flink at ${URL_} is not ready: refused`,
      inCheck: { skip: `Flink at ${URL_} is not ready: refused (check mode: stack-deploy would start Flink, then j.jar would be submitted)` },
    });
  });
  it("is a wait named for Flink's REST address", () => {
    const step = restReadyStep(URL_, 'j.jar');
    expect(step).toMatchObject({ kind: 'wait', name: `Flink's REST API (${URL_})` });
    expect(step.verdict({ ok: false, msg: 'x' }, ctxFor('pi1'))).toEqual({ kind: 'waiting', state: 'x' });
  });
});

describe('jar on Flink (by content hash)', () => {
  const step = jarUploadedStep(rest, jar.path, 'sensor-window.jar');
  it('uploads a jar Flink does not have under its digest name', () => {
    const p = step.plan({ ok: true, jar, uploaded: undefined }, ctxFor('pi1'));
    expect(p.kind === 'change' && p.changes.map((c) => c.summary)).toEqual([`upload sensor-window-${D1}.jar`]);
    expect(commands(p)).toEqual([`call upload sensor-window-${D1}.jar`]);
  });
  it('no-op when the same bytes are uploaded; fails when Flink cannot list its jars', () => {
    expect(step.plan({ ok: true, jar, uploaded: { id: `x_sensor-window-${D1}.jar`, name: jar.uploadName, uploaded: 1 } }, ctxFor('pi1'))).toEqual({ kind: 'ok', msg: `sensor-window-${D1}.jar (x_sensor-window-${D1}.jar)` });
    expect(step.plan({ ok: false, msg: 'cannot list the jars' }, ctxFor('pi1'))).toEqual({ kind: 'fail', msg: 'cannot list the jars' });
  });
});

describe('job submitted', () => {
  const cases: Array<[string, JobRef[], typeof req & { fromSavepoint?: string }, string, string[]]> = [
    ['empty cluster: submit', [], req, 'change', ['submit sensor-window']],
    ['same jar running: nothing to do', [job(`sensor-window@${D1}`, 'RUNNING')], req, 'ok', []],
    ['older version running: upgrade through a savepoint', [job(`sensor-window@${D2}`, 'RUNNING')], req, 'change', [`upgrade sensor-window@${D2} (${JID}) to this jar through a savepoint`]],
    ['older version running, --from-savepoint: conflict', [job(`sensor-window@${D2}`, 'RUNNING')], { ...req, fromSavepoint: 'file:/sp/1' }, 'fail', []],
  ];
  it.each(cases)('%s', (_, jobs, r, kind, summaries) => {
    for (const step of [restSubmitStep(rest, r), cliSubmitStep({ ...r, stack: 'flink', sudo: true })]) {
      const p = step.plan({ ok: true, jar, jobs, container: 'c0' }, ctxFor('pi1'));
      expect(p.kind).toBe(kind);
      expect(p.kind === 'change' ? p.changes.map((c) => c.summary) : []).toEqual(summaries);
      expect(step.output?.({ ok: true, jar, jobs })?.kind).toBe(kind === 'change' ? (summaries[0]?.startsWith('upgrade') ? 'upgrade' : 'submit') : kind === 'ok' ? 'running' : 'conflict');
    }
  });
  it('keeps the names the recap and the deploy test know', () => {
    expect(restSubmitStep(rest, req).name).toBe(`job-submit (REST ${URL_})`);
    expect(cliSubmitStep({ ...req, stack: 'flink' }).name).toBe('job-submit (flink run in flink_jobmanager)');
  });
  it('fails with what could not be read', () => {
    expect(restSubmitStep(rest, req).plan({ ok: false, msg: 'GET /jobs/overview: 500' }, ctxFor('pi1'))).toEqual({ kind: 'fail', msg: 'GET /jobs/overview: 500' });
  });
});

describe('job running (the wait after a submission)', () => {
  const read = (state: JobRef['state'], over: Partial<Extract<JobLook, { kind: 'read' }>> = {}): JobLook => ({ kind: 'read', jobId: JID, name: `sensor-window@${D1}`, state, ...over });
  it.each([
    ['nothing submitted', { kind: 'none', decision: undefined } as JobLook, true, 'done'],
    ['RUNNING, every task running', read('RUNNING', { tasks: { total: 2, running: 2, finished: 0 } }), true, 'done'],
    ['RUNNING, a task deploying', read('RUNNING', { tasks: { total: 2, running: 1, finished: 0, deploying: 1 } }), true, 'waiting'],
    ['RUNNING by state alone (flink run)', read('RUNNING'), false, 'done'],
    ['a batch job FINISHED', read('FINISHED'), true, 'done'],
    ['FAILED', read('FAILED'), true, 'failed'],
    ['not listed yet', { kind: 'unread', jobId: JID, msg: 'no job', final: false } as JobLook, true, 'waiting'],
    ['Flink refuses to say', { kind: 'unread', jobId: JID, msg: '500', final: true } as JobLook, true, 'failed'],
  ])('%s', (_, look, tasksSeen, kind) => {
    expect(jobVerdict(look, tasksSeen).kind).toBe(kind);
  });

  const step = restJobRunningStep(rest, 'sensor-window');
  const end = (kind: WaitEnd<JobLook>['kind'], state: JobLook, why = ''): WaitEnd<JobLook> => ({ kind, state, why, waitedMs: 1_500 });
  it('nothing to wait for: skipped when the job already ran; unmet when only planned (check mode)', () => {
    expect(step.conclude?.(end('done', { kind: 'none', decision: { kind: 'running', job: job(`sensor-window@${D1}`, 'RUNNING') } }), ctxFor('pi1'), '')).toEqual({ kind: 'skip', msg: `nothing submitted: sensor-window@${D1} is RUNNING` });
    expect(step.conclude?.(end('done', { kind: 'none', decision: { kind: 'submit' } }), ctxFor('pi1'), '')).toMatchObject({ kind: 'unmet', inCheck: { skip: expect.stringContaining('check mode') } });
  });
  it("a failed job is reported with its root exception, and an upgrade's savepoint", () => {
    const trace = ['java.lang.IllegalStateException: failing in open() as asked', ...Array.from({ length: 20 }, (_, i) => `\tat frame${i}`)].join('\n');
    const look = read('FAILED', { rootCause: { message: 'java.lang.IllegalStateException: failing in open() as asked', stacktrace: trace }, previous: 'file:/sp/1' });
    const why = jobVerdict(look, true);
    expect(why).toEqual({ kind: 'failed', why: `job sensor-window@${D1} FAILED: java.lang.IllegalStateException: failing in open() as asked` });
    const p = step.conclude?.(end('failed', look, why.kind === 'failed' ? why.why : ''), ctxFor('pi1'), '');
    expect(p?.kind === 'fail' && p.msg.split('\n')).toEqual([
      `job sensor-window@${D1} FAILED: java.lang.IllegalStateException: failing in open() as asked`,
      'the previous version was stopped; its savepoint is file:/sp/1',
      ...trace.split('\n').slice(0, 12),
    ]);
  });
  it('a job that does not start in time says where it stands and its latest exception', () => {
    const p = step.conclude?.(end('timedOut', read('RUNNING'), 'gave up after 120 s: job x RUNNING, tasks: 0/2 running'), ctxFor('pi1'), 'java.lang.Boom: no slots\n\tat a');
    expect(p).toEqual({ kind: 'fail', msg: `job ${JID} did not start: gave up after 120 s: job x RUNNING, tasks: 0/2 running: java.lang.Boom: no slots\n\tat a` });
  });
  it('done: ok with the state', () => {
    expect(step.conclude?.(end('done', read('RUNNING')), ctxFor('pi1'), '')).toEqual({ kind: 'ok', msg: `sensor-window@${D1} running (after 1.5 s)` });
  });
});

describe('leftovers of earlier versions', () => {
  const step = leftoversStep({ rest, cluster: URL_, jarPath: jar.path, jarName: 'sensor-window' });
  it('nothing left: ok', () => {
    expect(step.plan({ ok: true, name: 'sensor-window', oldJars: [], served: [] }, ctxFor('pi1'))).toEqual({ kind: 'ok' });
  });
  it('removes older uploads and forgets the savepoints that served', () => {
    const p = step.plan(
      { ok: true, name: 'sensor-window', oldJars: [{ id: `x_sensor-window-${D2}.jar`, name: `sensor-window-${D2}.jar`, uploaded: 1 }], served: [{ cluster: URL_, name: `sensor-window@${D2}`, jobId: 'y', savepoint: 'file:/sp/1', stoppedAt: 1 }] },
      ctxFor('pi1'),
    );
    expect(p.kind === 'change' && p.changes.map((c) => c.summary)).toEqual([`remove sensor-window-${D2}.jar from Flink`, 'forget the remembered savepoint of sensor-window: file:/sp/1']);
  });
});

describe("the recap's job lines", () => {
  const running: Extract<JobLook, { kind: 'read' }> = { kind: 'read', jobId: JID, name: `sensor-window@${D1}`, state: 'RUNNING' };
  it('a job submitted and running: its id, the line, the web UI, the savepoint of the version it replaced', () => {
    expect(jobLines({ jarName: 'sensor-window.jar', restUrl: URL_, submitStatus: 'changed', submitted: { jobId: JID, previous: 'file:/sp/1' }, look: running, waitStatus: 'ok' })).toEqual({
      'job id': JID,
      job: `sensor-window@${D1} (RUNNING)`,
      'web UI': `${URL_}/#/job/running/${JID}/overview`,
      'savepoint of the previous version': 'file:/sp/1',
    });
  });
  it('already running: the same lines; a job that is not running says so', () => {
    const d = { kind: 'running' as const, job: job(`sensor-window@${D1}`, 'RUNNING') };
    expect(jobLines({ jarName: 'sensor-window.jar', restUrl: URL_, decision: d, submitStatus: 'ok' })).toEqual({ 'job id': JID, job: `sensor-window@${D1} (RUNNING)`, 'web UI': `${URL_}/#/job/running/${JID}/overview` });
    expect(jobLines({ jarName: 'sensor-window.jar', decision: { kind: 'running', job: job('s', 'RESTARTING') }, submitStatus: 'ok' })).toEqual({ 'job id': JID, [NO_JOB]: 's is RESTARTING' });
  });
  it('planned only (check mode), or failed: no job line, and why', () => {
    expect(jobLines({ jarName: 'sensor-window.jar', decision: { kind: 'submit' }, submitStatus: 'changed' })).toEqual({ [NO_JOB]: 'check mode: sensor-window.jar would be submitted' });
    expect(jobLines({ jarName: 'sensor-window.jar', decision: { kind: 'submit' }, submitStatus: 'changed', submitted: { jobId: JID }, look: { ...running, state: 'FAILED' }, waitStatus: 'failed', failure: 'job x FAILED: boom\nat' })).toEqual({
      'job id': JID,
      [NO_JOB]: 'job-submit failed: job x FAILED: boom',
    });
  });
});

/** A Flink REST API in memory: jars, jobs that run as soon as they are submitted. */
function fakeFlink(base: string): { calls: string[] } {
  const calls: string[] = [];
  const jars: Array<{ id: string; name: string; uploaded: number }> = [];
  const jobs: Array<{ jid: string; name: string; state: string; 'start-time': number; tasks: { total: number; running: number; finished: number } }> = [];
  const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const p = url.slice(base.length);
    calls.push(`${method} ${p}`);
    if (p === '/overview') return json({ taskmanagers: 1, 'slots-total': 2, 'slots-available': 2, 'jobs-running': 0, 'flink-version': '2.3.0' });
    if (p === '/jars' && method === 'GET') return json({ files: jars });
    if (p === '/jars/upload') {
      const file = (init.body as FormData).get('jarfile') as File;
      jars.push({ id: `u_${file.name}`, name: file.name, uploaded: 1 });
      return json({ filename: `/tmp/u_${file.name}`, status: 'success' });
    }
    const run = /^\/jars\/([^/]+)\/run$/.exec(p);
    if (run) {
      const body = JSON.parse(String(init.body)) as { programArgsList: string[] };
      const digest = body.programArgsList.at(-1) ?? '';
      const jid = `${jobs.length}`.padStart(32, 'b');
      jobs.push({ jid, name: `sensor-window@${digest}`, state: 'RUNNING', 'start-time': 1, tasks: { total: 2, running: 2, finished: 0 } });
      return json({ jobid: jid });
    }
    if (p === '/jobs/overview') return json({ jobs });
    return json({ errors: [`not played: ${method} ${p}`] }, 404);
  });
  return { calls };
}

async function runSteps(target: SubmitTarget, jarPath: string, check = false) {
  const hosts = localHosts(['jm'], () => ({}));
  const s = session(hosts, { check });
  const run = new Run('job-submit', s);
  const ready = readyStep(target, path.basename(jarPath));
  const { steps, running } = submitSteps(target, { jar: jarPath, args: [] }, 'http://fridge-unit-test.invalid:8081', ready);
  const [outcome] = await run.play({ name: 'job-submit', hosts, steps: [ready, ...steps] });
  await s.pool.closeAll();
  return { run, outcome, running };
}

describe('through the runner, against a fetch that plays Flink', () => {
  afterEach(() => vi.unstubAllGlobals());
  const base = 'http://flink.test:8081';
  const jarPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'fridge-steps-flink-')), 'sensor-window.jar');
  writeFileSync(jarPath, 'PK\u0003\u0004 not really a jar');

  it('check mode applies nothing; a real run uploads, submits and waits; a second run changes nothing', async () => {
    const flink = fakeFlink(base);
    const target: SubmitTarget = { mode: 'rest', restUrl: base };
    const checked = await runSteps(target, jarPath, true);
    expect(checked.outcome?.results.map((r) => [r.step, r.status])).toEqual([
      [`Flink's REST API (${base})`, 'ok'],
      ['jar sensor-window.jar on Flink', 'changed'],
      [`job-submit (REST ${base})`, 'changed'],
      ['sensor-window running', 'skipped'],
      ['leftovers of earlier sensor-window versions', 'ok'],
    ]);
    expect(flink.calls.filter((c) => c.startsWith('POST'))).toEqual([]);

    const first = await runSteps(target, jarPath);
    expect(first.outcome?.results.map((r) => r.status)).toEqual(['ok', 'changed', 'changed', 'ok', 'ok']);
    const { digest } = await jarIdentity(jarPath);
    expect(first.run.output(SUBMITTED, 'jm')).toEqual({ jobId: '0'.padStart(32, 'b') });
    expect(first.run.output(first.running, 'jm')).toMatchObject({ kind: 'read', name: `sensor-window@${digest}`, state: 'RUNNING' });

    const second = await runSteps(target, jarPath);
    expect(second.outcome?.results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'skipped', 'ok']);
    expect(flink.calls.filter((c) => c.startsWith('POST'))).toEqual(['POST /jars/upload', `POST /jars/u_sensor-window-${digest}.jar/run`]);
  });
});
