// Runs one job of a workflow file as written: its `run:` steps in bash with the same `env:` and ${{ }}
// expressions expanded from a given context, GITHUB_ENV / GITHUB_OUTPUT handled between steps like the runner does.
// `uses:` steps are not run (the checkout is the work tree; node and go are already here) but are recorded.
// A rewrite hook swaps the real-hardware inventory for the virtual fridge's; scripts that still name a
// forbidden string after the rewrite are refused, never run.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { condition, interpolate, type ExprObject, type ExprScope } from './github-expressions.ts';

const envMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const stepSchema = z.object({
  name: z.string().optional(),
  id: z.string().optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
  uses: z.string().optional(),
  run: z.string().optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  env: envMap.optional(),
  shell: z.string().optional(),
});

const jobSchema = z.object({
  if: z.union([z.string(), z.boolean()]).optional(),
  'runs-on': z.union([z.string(), z.array(z.string())]),
  needs: z.union([z.string(), z.array(z.string())]).optional(),
  env: envMap.optional(),
  steps: z.array(stepSchema),
});

const workflowSchema = z.object({
  name: z.string().optional(),
  env: envMap.optional(),
  jobs: z.record(z.string(), jobSchema),
});

export type Workflow = z.infer<typeof workflowSchema>;
export type WorkflowStep = z.infer<typeof stepSchema>;

export function loadWorkflow(file: string): Workflow {
  return workflowSchema.parse(parse(readFileSync(file, 'utf8')));
}

export interface WorkflowContext {
  github: ExprObject;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  inputs: ExprObject;
  needs: ExprObject;
}

export interface StepRecord {
  name: string;
  id: string | undefined;
  kind: 'run' | 'uses';
  status: 'success' | 'failure' | 'skipped';
  exitCode: number | undefined;
  /** The script as run, after expression expansion and the rewrite. */
  script: string | undefined;
  env: Record<string, string>;
  /** What the step added to GITHUB_ENV for the steps after it. */
  exportedEnv: Record<string, string>;
  /** What the step wrote to GITHUB_OUTPUT (steps.<id>.outputs). */
  outputs: Record<string, string>;
  output: string;
}

export interface RunJobOptions {
  workflowFile: string;
  job: string;
  context: WorkflowContext;
  /** Working directory of every step (GITHUB_WORKSPACE). */
  workspace: string;
  /** Base process environment (PATH, HOME ...); the runner adds GITHUB_* and RUNNER_TEMP. */
  baseEnv: Record<string, string>;
  rewrite?: (script: string) => string;
  /** A reason to not run a `run:` step (recorded as skipped), e.g. an install the work tree already has. */
  skipRun?: (script: string) => string | undefined;
  /** Strings no script may contain once rewritten (the real Fridge's inventory). */
  forbidden?: string[];
  /** Called after each step, e.g. to look at files a step left for the next one. */
  afterStep?: (step: StepRecord, runnerTemp: string) => void;
  stepTimeoutMs?: number;
}

export interface JobRun {
  /** Result of the job's `if:`; when false no step ran. */
  jobRuns: boolean;
  steps: StepRecord[];
  /** Expression paths read but not provided (GitHub would silently use ''). */
  unresolved: string[];
  ok: boolean;
  runnerTemp: string;
}

/** Parses GITHUB_ENV / GITHUB_OUTPUT: NAME=value lines and NAME<<DELIMITER blocks. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
      out[name!] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function expandEnv(env: Record<string, string | number | boolean> | undefined, scope: ExprScope): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = interpolate(String(v), scope);
  return out;
}

async function runBash(script: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // GitHub's default for `shell: bash`.
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, output: chunks.join('') });
    });
  });
}

export async function runJob(opts: RunJobOptions): Promise<JobRun> {
  const wf = loadWorkflow(opts.workflowFile);
  const job = wf.jobs[opts.job];
  if (!job) throw new Error(`bug: no job ${opts.job} in ${opts.workflowFile}`);
  const runnerTemp = mkdtempSync(path.join(tmpdir(), 'fridge-gh-runner-'));
  const steps: StepRecord[] = [];
  const stepsCtx: ExprObject = {};
  const scope: ExprScope = {
    context: {
      github: opts.context.github,
      secrets: opts.context.secrets,
      vars: opts.context.vars,
      inputs: opts.context.inputs,
      needs: opts.context.needs,
      runner: { temp: runnerTemp, os: 'Linux', arch: 'X64' },
      steps: stepsCtx,
      env: {},
    },
    failed: false,
    unresolved: new Set(),
  };

  const jobRuns = condition(job.if, scope);
  if (!jobRuns) return { jobRuns, steps, unresolved: [...scope.unresolved], ok: true, runnerTemp };

  const wfEnv = expandEnv(wf.env, scope);
  scope.context.env = { ...wfEnv };
  const jobEnv = { ...wfEnv, ...expandEnv(job.env, scope) };
  const fromGithubEnv: Record<string, string> = {};
  const gh = opts.context.github;
  const runnerEnv: Record<string, string> = {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_REPOSITORY: String(gh.repository ?? ''),
    GITHUB_REPOSITORY_OWNER: String(gh.repository_owner ?? ''),
    GITHUB_SHA: String(gh.sha ?? ''),
    GITHUB_REF: String(gh.ref ?? ''),
    GITHUB_EVENT_NAME: String(gh.event_name ?? ''),
    GITHUB_RUN_ID: String(gh.run_id ?? ''),
    GITHUB_SERVER_URL: String(gh.server_url ?? 'https://github.com'),
    GITHUB_API_URL: String(gh.api_url ?? 'https://api.github.com'),
    RUNNER_TEMP: runnerTemp,
  };

  for (const [n, step] of job.steps.entries()) {
    const name = step.name ?? (step.uses ? `Run ${step.uses}` : `step ${n + 1}`);
    scope.context.env = { ...jobEnv, ...fromGithubEnv };
    const stepEnv = { ...jobEnv, ...fromGithubEnv, ...expandEnv(step.env, scope) };
    scope.context.env = stepEnv;
    const record: StepRecord = { name, id: step.id, kind: step.run !== undefined ? 'run' : 'uses', status: 'skipped', exitCode: undefined, script: undefined, env: stepEnv, exportedEnv: {}, outputs: {}, output: '' };
    steps.push(record);
    if (!condition(step.if, scope) || step.run === undefined) {
      if (step.id) stepsCtx[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      opts.afterStep?.(record, runnerTemp);
      continue;
    }
    let script = interpolate(step.run, scope);
    if (opts.rewrite) script = opts.rewrite(script);
    record.script = script;
    const skipReason = opts.skipRun?.(script);
    if (skipReason) {
      record.output = `skipped: ${skipReason}`;
      if (step.id) stepsCtx[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
      opts.afterStep?.(record, runnerTemp);
      continue;
    }
    const leaked = (opts.forbidden ?? []).find((f) => script.includes(f));
    if (leaked) {
      rmSync(runnerTemp, { recursive: true, force: true });
      throw new Error(`refusing to run step "${name}": it still names ${leaked}`);
    }

    const envFile = path.join(runnerTemp, `env-${n}`);
    const outputFile = path.join(runnerTemp, `output-${n}`);
    const summaryFile = path.join(runnerTemp, `summary-${n}`);
    for (const f of [envFile, outputFile, summaryFile]) writeFileSync(f, '');
    const env = { ...opts.baseEnv, ...runnerEnv, ...stepEnv, GITHUB_ENV: envFile, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile };
    const { code, output } = await runBash(script, opts.workspace, env, opts.stepTimeoutMs ?? 600_000);
    record.exitCode = code;
    record.output = output;
    record.status = code === 0 ? 'success' : 'failure';
    if (code !== 0) scope.failed = true;
    record.exportedEnv = parseCommandFile(readFileSync(envFile, 'utf8'));
    Object.assign(fromGithubEnv, record.exportedEnv);
    record.outputs = parseCommandFile(readFileSync(outputFile, 'utf8'));
    if (step.id) stepsCtx[step.id] = { outputs: record.outputs, outcome: record.status, conclusion: record.status };
    opts.afterStep?.(record, runnerTemp);
  }
  return { jobRuns, steps, unresolved: [...scope.unresolved].sort(), ok: !scope.failed, runnerTemp };
}
