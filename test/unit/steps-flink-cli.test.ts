// --mode cli's submission call (runJarCli), as the job-submit step applies it. Issue #15 item 2: the jar copied into
// the jobmanager with `sudo docker cp` is staged in a fresh `mktemp -d` directory (0700, unguessable), never in a
// fixed /tmp/fridge-jobs another local user could own.
import { describe, expect, it } from 'vitest';
import type { JarIdentity } from '../../tasks/lib/flink/jobs.ts';
import { runJarCli } from '../../tasks/lib/flink/submit-cli.ts';
import type { ExecOptions, ExecResult, Transport } from '../../tasks/lib/transport/types.ts';

const JOB = '0123456789abcdef0123456789abcdef';
const STAGED = '/tmp/fridge-job.Qx7Rk2Lm9Z';

interface Call {
  command: string;
  sudo: boolean;
}

function scripted(mktempResult: ExecResult = { code: 0, stdout: `${STAGED}\n`, stderr: '' }): { t: Transport; calls: Call[]; uploads: Array<[string, string]> } {
  const calls: Call[] = [];
  const uploads: Array<[string, string]> = [];
  const answer = (command: string): ExecResult => {
    if (command.startsWith('mktemp -d ')) return mktempResult;
    if (command.includes(' run ')) return { code: 0, stdout: `Job has been submitted with JobID ${JOB}\n`, stderr: '' };
    if (command.includes(' list ')) return { code: 0, stdout: `01.01.2026 00:00:00 : ${JOB} : sensor-window (RUNNING)\n`, stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  const t: Transport = {
    host: 'pi1',
    exec: async (command: string, opts: ExecOptions = {}) => {
      calls.push({ command, sudo: opts.sudo === true });
      return answer(command);
    },
    put: async () => undefined,
    putFile: async (local: string, remote: string) => {
      uploads.push([local, remote]);
    },
    get: async () => undefined,
    close: async () => undefined,
  };
  return { t, calls, uploads };
}

const jar: JarIdentity = { path: '/work/job.jar', sha256: 'f'.repeat(64), digest: 'ffffffffffff', name: 'job', uploadName: 'job-ffffffffffff.jar' };
const req = { jar: '/work/job.jar', args: [], stack: 'fridge', sudo: true };

describe('jar staging for flink run (--mode cli), through runJarCli', () => {
  it('stages in a mktemp -d directory, copies from there with sudo, then removes it', async () => {
    const { t, calls, uploads } = scripted();
    const out = await runJarCli(t, 'abc123', req, jar, undefined);
    expect(out).toEqual({ ok: true, jobId: JOB });
    expect(calls[0]).toEqual({ command: `mktemp -d "\${TMPDIR:-/tmp}"/fridge-job.XXXXXXXXXX`, sudo: false });
    expect(uploads).toEqual([['/work/job.jar', `${STAGED}/job-ffffffffffff.jar`]]);
    expect(calls.find((c) => c.command.startsWith('docker cp'))).toEqual({ command: `docker cp ${STAGED}/job-ffffffffffff.jar abc123:/tmp/job-ffffffffffff.jar`, sudo: true });
    expect(calls.map((c) => c.command)).toContain(`rm -rf ${STAGED}`);
    expect(calls.some((c) => c.command.includes('/tmp/fridge-jobs'))).toBe(false);
  });

  it('fails the submission, uploading nothing, when no private directory can be made', async () => {
    const { t, uploads } = scripted({ code: 1, stdout: '', stderr: 'mktemp: failed to create directory via template: No space left on device' });
    const out = await runJarCli(t, 'abc123', req, jar, undefined);
    expect(out).toEqual({ ok: false, msg: 'cannot create a private staging directory on pi1: mktemp: failed to create directory via template: No space left on device' });
    expect(uploads).toEqual([]);
  });
});
