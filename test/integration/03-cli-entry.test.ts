// The real entry (`zx tasks/<name>.mjs`, as an operator runs it) for what in-process tests cannot show:
// the exit code the process ends with, stdout holding one JSON document, and Ctrl-C on a process group.
// No virtual fridge: the only host is a TCP listener on loopback that accepts and never answers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ZX = path.join(ROOT, 'node_modules', 'zx', 'build', 'cli.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-cli-entry-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a task in its own process group (as a shell does), so a Ctrl-C can be sent to all of it. */
function start(task: string, args: string[]): { done: Promise<Ended>; interrupt: () => void } {
  const child = spawn(process.execPath, [ZX, `tasks/${task}.mjs`, ...args], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, FRIDGE_INVENTORY: '', NO_COLOR: '1', GITHUB_ACTIONS: '', FRIDGE_STATE_DIR: path.join(dir, 'state'), FRIDGE_SSH_PASSWORD: 'not-used-1234' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Ended>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { done, interrupt: () => child.pid !== undefined && process.kill(-child.pid, 'SIGINT') };
}

describe('tasks run as an operator runs them', () => {
  it('a bad option exits 5 before the inventory is read', async () => {
    const r = await start('scale', ['-i', path.join(dir, 'never-read.yaml'), '--replicas', 'abc']).done;
    expect(r.stderr).toContain("--replicas must be an integer from 1 to 1000, got 'abc'");
    expect(r.code).toBe(5);
  });

  it('--json prints one JSON document for an inventory error, and no stack trace', async () => {
    const bomb = path.join(dir, 'bomb.yaml');
    fs.writeFileSync(bomb, ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'all: {hosts: {h: {x: *c}}}', ''].join('\n'));
    const r = await start('ping', ['--json', '-i', bomb]).done;
    const doc = JSON.parse(r.stdout) as { exitCode: number; errors: Array<{ kind: string; file?: string }> };
    expect(doc.exitCode).toBe(4);
    expect(doc.errors[0]).toMatchObject({ kind: 'inventory', file: bomb });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(4);
  });

  it('Ctrl-C while connecting ends with exit 99, connections closed, saying nothing was changed', async () => {
    const sockets: net.Socket[] = [];
    let connected: () => void = () => undefined;
    const reached = new Promise<void>((r) => (connected = r));
    // Accepts and stays silent: the SSH handshake waits until the interruption.
    const server = net.createServer((s) => {
      s.resume();
      sockets.push(s);
      connected();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const inv = path.join(dir, 'silent.yaml');
    fs.writeFileSync(
      inv,
      ['all:', '  vars: {fridge_image: example/flink-fridge, fridge_model: 3B}', '  children:', '    managers:', `      hosts: {pi1: {ansible_host: 127.0.0.1, ansible_port: ${port}}}`, '    workers: {hosts: {}}', ''].join('\n'),
    );
    const task = start('ping', ['-i', inv]);
    const early = task.done.then((e) => Promise.reject(new Error(`ended before connecting (exit ${e.code}): ${e.stderr}`)));
    await Promise.race([reached, early]);
    early.catch(() => undefined);
    const closed = new Promise<void>((r) => sockets[0]?.on('close', () => r()));
    task.interrupt();
    const r = await task.done;
    await closed;
    server.close();
    expect(r.stderr).toContain('interrupted (Ctrl-C): connections closed; no host had been changed');
    expect(r.code).toBe(99);
  });
});
