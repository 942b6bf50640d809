// Local transport: runs on this machine (ansible_connection: local, image builds, the virtual fridge's host side).
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExecOptions, ExecResult, PutOptions, Transport } from './types.ts';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function execLocal(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = opts.sudo && !isRoot ? ['sudo', '-n', 'sh', '-c', command] : ['sh', '-c', command];
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        child.kill('SIGTERM');
        err.push(Buffer.from(`timed out after ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
    }
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => err.push(Buffer.from(e.message)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGTERM' && opts.timeoutMs ? 124 : 128), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

export class LocalTransport implements Transport {
  constructor(readonly host = 'localhost') {}

  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    return execLocal(command, opts);
  }

  async put(remotePath: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    await fs.mkdir(path.dirname(remotePath), { recursive: true });
    const tmp = `${remotePath}.fridge-tmp`;
    await fs.writeFile(tmp, content, { mode: opts.mode ?? 0o644 });
    await fs.chmod(tmp, opts.mode ?? 0o644);
    await fs.rename(tmp, remotePath);
  }

  async putFile(localPath: string, remotePath: string, opts: PutOptions = {}): Promise<void> {
    await this.put(remotePath, await fs.readFile(localPath), opts);
  }

  async get(remotePath: string): Promise<string | undefined> {
    try {
      return await fs.readFile(remotePath, 'utf8');
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {}
}

export function localTransport(name = 'localhost'): Transport {
  return new LocalTransport(name);
}
