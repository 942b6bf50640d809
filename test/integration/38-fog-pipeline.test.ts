// The fog pipeline on the virtual fridge, as the README's demo leaves it: simulated sensors publish to Mosquitto,
// the example job reads them over MQTT, publishes its window results back to the broker and is scraped by
// Prometheus, and `status` shows readings/s in, results/s out and the last window's end-to-end latency.
// Runs `deploy` on the shared virtual fridge (the swarm 30-* formed); 40-deploy starts again from fresh nodes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { flinkUrls } from '../../tasks/lib/deploy/endpoints.ts';
import { readingsCheck, type ReadingsCheck } from '../../tasks/lib/flink/example-job.ts';
import { FlinkRest, type JobSummary } from '../../tasks/lib/flink/rest.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { PIPELINE_STATS_TOPIC, RESULTS_TOPIC_FILTER } from '../../tasks/lib/stack/monitoring.ts';
import { shq } from '../../tasks/lib/transport/types.ts';
import { explain, runTask } from '../support/run-task.ts';
import { onLeader as leaderCommand, until as poll } from '../support/sim-leader.ts';

const SERVICES = { mosquitto: true, prometheus: true, grafana: false, visualizer: false, sensors: { count: 4, rate: 2 } };
const figures: Record<string, string> = {};
let inv: Inventory | undefined;
let why = '';
/** `-i FILE` when the sim's own inventory does not switch the pipeline on; empty when it does (the demo as is). */
let invArgs: string[] = [];
let scratch = '';
let rest: FlinkRest;

const onLeader = (command: string, timeoutMs = 120_000) => leaderCommand(command, timeoutMs);
const until = <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> => poll(what, ms, probe, 2000);

/** A command run inside the stack's Mosquitto container (on the leader: its placement pins it there). */
function inMosquitto(stack: string, command: string, timeoutMs = 120_000) {
  return onLeader(`c=$(docker ps -q --filter label=com.docker.swarm.service.name=${stack}_mosquitto | head -n1); [ -n "$c" ] && docker exec "$c" ${command}`, timeoutMs);
}

async function runningJob(): Promise<JobSummary | undefined> {
  const jobs = await rest.jobs();
  return jobs.ok ? jobs.value.find((j) => j.state === 'RUNNING' && j.name.startsWith('sensor-window')) : undefined;
}

async function check(jobId: string): Promise<ReadingsCheck | undefined> {
  const r = await readingsCheck(rest, jobId);
  return r.ok ? r.value : undefined;
}

beforeAll(async () => {
  const loaded = await loadInventory(SIM_PATHS.inventory);
  if (!loaded.ok) {
    why = 'no virtual fridge inventory (run the virtual fridge tests first)';
    return;
  }
  const swarm = await onLeader("docker node ls --format '{{.Hostname}}'");
  if (swarm.code !== 0) {
    why = `the virtual fridge has no swarm: ${swarm.stderr.trim().split('\n').pop() ?? ''}`;
    return;
  }
  const s = loaded.inventory.cluster.services;
  if (s.mosquitto && s.prometheus && s.sensors) {
    inv = loaded.inventory;
  } else {
    // The same fridge with the pipeline switched on: the sim's inventory, with fridge_services changed only.
    scratch = mkdtempSync(path.join(tmpdir(), 'fog-pipeline-'));
    const doc = parse(readFileSync(SIM_PATHS.inventory, 'utf8')) as { all: { vars: Record<string, unknown> } };
    doc.all.vars['fridge_services'] = SERVICES;
    const file = path.join(scratch, 'inventory.yaml');
    writeFileSync(file, stringify(doc));
    const again = await loadInventory(file);
    if (!again.ok) throw new Error('the derived inventory does not load');
    inv = again.inventory;
    invArgs = ['-i', file];
  }
  rest = new FlinkRest({ baseUrl: flinkUrls(inv), timeoutMs: 5_000 });
}, 60_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  console.log(`fog pipeline figures: ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
});

describe('the fog pipeline on the virtual fridge', () => {
  it('deploy ends with the example job RUNNING on MQTT readings', { timeout: 1_800_000 }, async (ctx) => {
    if (!inv) return ctx.skip(why);
    const r = await runTask('deploy', invArgs);
    figures['deploy'] = `${(r.ms / 1000).toFixed(1)} s`;
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toMatch(/job: sensor-window@\w+ \(RUNNING\)/);
    const job = await until('the example job', 60_000, runningJob);
    const details = await rest.job(job.jid);
    expect(details.ok && details.value.vertices.map((v) => v.name).join(' | ')).toMatch(/mqtt-readings/);
  });

  it('the job consumes the sensors: its counts grow, with nothing lost or counted twice', { timeout: 300_000 }, async (ctx) => {
    if (!inv) return ctx.skip(why);
    const job = await until('the example job', 60_000, runningJob);
    const first = await until('readings counted', 120_000, async () => {
      const c = await check(job.jid);
      return c && c.total > 0 ? c : undefined;
    });
    // The REST handler caches metrics for 10 s: wait past that for a second look.
    const later = await until('the count to grow', 120_000, async () => {
      const c = await check(job.jid);
      return c && c.total > first.total ? c : undefined;
    });
    figures['readings counted'] = `${first.total} → ${later.total}`;
    expect(later.gaps).toBe(0);
    expect(later.duplicates).toBe(0);
  });

  it('window results arrive on the output topic', { timeout: 180_000 }, async (ctx) => {
    if (!inv) return ctx.skip(why);
    const stack = inv.cluster.stackName;
    // Windows are 10 s: three results (one per sensor and window) come within two windows.
    const sub = await inMosquitto(stack, `mosquitto_sub -h localhost -t ${shq(RESULTS_TOPIC_FILTER)} -v -C 3 -W 40`, 60_000);
    expect(sub.code, sub.stderr).toBe(0);
    const lines = sub.stdout.trim().split('\n');
    expect(lines.length).toBe(3);
    for (const line of lines) {
      const [topic = '', ...rest] = line.split(' ');
      const result = JSON.parse(rest.join(' ')) as Record<string, unknown>;
      expect(topic).toMatch(/^sensors\/sensor-\d+\/results$/);
      expect(result).toMatchObject({ sensor: topic.split('/')[1] });
      expect(result['count']).toBeGreaterThan(0);
      expect(result['windowEnd']).toBeGreaterThan(result['windowStart'] as number);
      expect(result['publishedAt']).toBeGreaterThanOrEqual(result['newestTs'] as number);
    }
    // The simulator's measurement of the newest window, retained for `status`.
    const stats = await inMosquitto(stack, `mosquitto_sub -h localhost -t ${shq(PIPELINE_STATS_TOPIC)} -C 1 -W 10`, 30_000);
    expect(stats.code, stats.stderr).toBe(0);
    const latency = (JSON.parse(stats.stdout) as { latencyMs: number }).latencyMs;
    figures['end-to-end latency (simulator)'] = `${latency} ms`;
    expect(latency).toBeGreaterThanOrEqual(0);
  });

  it('Prometheus has the job’s series', { timeout: 300_000 }, async (ctx) => {
    if (!inv) return ctx.skip(why);
    const leader = inv.hosts.find((h) => h.role === 'manager')?.address ?? '';
    type Query = { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    const query = async (q: string) => {
      const r = await fetch(`http://${leader}:9090/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(10_000) });
      return r.ok ? ((await r.json()) as Query).data.result : [];
    };
    // Scraped from the taskmanagers' reporters, which make label values safe: sensor-window@… is sensor_window_….
    const positive = async (q: string) => {
      const r = await query(q);
      return r.some((s) => s.metric['job_name']?.startsWith('sensor_window') && Number(s.value[1]) > 0) ? r : undefined;
    };
    // The running count's gauge, what the MQTT source hands on, and the window results the MQTT sink takes.
    await until('readingsTotal in Prometheus', 180_000, () => positive('flink_taskmanager_job_task_operator_readingsTotal'));
    await until('the MQTT source in Prometheus', 120_000, () => positive('flink_taskmanager_job_task_operator_numRecordsOut{operator_name=~"Source:.mqtt.readings"}'));
    const results = await until('the MQTT results in Prometheus', 120_000, () => positive('flink_taskmanager_job_task_operator_numRecordsIn{operator_name=~"mqtt.results.*"}'));
    figures['results in Prometheus'] = results.map((s) => s.value[1]).join(', ');
  });

  it('status shows readings/s in, results/s out and the last window’s end-to-end latency', { timeout: 180_000 }, async (ctx) => {
    if (!inv) return ctx.skip(why);
    const r = await runTask('status', invArgs);
    expect(r.code, explain(r)).toBe(0);
    const figuresLine = /(\d+(?:\.\d+)?) readings\/s in, (\d+(?:\.\d+)?) results\/s out/.exec(r.stdout);
    expect(figuresLine, r.stdout).not.toBeNull();
    const latency = /end-to-end latency of the last window: (\d+) ms/.exec(r.stdout);
    expect(latency, r.stdout).not.toBeNull();
    figures['status'] = `${figuresLine?.[1]} readings/s in, ${figuresLine?.[2]} results/s out, ${latency?.[1]} ms`;
    expect(Number(figuresLine?.[1])).toBeGreaterThan(0);
  });
});
