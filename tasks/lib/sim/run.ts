// Runs host commands as argv (no shell), returning results as data; only bugs throw.
import { $ } from 'zx';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(cmd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const p = $({ quiet: true, nothrow: true, input: opts.input, env: { ...process.env, ...opts.env } })`${cmd} ${args}`;
  const out = await p;
  return { code: out.exitCode ?? 1, stdout: out.stdout, stderr: out.stderr };
}

export function docker(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return run('docker', args, opts);
}

/** A failed command as one line for a report: the command and the last line of its stderr. */
export function describeFailure(what: string, r: RunResult): string {
  const last = r.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.code}`;
  return `${what}: ${last}`;
}

export class SimError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimError';
  }
}

/** Throws SimError (an expected, reportable failure) unless the command succeeded. */
export function must(what: string, r: RunResult): RunResult {
  if (r.code !== 0) throw new SimError(describeFailure(what, r));
  return r;
}
