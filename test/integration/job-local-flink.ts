// A real Flink session cluster on loopback for the job tests: one jobmanager and one taskmanager started with
// start-foreground as child processes, a private conf dir and free ports, so it never collides with another
// Flink on this machine. stop() kills both process groups, also after a failed test.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { FlinkRest } from '../../tasks/lib/flink/rest.ts';
import { waitFor } from '../../tasks/lib/engine/wait.ts';

export interface LocalFlink {
  rest: FlinkRest;
  restUrl: string;
  /** Scratch directory of this cluster (conf, logs, savepoints). */
  dir: string;
  flinkHome: string;
  /** FLINK_CONF_DIR for bin/flink to reach this cluster. */
  confDir: string;
  /** The foreground processes' console output (log4j-console + stdout of print sinks). */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startLocalFlink(flinkHome: string, opts: { slots?: number } = {}): Promise<LocalFlink> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fridge-job-flink-'));
  const confDir = path.join(dir, 'conf');
  const logDir = path.join(dir, 'log');
  await mkdir(confDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  for (const f of ['log4j-console.properties', 'log4j.properties', 'logback-console.xml']) {
    await copyFile(path.join(flinkHome, 'conf', f), path.join(confDir, f)).catch(() => undefined);
  }
  const [restPort, rpcPort] = [await freePort(), await freePort()];
  // Keep the distribution's env.java.opts (the --add-opens Flink 2.x needs on Java 17), replace the rest.
  const base = parse(await readFile(path.join(flinkHome, 'conf', 'config.yaml'), 'utf8')) as { env?: unknown };
  const config = {
    env: base.env ?? {},
    jobmanager: {
      'bind-host': '127.0.0.1',
      rpc: { address: '127.0.0.1', port: rpcPort },
      memory: { process: { size: '800m' } },
    },
    taskmanager: {
      'bind-host': '127.0.0.1',
      host: '127.0.0.1',
      numberOfTaskSlots: opts.slots ?? 2,
      memory: { process: { size: '1024m' } },
    },
    rest: { address: '127.0.0.1', 'bind-address': '127.0.0.1', port: restPort },
    blob: { server: { port: '0' } },
    parallelism: { default: 1 },
    // Metrics are fetched by the REST handler at most this often; the default 10 s makes tests slow.
    metrics: { fetcher: { 'update-interval': 1000 } },
  };
  await writeFile(path.join(confDir, 'config.yaml'), stringify(config));

  const env = { ...process.env, FLINK_CONF_DIR: confDir, FLINK_LOG_DIR: logDir };
  const consoleLog = path.join(dir, 'console.log');
  const out = createWriteStream(consoleLog);
  out.on('error', () => undefined); // a lost log line must not fail a test
  const children: ChildProcess[] = [];
  const launch = (script: string): void => {
    // detached: own process group, so stop() can kill the JVM the script execs, not only the shell.
    const child = spawn(path.join(flinkHome, 'bin', script), ['start-foreground'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    children.push(child);
  };
  launch('jobmanager.sh');
  launch('taskmanager.sh');

  const restUrl = `http://127.0.0.1:${restPort}`;
  const rest = new FlinkRest({ baseUrl: restUrl, timeoutMs: 5_000 });
  const killAll = (): void => {
    for (const c of children) {
      if (c.pid !== undefined && c.exitCode === null) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  // Even when the test process ends without afterAll (a crash, process.exit), the JVMs must not outlive it.
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    killAll();
    process.off('exit', killAll);
    // The dying JVMs may still flush output: detach them before closing the file (no write-after-end).
    for (const c of children) {
      c.stdout?.unpipe(out);
      c.stderr?.unpipe(out);
    }
    out.end();
  };
  const ready = await waitFor(
    async () => {
      const r = await rest.ready(1);
      return r.ok ? { done: true, result: r } : { done: false, last: r.message };
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  if (!ready.ok) {
    const tail = (await readFile(consoleLog, 'utf8').catch(() => '')).slice(-3000);
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`local Flink did not become ready: ${ready.message}\n${tail}`);
  }
  return {
    rest,
    restUrl,
    dir,
    flinkHome,
    confDir,
    logs: () => readFile(consoleLog, 'utf8').catch(() => ''),
    stop: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
