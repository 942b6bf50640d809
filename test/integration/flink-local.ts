// Runs a real JobManager/TaskManager pair from an unpacked distribution on loopback, for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Overview {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  'jobs-running': number;
  'flink-version': string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface LocalFlink {
  restPort: number;
  logDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `bin/jobmanager.sh start-foreground` and `bin/taskmanager.sh start-foreground` bound to 127.0.0.1. */
export async function startLocalFlink(flinkHome: string, opts: { confDir?: string; extra?: Record<string, string> } = {}): Promise<LocalFlink> {
  const [restPort, rpcPort, blobPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const logDir = await mkdtemp(path.join(tmpdir(), 'fridge-image-flinklog-'));
  const props: Record<string, string> = {
    'jobmanager.rpc.address': '127.0.0.1',
    'jobmanager.bind-host': '127.0.0.1',
    'jobmanager.rpc.port': String(rpcPort),
    'rest.address': '127.0.0.1',
    'rest.bind-address': '127.0.0.1',
    'rest.port': String(restPort),
    'blob.server.port': String(blobPort),
    'taskmanager.bind-host': '127.0.0.1',
    'taskmanager.host': '127.0.0.1',
    ...(opts.extra ?? {}),
  };
  const dyn = Object.entries(props).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const env = { ...process.env, FLINK_LOG_DIR: logDir, ...(opts.confDir ? { FLINK_CONF_DIR: opts.confDir } : {}) };
  let out = '';
  const procs: ChildProcess[] = [];
  const launch = (script: string): void => {
    const p = spawn(path.join(flinkHome, 'bin', script), ['start-foreground', ...dyn], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    procs.push(p);
  };
  launch('jobmanager.sh');
  launch('taskmanager.sh');
  return {
    restPort,
    logDir,
    output: () => out,
    stop: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.pid === undefined) return resolve();
              p.once('exit', () => resolve());
              try {
                process.kill(-p.pid, 'SIGTERM');
              } catch {
                resolve();
              }
              setTimeout(() => {
                try {
                  if (p.pid !== undefined) process.kill(-p.pid, 'SIGKILL');
                } catch {
                  /* already gone */
                }
              }, 10_000).unref();
            }),
        ),
      );
    },
  };
}

/** Polls /overview until `accept` is satisfied (503 and refused connections are expected while starting). */
export async function waitForOverview(baseUrl: string, accept: (o: Overview) => boolean, timeoutMs = 90_000): Promise<Overview> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/overview`, { signal: AbortSignal.timeout(3000) });
      if (res.ok) {
        const o = (await res.json()) as Overview;
        if (accept(o)) return o;
        last = JSON.stringify(o);
      } else last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${baseUrl}/overview did not become ready within ${timeoutMs} ms; last: ${last}`);
}
