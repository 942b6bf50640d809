// What a user sees from the command line: help, bad options, bad inventories, exit codes.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../tasks/lib/cli/options.ts';
import { TASKS } from '../../tasks/lib/cli/tasks.ts';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');

async function task(name: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('npx', ['zx', `tasks/${name}.mjs`, ...args], { cwd: ROOT, env: { ...process.env, FRIDGE_INVENTORY: '', NO_COLOR: '1', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tasks from the command line', () => {
  it.each(Object.keys(TASKS))('%s --help describes its phases and options', async (name) => {
    const r = await task(name, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: npx zx tasks/${name}.mjs`);
    expect(r.stdout).toContain('Phases:');
    expect(r.stdout).toContain('--check');
    expect(r.stdout).toContain('--limit');
  });

  it('refuses an unknown option with exit 5', async () => {
    const r = await task('ping', ['--frobnicate']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("Unknown option '--frobnicate'");
  });

  it('reports every inventory problem with file:line:col and exits 4 without a stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-cli-'));
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, ['all:', '  vars:', '    fridge_model: "3C"', '  children:', '    managers:', '      hosts:', '        a: {ansible_host: 10.0.0.300}', ''].join('\n'));
    const r = await task('ping', ['-i', file]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`${file}:3:\\d+: error: fridge_model`));
    expect(r.stderr).toMatch(new RegExp(`${file}:7:\\d+: error: ansible_host`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses a --limit that matches nothing with exit 5, naming the known groups', async () => {
    const r = await task('ping', ['-i', 'inventory/fridge.yaml', '--limit', 'nosuch']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('nosuch');
    expect(r.stderr).toContain('managers');
  });
});

describe('option parsing', () => {
  it('takes Ansible-style short and long options', () => {
    const r = parseOptions(['-i', 'x.yaml', '-C', '--diff', '-l', 'workers', '--forks', '2', '--json'], {});
    expect(r).toMatchObject({ ok: true, common: { inventory: 'x.yaml', check: true, diff: true, limit: 'workers', forks: 2, json: true } });
  });
  it('refuses a non-numeric --forks', () => {
    expect(parseOptions(['--forks', 'many'], {})).toEqual({ ok: false, error: "--forks must be a positive integer, got 'many'" });
  });
});
