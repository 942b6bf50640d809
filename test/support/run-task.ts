// Runs a task the way a user does (`npx zx tasks/<name>.mjs ...`) and returns what they would see.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { RunSummary } from '../../tasks/lib/engine/types.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface TaskRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `onLine` sees each line of standard output as it comes, for timelines. */
export function runTask(name: string, args: string[] = [], env: Record<string, string> = {}, onLine?: (line: string) => void): Promise<TaskRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npx', ['zx', `tasks/${name}.mjs`, ...args], {
      cwd: ROOT,
      env: { ...process.env, FRIDGE_INVENTORY: '', NO_COLOR: '1', GITHUB_ACTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (onLine) {
        const lines = (partial + b.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      }
      if (process.env.FRIDGE_TEST_VERBOSE) process.stdout.write(b);
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: Date.now() - started }));
  });
}

export interface JsonRun {
  phases: RunSummary[];
}

export function changedCount(run: JsonRun): number {
  return run.phases.reduce((n, p) => n + p.recap.reduce((m, h) => m + h.changed, 0), 0);
}

/** When a task fails, the assertion message carries its output. */
export function explain(r: TaskRun): string {
  return `exit ${r.code}\n--- stdout (tail)\n${r.stdout.split('\n').slice(-60).join('\n')}\n--- stderr (tail)\n${r.stderr.split('\n').slice(-30).join('\n')}`;
}
