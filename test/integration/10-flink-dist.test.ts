// The assembled distribution is a real Flink: a JobManager answers /overview and a TaskManager registers.
import { stat } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FLINK_VERSION, ensureFlinkDistribution, sha512File } from '../../tasks/lib/flink/distribution.ts';
import { startLocalFlink, waitForOverview, type LocalFlink } from './flink-local.ts';

const version = process.env.FRIDGE_FLINK_VERSION ?? DEFAULT_FLINK_VERSION;

describe(`Flink ${version} distribution assembled from PyPI`, () => {
  let flink: LocalFlink | undefined;
  afterAll(async () => flink?.stop());

  it('is cached: a second call returns the same tarball in milliseconds', async () => {
    const first = await ensureFlinkDistribution(version);
    const t0 = performance.now();
    const second = await ensureFlinkDistribution(version);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(second).toEqual(first);
    expect(await sha512File(first.tarball)).toBe(first.sha512);
    for (const d of ['bin/jobmanager.sh', 'bin/taskmanager.sh', 'bin/flink', 'bin/bash-java-utils.jar', 'conf', 'log']) {
      await expect(stat(`${first.dir}/${d}`)).resolves.toBeTruthy();
    }
    const prom = await stat(`${first.dir}/plugins/metrics-prometheus/flink-metrics-prometheus-${version}.jar`);
    expect(prom.size).toBeGreaterThan(10_000);
  }, 600_000);

  it('runs: the JobManager answers /overview with its version and a TaskManager registers', async () => {
    const dist = await ensureFlinkDistribution(version);
    flink = await startLocalFlink(dist.dir, {
      extra: { 'jobmanager.memory.process.size': '768m', 'taskmanager.memory.process.size': '1024m', 'taskmanager.numberOfTaskSlots': '2' },
    });
    const local = flink;
    const o = await waitForOverview(`http://127.0.0.1:${local.restPort}`, (x) => x.taskmanagers >= 1 && x['slots-total'] >= 2, 150_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\n--- output ---\n${local.output().slice(-4000)}`);
    });
    expect(o['flink-version']).toBe(version);
    expect(o.taskmanagers).toBe(1);
    expect(o['slots-total']).toBe(2);
  }, 240_000);
});
