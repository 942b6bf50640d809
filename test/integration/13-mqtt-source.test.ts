// The example job's MQTT source and results sink (jobs/sensor-window, package fridge.jobs.sensorwindow.mqtt):
// 1. its Maven tests with -Dfridge.mqtt-it: a real Mosquitto and Flink's MiniCluster, numbered readings published
//    with QoS 1, a failure injected mid-stream, every sensor counted exactly once (the deploy build, `mvn package`,
//    runs only the fast tests);
// 2. the shaded jar on a real Flink 2.3.0 (child-first class loading, Paho inside the jar) reading readings from a
//    local Mosquitto and publishing window results back to it.
// Needs Debian's mosquitto (broker) and mosquitto-clients (mosquitto_pub/_sub): a missing one fails, never skips.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { ensureFlinkDistribution } from '../../tasks/lib/flink/distribution.ts';
import { buildExampleJob, EXAMPLE_JOB_CLASS, EXAMPLE_JOB_DIR, MAVEN_REPO, readingsCheck } from '../../tasks/lib/flink/example-job.ts';
import { waitFor } from '../../tasks/lib/engine/wait.ts';
import { freePort, startLocalFlink, type LocalFlink } from './job-local-flink.ts';

/** A Debian binary: /usr/sbin and /usr/bin first (sbin is not on every PATH), then the PATH. */
function binary(name: string, pkg: string): string {
  const dirs = ['/usr/sbin', '/usr/bin', ...(process.env.PATH ?? '').split(path.delimiter)];
  const found = dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not installed: the MQTT source tests need Debian's ${pkg} package (apt-get install ${pkg}; tasks/lib/host/prepare-host.sh installs it)`);
  return found;
}

interface Broker {
  url: string;
  port: number;
  log: () => string;
  stop: () => Promise<void>;
}

/** Mosquitto on a free loopback port, configured as the source needs (no in-flight or queue limits). */
async function startMosquitto(dir: string): Promise<Broker> {
  const bin = binary('mosquitto', 'mosquitto');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_inflight_messages 0', 'max_queued_messages 0', 'log_dest stdout', ''].join('\n'));
  let out = '';
  const p = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const up = await waitFor(
    () =>
      new Promise<{ done: true; result: true } | { done: false; last: string }>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve({ done: true, result: true });
        });
        s.on('error', (e) => resolve({ done: false, last: e.message }));
      }),
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  if (up !== true) {
    p.kill('SIGKILL');
    throw new Error(`mosquitto did not listen on 127.0.0.1:${port}: ${up.message}\n${out}`);
  }
  return { url: `tcp://127.0.0.1:${port}`, port, log: () => out, stop: () => stopChild(p) };
}

async function stopChild(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 5_000).unref();
  });
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('the example job reads MQTT exactly once', () => {
  it('passes its MiniCluster + Mosquitto tests (mvn test -Dfridge.mqtt-it)', async () => {
    binary('mosquitto', 'mosquitto');
    const mvn = $({ cwd: EXAMPLE_JOB_DIR, quiet: true, nothrow: true });
    const repo = `-Dmaven.repo.local=${MAVEN_REPO}`;
    const t0 = performance.now();
    // Offline first, as buildExampleJob: after the first download everything is in MAVEN_REPO.
    let r = await mvn`mvn -q -B -o ${repo} -Dfridge.mqtt-it test`;
    if (r.exitCode !== 0 && /offline|Could not resolve|Cannot access/i.test(r.stdout + r.stderr)) r = await mvn`mvn -q -B ${repo} -Dfridge.mqtt-it test`;
    const seconds = Math.round((performance.now() - t0) / 1000);
    expect(r.exitCode, `mvn test -Dfridge.mqtt-it failed after ${seconds} s:\n${(r.stdout + r.stderr).slice(-6000)}`).toBe(0);
  }, 900_000);

  it('runs from the shaded jar on a real Flink 2.3.0, reading MQTT and publishing window results to it', async () => {
    const pub = binary('mosquitto_pub', 'mosquitto-clients');
    const sub = binary('mosquitto_sub', 'mosquitto-clients');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fridge-mqtt-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const broker = await startMosquitto(dir);
    cleanups.push(broker.stop);
    const [dist, jar] = await Promise.all([ensureFlinkDistribution('2.3.0'), buildExampleJob()]);
    const flink: LocalFlink = await startLocalFlink(dist.dir);
    cleanups.push(flink.stop);
    const mqtt = ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1'];

    // The results, one JSON line per sensor and window.
    let results = '';
    const subscriber = spawn(sub, [...mqtt, '-t', 'fridge-it/results/+'], { stdio: ['ignore', 'pipe', 'pipe'] });
    subscriber.stdout.on('data', (d: Buffer) => (results += d.toString()));
    cleanups.push(() => stopChild(subscriber));

    const uploaded = await flink.rest.uploadJar(jar);
    if (!uploaded.ok) throw new Error(`upload: ${uploaded.message}`);
    const args = ['--mqtt-url', broker.url, '--mqtt-topic', 'fridge-it/+/readings', '--mqtt-results-topic', 'fridge-it/results/{sensor}', '--window-seconds', '2', '--checkpoint-seconds', '1'];
    const run = await flink.rest.runJar(uploaded.value, { entryClass: EXAMPLE_JOB_CLASS, programArgsList: args });
    if (!run.ok) throw new Error(`run: ${run.message}\n${(await flink.logs()).slice(-4000)}`);
    const jobId = run.value;
    cleanups.push(() => flink.rest.cancel(jobId));

    // Two sensors, 10 readings/s each, numbered from 0, published with QoS 1 (one mosquitto_pub -l per sensor).
    const publishers = ['sensor-a', 'sensor-b'].map((sensor) => {
      const p = spawn(pub, [...mqtt, '-t', `fridge-it/${sensor}/readings`, '-l'], { stdio: ['pipe', 'ignore', 'pipe'] });
      cleanups.push(() => stopChild(p));
      let seq = 0;
      const timer = setInterval(() => p.stdin.write(`${JSON.stringify({ sensor, seq: seq++, value: 20 + (seq % 5), ts: Date.now() })}\n`), 100);
      cleanups.push(async () => clearInterval(timer));
      return timer;
    });

    type Result = { sensor: string; windowEnd: number; count: number; mean: number; runningCount: number; newestTs: number; publishedAt: number };
    const parsed = (): Result[] =>
      results
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Result);
    const seen = await waitFor(
      async () => {
        const rs = parsed();
        const sensors = new Set(rs.filter((x) => x.runningCount >= 20).map((x) => x.sensor));
        return sensors.size === 2 ? { done: true as const, result: rs } : { done: false as const, last: `${rs.length} results: ${results.slice(-500)}` };
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    for (const t of publishers) clearInterval(t);
    if (!Array.isArray(seen)) throw new Error(`no window results for both sensors: ${seen.message}\n--- flink ---\n${(await flink.logs()).slice(-4000)}\n--- mosquitto ---\n${broker.log().slice(-2000)}`);
    for (const x of seen) {
      expect(x.count).toBeGreaterThan(0);
      expect(x.mean).toBeGreaterThanOrEqual(20);
      expect(x.windowEnd).toBeGreaterThan(0);
      // Latency of a result: publishedAt - newestTs (same clock here), well under a window and a bit.
      expect(x.publishedAt - x.newestTs).toBeGreaterThanOrEqual(0);
      expect(x.publishedAt - x.newestTs).toBeLessThan(10_000);
    }
    // Nothing lost or counted twice on the way (the job's per-sensor sequence check; metrics lag ~1 s).
    const check = await waitFor(
      async () => {
        const c = await readingsCheck(flink.rest, jobId);
        return c.ok && c.value && c.value.total >= 40 ? { done: true as const, result: c.value } : { done: false as const, last: c.ok ? JSON.stringify(c.value) : c.message };
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    if (!('total' in check)) throw new Error(`sequence check: ${check.message}`);
    expect(check).toMatchObject({ gaps: 0, duplicates: 0 });
  }, 600_000);
});
