// Runs a task as the user does (`npx zx tasks/NAME.mjs`), console output, and reads what the user reads:
// the step lines, the PLAY RECAP and the exit code. Falls back to an in-process run with the same console
// reporter while the task is not registered in the CLI yet.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TASKS } from '../../tasks/lib/cli/tasks.ts';
import type { Phase } from '../../tasks/lib/engine/phase.ts';
import { exitCodeFor } from '../../tasks/lib/engine/recap.ts';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import { Run, type Session } from '../../tasks/lib/engine/runner.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { PROJECT_ROOT } from '../../tasks/lib/paths.ts';
import { ConsoleReporter } from '../../tasks/lib/report/console.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';

export interface TaskRun {
  code: number;
  output: string;
  /** Wall time of the command, process start-up included. */
  ms: number;
  /** Time inside the phase (from --json's summary, or the in-process run). */
  phaseMs?: number;
}

export interface HostCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

interface JsonSummary {
  phases: Array<{ durationMs: number; recap: Array<{ host: string; ok: number; changed: number; unreachable: boolean; failed: number; skipped: number }> }>;
}

function jsonOf(output: string): JsonSummary | undefined {
  // --json's one document (report/json.ts) starts with its version; stderr's heartbeat lines may come after it.
  const start = output.search(/^\{\n {2}"version"/m);
  if (start < 0) return undefined;
  const end = output.indexOf('\n}', start);
  try {
    return JSON.parse(output.slice(start, end + 2)) as JsonSummary;
  } catch {
    return undefined;
  }
}

/** PLAY RECAP lines (or --json's recap) → counts per host (the last recap wins). */
export function recap(output: string): Record<string, HostCounts> {
  const out: Record<string, HostCounts> = {};
  const json = jsonOf(output);
  if (json) {
    for (const h of json.phases.flatMap((p) => p.recap)) out[h.host] = { ok: h.ok, changed: h.changed, unreachable: h.unreachable ? 1 : 0, failed: h.failed, skipped: h.skipped };
    return out;
  }
  for (const m of output.matchAll(/^(\S+)\s+: ok=(\d+) changed=(\d+) unreachable=(\d+) failed=(\d+) skipped=(\d+)/gm)) {
    out[m[1] as string] = { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]), skipped: Number(m[6]) };
  }
  return out;
}

export function totalChanged(output: string): number {
  return Object.values(recap(output)).reduce((n, h) => n + h.changed, 0);
}

function env(): NodeJS.ProcessEnv {
  // The virtual fridge's first-login password, as an operator would export it.
  const pw = fs.existsSync(SIM_PATHS.passwordFile) ? fs.readFileSync(SIM_PATHS.passwordFile, 'utf8').trim() : undefined;
  return { ...process.env, NO_COLOR: '1', ...(pw && !process.env.FRIDGE_SSH_PASSWORD ? { FRIDGE_SSH_PASSWORD: pw } : {}) };
}

function spawnTask(name: string, args: string[], onLine: (line: string) => void): Promise<TaskRun> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npx', ['zx', path.join('tasks', `${name}.mjs`), '-i', SIM_PATHS.inventory, ...args], { cwd: PROJECT_ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const take = (b: Buffer) => {
      output += b.toString();
      partial += b.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => {
      const json = jsonOf(output);
      resolve({ code: code ?? 1, output, ms: Date.now() - t0, ...(json ? { phaseMs: json.phases.reduce((n, p) => n + p.durationMs, 0) } : {}) });
    });
  });
}

async function inProcess(name: string, args: string[], onLine: (line: string) => void): Promise<TaskRun> {
  const t0 = Date.now();
  const file = name === 'pi-setup' ? 'pi-setup' : name;
  const { phase } = (await import(`../../tasks/lib/phases/${file}.ts`)) as { phase: Phase };
  const e = env();
  if (e.FRIDGE_SSH_PASSWORD) process.env.FRIDGE_SSH_PASSWORD = e.FRIDGE_SSH_PASSWORD;
  const loaded = await loadInventory(SIM_PATHS.inventory);
  if (!loaded.ok) throw new Error(`sim inventory invalid: ${loaded.problems.map((p) => p.message).join('; ')}`);
  let output = '';
  const write = (line: string) => {
    output += `${line}\n`;
    onLine(line);
  };
  const reporter = new ConsoleReporter({ diff: false, color: false, write });
  const flags = Object.fromEntries(args.filter((a) => a.startsWith('--')).map((a) => [a.slice(2), true]));
  const check = flags.check === true;
  const session: Session = { inventory: loaded.inventory, hosts: loaded.inventory.hosts, options: { check, diff: false, forks: 50 }, reporter, pool: new TransportPool(), args: flags, outputs: new Outputs() };
  const run = new Run(phase.name, session);
  reporter.emit({ kind: 'phase-start', phase: phase.name, check, hosts: session.hosts.map((h) => h.name) });
  try {
    await phase.run(run);
  } finally {
    await session.pool.closeAll();
  }
  const summary = run.summary();
  reporter.emit({ kind: 'phase-end', summary });
  await reporter.finish();
  return { code: exitCodeFor(summary.recap), output, ms: Date.now() - t0, phaseMs: summary.durationMs };
}

export function runTask(name: 'pi-setup' | 'swarm' | 'reset', args: string[] = [], onLine: (line: string) => void = () => undefined): Promise<TaskRun> {
  return TASKS[name] ? spawnTask(name, args, onLine) : inProcess(name, args, onLine);
}
