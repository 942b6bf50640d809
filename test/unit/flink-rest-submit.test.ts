// job-submit's pure parts: the decision table (facts in → decision out), the CLI's command line and the
// parsing of Flink's CLI output, the phase's options.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { decideSubmit, parseJobName, programArgs, type JobRef } from '../../tasks/lib/flink/jobs.ts';
import { flinkRunCommand, parseFlinkList, parseSavepointPath, parseSubmittedJobId } from '../../tasks/lib/flink/submit-cli.ts';
import { describeTasks } from '../../tasks/lib/flink/submit-rest.ts';
import { forgetStopped, recallStopped, rememberStopped } from '../../tasks/lib/deploy/savepoints.ts';
import { parseJobSubmitArgs, savepointFromStackUpdate, splitArgs } from '../../tasks/lib/phases/job-submit.ts';
import { planFromDecision } from '../../tasks/lib/steps/flink/job-submitted.ts';

const D1 = '0123456789ab';
const D2 = 'ba9876543210';
const jar = { name: 'sensor-window', digest: D1 };
const job = (jid: string, name: string, state: JobRef['state']): JobRef => ({ jid, name, state });

describe('decideSubmit', () => {
  const cases: Array<[string, JobRef[], { savepointDir?: string; fromSavepoint?: string }, string]> = [
    ['empty cluster', [], {}, 'submit'],
    ['same jar running', [job('a', `sensor-window@${D1}`, 'RUNNING')], {}, 'running'],
    ['same jar restarting', [job('a', `sensor-window@${D1}`, 'RESTARTING')], {}, 'running'],
    ['same jar finished earlier', [job('a', `sensor-window@${D1}`, 'FINISHED')], {}, 'submit'],
    ['same jar failed earlier', [job('a', `sensor-window@${D1}`, 'FAILED')], {}, 'submit'],
    ['same jar being cancelled', [job('a', `sensor-window@${D1}`, 'CANCELLING')], {}, 'submit'],
    ['older version running, no savepoint dir', [job('a', `sensor-window@${D2}`, 'RUNNING')], {}, 'conflict'],
    ['older version running, savepoint dir', [job('a', `sensor-window@${D2}`, 'RUNNING')], { savepointDir: 'file:///sp' }, 'upgrade'],
    ['older version running, explicit savepoint', [job('a', `sensor-window@${D2}`, 'RUNNING')], { savepointDir: 'file:///sp', fromSavepoint: 'file:///sp/x' }, 'conflict'],
    ['another job running', [job('a', `fraud-detect@${D2}`, 'RUNNING')], {}, 'submit'],
    ['same name without a digest (not ours)', [job('a', 'sensor-window', 'RUNNING')], {}, 'submit'],
  ];
  it.each(cases)('%s', (_, jobs, opts, kind) => {
    expect(decideSubmit(jobs, jar, opts).kind).toBe(kind);
  });

  it('tells the user how to upgrade', () => {
    const d = decideSubmit([job('abc', `sensor-window@${D2}`, 'RUNNING')], jar, {});
    expect(d).toEqual({
      kind: 'conflict',
      job: job('abc', `sensor-window@${D2}`, 'RUNNING'),
      msg: `job sensor-window@${D2} (abc) is RUNNING with another jar; pass --savepoint-dir DIR to upgrade it (stop with savepoint, resume the new jar)`,
    });
  });
});

describe('job names and arguments', () => {
  it('splits name and digest', () => {
    expect(parseJobName(`sensor-window@${D1}`)).toEqual({ name: 'sensor-window', digest: D1 });
    expect(parseJobName('a@b@' + D1)).toEqual({ name: 'a@b', digest: D1 });
    expect(parseJobName('plain job')).toEqual({ name: 'plain job' });
    expect(parseJobName('x@short')).toEqual({ name: 'x@short' });
  });

  it('appends the jar digest once', () => {
    expect(programArgs(['--rate', '10'], jar)).toEqual(['--rate', '10', '--fridge-jar', D1]);
    expect(programArgs(['--fridge-jar', 'mine'], jar)).toEqual(['--fridge-jar', 'mine']);
  });
});

describe('--mode cli', () => {
  it('builds a POSIX-quoted flink run command', () => {
    const cmd = flinkRunCommand('c0ffee', '/tmp/sensor-window-x.jar', { jar: 'x', args: ['--msg', "it's on"], entryClass: 'a.B', parallelism: 2, allowNonRestoredState: true }, jar, 'file:/sp/savepoint-1');
    const flink = `docker exec c0ffee sh -c 'exec "\${FLINK_HOME:-/opt/flink}/bin/flink" "$@"' flink`;
    expect(cmd).toBe(`${flink} run -d -c a.B -p 2 -s file:/sp/savepoint-1 -n /tmp/sensor-window-x.jar --msg 'it'\\''s on' --fridge-jar ${D1}`);
    expect(flinkRunCommand('c0ffee', '/tmp/j.jar', { jar: 'x', args: [] }, jar)).toBe(`${flink} run -d /tmp/j.jar --fridge-jar ${D1}`);
  });

  it("parses flink list -a, run -d and stop output", () => {
    const list = [
      'Waiting for response...',
      '------------------ Running/Restarting Jobs -------------------',
      `25.11.2026 23:14:02 : ${'a'.repeat(32)} : sensor-window@${D1} (RUNNING)`,
      '--------------------------------------------------------------',
      'No scheduled jobs.',
      '---------------------- Terminated Jobs -----------------------',
      `25.11.2026 23:13:40 : ${'b'.repeat(32)} : sensor window (with spaces) (FAILED)`,
      '--------------------------------------------------------------',
    ].join('\n');
    expect(parseFlinkList(list)).toEqual([
      { jid: 'a'.repeat(32), name: `sensor-window@${D1}`, state: 'RUNNING' },
      { jid: 'b'.repeat(32), name: 'sensor window (with spaces)', state: 'FAILED' },
    ]);
    expect(parseSubmittedJobId(`Job has been submitted with JobID ${'c'.repeat(32)}\n`)).toBe('c'.repeat(32));
    expect(parseSubmittedJobId('The program finished with the following exception:')).toBeUndefined();
    expect(parseSavepointPath('Suspending job "x" with a CANONICAL savepoint.\nSavepoint completed. Path: file:/state/savepoints/savepoint-a-1\n')).toBe('file:/state/savepoints/savepoint-a-1');
  });
});

describe('the job-submit phase options', () => {
  const inv = { hosts: [{ name: 'pi1', address: '10.77.0.11' }], cluster: { dnsrr: true, services: { mosquitto: false }, flink: { jobmanagerHost: 'pi1', stateDir: '/srv/flink-state/' } } } as unknown as Inventory;

  it('defaults to REST (the address is found when the job is submitted) and savepoints under the state dir', () => {
    expect(parseJobSubmitArgs({}, inv)).toEqual({ ok: true, value: { mode: 'rest', args: [], savepointDir: '/srv/flink-state/savepoints' } });
  });

  it('reads every option and refuses bad values', () => {
    const r = parseJobSubmitArgs(
      { jar: 'j.jar', class: 'a.B', args: ['--rate 20', '--sensors  4'], parallelism: '2', 'from-savepoint': 'file:/sp/1', 'allow-non-restored-state': true, mode: 'cli', timeout: '30' },
      inv,
    );
    expect(r).toEqual({
      ok: true,
      value: {
        mode: 'cli',
        jar: 'j.jar',
        entryClass: 'a.B',
        args: ['--rate', '20', '--sensors', '4'],
        parallelism: 2,
        fromSavepoint: 'file:/sp/1',
        allowNonRestoredState: true,
        savepointDir: '/srv/flink-state/savepoints',
        startTimeoutMs: 30_000,
      },
    });
    expect(parseJobSubmitArgs({ mode: 'ssh' }, inv)).toEqual({ ok: false, msg: "--mode must be rest or cli, got 'ssh'" });
    expect(parseJobSubmitArgs({ parallelism: '0' }, inv)).toEqual({ ok: false, msg: "--parallelism must be a positive integer, got '0'" });
    expect(splitArgs([' a  b ', ''])).toEqual(['a', 'b']);
  });

  it('resumes from the newest savepoint stack-deploy took of the same job', () => {
    const stopped = [
      { cluster: 'c', name: `sensor-window@${D2}`, jobId: 'x', savepoint: 'file:/sp/old', stoppedAt: 1 },
      { cluster: 'c', name: `sensor-window@${D1}`, jobId: 'y', savepoint: 'file:/sp/new', stoppedAt: 2 },
      { cluster: 'c', name: 'other', jobId: 'z', savepoint: 'file:/sp/other', stoppedAt: 3 },
    ];
    expect(savepointFromStackUpdate(stopped, 'sensor-window')).toBe('file:/sp/new');
    expect(savepointFromStackUpdate(undefined, 'sensor-window')).toBeUndefined();
  });

  it('remembers stopped jobs per cluster: a savepoint of one Fridge is never offered to another', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fridge-stopped-')), 'stopped-jobs.json');
    const sim = 'http://10.77.0.14:8081';
    const pis = 'http://192.168.1.104:8081';
    rememberStopped([{ cluster: sim, name: `sensor-window@${D1}`, jobId: 'y', savepoint: 'file:/sp/sim', stoppedAt: 2 }], file);
    rememberStopped([{ cluster: pis, name: `sensor-window@${D1}`, jobId: 'z', savepoint: 'file:/sp/pis', stoppedAt: 3 }], file);
    expect(recallStopped(sim, file).map((s) => s.savepoint)).toEqual(['file:/sp/sim']);
    expect(savepointFromStackUpdate(undefined, 'sensor-window', () => recallStopped(pis, file))).toBe('file:/sp/pis');
    forgetStopped(sim, 'sensor-window', (n) => n.split('@')[0] ?? n, file);
    expect(recallStopped(sim, file)).toEqual([]);
    expect(recallStopped(pis, file).map((s) => s.savepoint)).toEqual(['file:/sp/pis']);
  });

  it('maps decisions to the runner: ok, change (call), fail', () => {
    const apply = async () => ({ ok: true as const });
    expect(planFromDecision({ kind: 'running', job: job('a', `sensor-window@${D1}`, 'RUNNING') }, 'sensor-window', apply)).toEqual({ kind: 'ok', msg: `sensor-window@${D1} already running (a)` });
    expect(planFromDecision({ kind: 'conflict', job: job('a', 'n', 'RUNNING'), msg: 'stop it' }, 'sensor-window', apply)).toEqual({ kind: 'fail', msg: 'stop it' });
    const submit = planFromDecision({ kind: 'submit' }, 'sensor-window', apply);
    expect(submit.kind === 'change' && submit.changes.map((c) => c.summary)).toEqual(['submit sensor-window']);
  });
});

describe('a job still starting', () => {
  it('is described by the states its subtasks are in', () => {
    expect(describeTasks({ total: 3, running: 1, finished: 0, deploying: 2, created: 0, initializing: 0 })).toBe('1/3 running, 2 deploying');
    expect(describeTasks({ total: 2, running: 0, finished: 0 })).toBe('0/2 running');
  });
});
