// The generated Flink configuration: version-dependent key names, rendering, and refusals that name the
// component, what it needs and what the Pi has.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { generateFlinkConfig, profileFromInventory, renderNestedYaml, type FlinkProfile } from '../../tasks/lib/flink/config.ts';
import { parseMemoryMiB } from '../../tasks/lib/flink/memory.ts';

const host = (memoryMiB: number, jobmanager: boolean, taskmanagers: number, name = 'pi1') => ({ name, model: memoryMiB === 1024 ? '3B' : '4-4GB', memoryMiB, jobmanager, taskmanagers });
const profile = (over: Partial<FlinkProfile> = {}): FlinkProfile => ({
  version: '2.3.0',
  jobmanagerHost: host(1024, true, 0, 'pi1'),
  taskmanagerHost: host(1024, false, 1, 'pi2'),
  slots: 1,
  stateDir: '/srv/flink/',
  properties: {},
  ...over,
});

function flatten(tree: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (tree === null || typeof tree !== 'object') {
    out[prefix] = tree;
    return out;
  }
  for (const [k, v] of Object.entries(tree)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

describe('generateFlinkConfig', () => {
  it('writes nested config.yaml for 2.x with the 2.x key names and the inventory properties merged last', () => {
    const r = generateFlinkConfig(profile({ slots: 2, properties: { 'rest.port': 18081, 'pipeline.name': 'a job with spaces' } }));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.fileName).toBe('config.yaml');
    const keys = flatten(parse(r.config.text));
    expect(keys['rest.port']).toBe(18081);
    expect(keys['pipeline.name']).toBe('a job with spaces');
    expect(keys['taskmanager.numberOfTaskSlots']).toBe(2);
    expect(keys['execution.checkpointing.dir']).toBe('file:///srv/flink/checkpoints');
    expect(keys['execution.checkpointing.savepoint-dir']).toBe('file:///srv/flink/savepoints');
    expect(keys['metrics.reporter.prom.factory.class']).toBe('org.apache.flink.metrics.prometheus.PrometheusReporterFactory');
    expect(keys['metrics.reporter.prom.port']).toBe(9249);
    expect(keys['state.checkpoints.dir']).toBeUndefined();
    expect(r.config.text).toMatch(/^jobmanager:\n/m);
    for (const k of ['metaspace', 'jvm-overhead.min', 'jvm-overhead.max', 'framework.heap', 'framework.off-heap', 'managed.size', 'network.min', 'network.max']) {
      expect(Object.keys(keys).some((x) => x.startsWith('taskmanager.memory.') && x.includes(k))).toBe(true);
    }
  });

  it('writes flat flink-conf.yaml with state.* keys before 1.19, and state.* keys on 1.20', () => {
    const old = generateFlinkConfig(profile({ version: '1.18.1' }));
    if (!old.ok) throw new Error('refused');
    expect(old.config.fileName).toBe('flink-conf.yaml');
    expect(old.config.text).toContain('state.checkpoints.dir: file:///srv/flink/checkpoints\n');
    const lts = generateFlinkConfig(profile({ version: '1.20.3' }));
    if (!lts.ok) throw new Error('refused');
    expect(lts.config.fileName).toBe('config.yaml');
    expect(flatten(parse(lts.config.text))['state.savepoints.dir']).toBe('file:///srv/flink/savepoints');
  });

  it('keeps env.java.home flat and a key that is also a prefix flat', () => {
    const text = renderNestedYaml({ 'env.java.home': '/opt/java', 'env.java.opts': '-Da=b', 'env.java.opts.all': '-Dc=d', 'rest.port': 1 });
    expect(text).toMatch(/^env\.java\.home: \/opt\/java$/m);
    expect(text).toMatch(/^env\.java\.opts: -Da=b$/m);
    expect(text).toMatch(/^rest:\n {2}port: 1$/m);
  });

  it('fits a JobManager and a TaskManager on one 1 GiB Pi 3B', () => {
    const both = host(1024, true, 1);
    const r = generateFlinkConfig(profile({ jobmanagerHost: both, taskmanagerHost: both }));
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.jobmanager.processMiB + r.config.taskmanager.processMiB).toBeLessThanOrEqual(1024 - 256);
    expect(r.config.jobmanager.heapMiB).toBeGreaterThanOrEqual(128);
    expect(r.config.taskmanager.taskHeapMiB).toBeGreaterThanOrEqual(64);
  });

  it('gives bigger Pis more', () => {
    const small = generateFlinkConfig(profile());
    const big = generateFlinkConfig(profile({ jobmanagerHost: host(8192, true, 0), taskmanagerHost: host(8192, false, 1, 'pi2') }));
    if (!small.ok || !big.ok) throw new Error('refused');
    expect(big.config.taskmanager.processMiB).toBeGreaterThan(4 * small.config.taskmanager.processMiB);
  });

  it('refuses a TaskManager process too small for its slots, naming component, need and the Pi', () => {
    const r = generateFlinkConfig(profile({ slots: 16 }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const p = r.problems.find((x) => x.component.startsWith('TaskManager task heap'));
    expect(p?.message).toBe(
      'pi2 (3B, 1024 MiB): TaskManager task heap for 16 slot(s) needs 512 MiB but taskmanager.memory.process.size 768 MiB after metaspace, overhead, framework, network and managed memory leaves 352 MiB',
    );
  });

  it('refuses inventory properties that do not fit the Pi', () => {
    const r = generateFlinkConfig(profile({ properties: { 'taskmanager.memory.process.size': '2g' } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.message)).toContain('pi2 (3B, 1024 MiB): 1 TaskManager(s) × 2048 MiB needs 2048 MiB but the 256 MiB kept for the OS leaves 768 MiB');
  });

  it("refuses Flink's default metaspace and overhead on a 1 GiB Pi", () => {
    const both = host(1024, true, 1);
    const r = generateFlinkConfig(profile({ jobmanagerHost: both, taskmanagerHost: both, properties: { 'jobmanager.memory.jvm-metaspace.size': '256m', 'jobmanager.memory.jvm-overhead.min': '192m', 'jobmanager.memory.jvm-overhead.max': '192m' } }));
    // With Flink's defaults metaspace and overhead alone (448 MiB) exceed the 320 MiB JobManager share.
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.message)).toEqual([
      'pi1 (3B, 1024 MiB): JobManager JVM metaspace + overhead needs 448 MiB but jobmanager.memory.process.size 320 MiB leaves 320 MiB',
      'pi1 (3B, 1024 MiB): JobManager heap needs 128 MiB but jobmanager.memory.process.size 320 MiB after metaspace, overhead and off-heap leaves -160 MiB',
    ]);
  });
});

describe('parseMemoryMiB', () => {
  it.each([
    ['1600m', 1600],
    ['1 gb', 1024],
    ['768mb', 768],
    ['33554432b', 32],
    [33554432, 32],
    ['lots', undefined],
  ] as const)('%s → %s', (input, mib) => expect(parseMemoryMiB(input)).toBe(mib));
});

describe('profileFromInventory', () => {
  it('sizes the JobManager for its host and TaskManagers for the tightest host', async () => {
    const loaded = await loadInventory('test/fixtures/inventory/virtual.yaml');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const p = profileFromInventory(loaded.inventory);
    expect(p.jobmanagerHost.name).toBe(loaded.inventory.cluster.flink.jobmanagerHost);
    expect(p.jobmanagerHost.jobmanager).toBe(true);
    expect(p.taskmanagerHost.taskmanagers).toBeGreaterThanOrEqual(1);
    const r = generateFlinkConfig(p);
    expect(r.ok).toBe(true);
  });
});
