// Integration, not unit: downloads (or reuses) the Flink distribution 10-flink-dist assembles and runs a JVM per case.
// Flink's own memory calculation (BashJavaUtils, what bin/config.sh runs before starting a JVM) must accept
// every generated profile, and the JVM limits it derives must fit the Pi model.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FLINK_VERSION, ensureFlinkDistribution, type FlinkDistribution } from '../../tasks/lib/flink/distribution.ts';
import { generateFlinkConfig, renderFlatYaml, type FlinkConfig } from '../../tasks/lib/flink/config.ts';
import { osReserveMiB, type HostShare } from '../../tasks/lib/flink/memory.ts';
import { MODEL_MEMORY_MIB, PI_MODELS, type PiModel } from '../../tasks/lib/inventory/types.ts';

const run = promisify(execFile);
const versions = (process.env.FRIDGE_FLINK_VERSIONS ?? DEFAULT_FLINK_VERSION).split(',');
const MiB = 1024 * 1024;

type Layout = 'separate' | 'shared' | 'two-taskmanagers';
interface Case {
  model: PiModel;
  layout: Layout;
  jm: HostShare;
  tm: HostShare;
}

function cases(): Case[] {
  return PI_MODELS.flatMap((model) => {
    const mem = MODEL_MEMORY_MIB[model];
    const h = (name: string, jobmanager: boolean, taskmanagers: number): HostShare => ({ name, model, memoryMiB: mem, jobmanager, taskmanagers });
    const shared = h('pi1', true, 1);
    const out: Case[] = [
      { model, layout: 'separate', jm: h('pi1', true, 0), tm: h('pi2', false, 1) },
      { model, layout: 'shared', jm: shared, tm: shared },
    ];
    if (mem >= 2048) out.push({ model, layout: 'two-taskmanagers', jm: h('pi1', true, 0), tm: h('pi2', false, 2) });
    return out;
  });
}

interface Params {
  jvm: Record<string, number>;
  dynamic: Record<string, number>;
}

/** Models with the same memory give the same file: Flink is asked once per distinct file and command. */
const asked = new Map<string, Promise<Params>>();
function bashJavaUtilsOnce(dist: FlinkDistribution, version: string, command: 'GET_TM_RESOURCE_PARAMS' | 'GET_JM_RESOURCE_PARAMS', cfg: FlinkConfig): Promise<Params> {
  const key = `${version}\0${command}\0${cfg.text}`;
  let p = asked.get(key);
  if (!p) {
    p = writeConf(cfg.text, cfg.fileName).then((dir) => bashJavaUtils(dist, version, command, dir));
    asked.set(key, p);
  }
  return p;
}

async function bashJavaUtils(dist: FlinkDistribution, version: string, command: 'GET_TM_RESOURCE_PARAMS' | 'GET_JM_RESOURCE_PARAMS', confDir: string): Promise<Params> {
  const cp = `${dist.dir}/bin/bash-java-utils.jar:${dist.dir}/lib/flink-dist-${version}.jar`;
  // Rejects (non-zero exit) when Flink refuses the configuration; the error carries Flink's message.
  const { stdout } = await run('java', ['-cp', cp, 'org.apache.flink.runtime.util.bash.BashJavaUtils', command, '--configDir', confDir], { maxBuffer: 16 * MiB });
  const results = stdout.split('\n').filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:')).map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length));
  expect(results).toHaveLength(2);
  const jvm: Record<string, number> = {};
  for (const m of (results[0] ?? '').matchAll(/-(Xmx|Xms|XX:MaxDirectMemorySize=|XX:MaxMetaspaceSize=)(\d+)/g)) jvm[(m[1] ?? '').replace(/^XX:|=$/g, '')] = Number(m[2]) / MiB;
  const dynamic: Record<string, number> = {};
  for (const m of (results[1] ?? '').matchAll(/-D ([\w.-]+)=(\d+)b/g)) dynamic[m[1] ?? ''] = Number(m[2]) / MiB;
  return { jvm, dynamic };
}

async function writeConf(text: string, fileName: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fridge-image-conf-'));
  await writeFile(path.join(dir, fileName), text);
  return dir;
}

describe.each(versions)('Flink %s accepts every generated profile', (version) => {
  let dist: FlinkDistribution;
  beforeAll(async () => {
    dist = await ensureFlinkDistribution(version);
  }, 600_000);

  const all = cases();
  it.concurrent.for(all)('$model $layout', { timeout: 120_000 }, async (c, { expect }) => {
    const r = generateFlinkConfig({ version, jobmanagerHost: c.jm, taskmanagerHost: c.tm, slots: 2, stateDir: '/srv/flink', properties: {} });
    if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
    const cfg: FlinkConfig = r.config;
    const [tm, jm] = await Promise.all([bashJavaUtilsOnce(dist, version, 'GET_TM_RESOURCE_PARAMS', cfg), bashJavaUtilsOnce(dist, version, 'GET_JM_RESOURCE_PARAMS', cfg)]);

    const t = cfg.taskmanager;
    expect(tm.jvm.Xmx).toBe(t.frameworkHeapMiB + t.taskHeapMiB);
    expect(tm.jvm.Xms).toBe(tm.jvm.Xmx);
    expect(tm.jvm.MaxMetaspaceSize).toBe(t.metaspaceMiB);
    expect(tm.dynamic['taskmanager.memory.task.heap.size']).toBe(t.taskHeapMiB);
    // Heap + direct (framework/task off-heap + network) + metaspace + overhead is the whole process.
    expect((tm.jvm.Xmx ?? 0) + (tm.jvm.MaxDirectMemorySize ?? 0) + (tm.jvm.MaxMetaspaceSize ?? 0) + t.managedMiB + t.overheadMiB).toBe(t.processMiB);

    const j = cfg.jobmanager;
    expect(jm.jvm.Xmx).toBe(j.heapMiB);
    expect(jm.jvm.MaxMetaspaceSize).toBe(j.metaspaceMiB);
    expect((jm.jvm.Xmx ?? 0) + (jm.jvm.MaxMetaspaceSize ?? 0) + j.offHeapMiB + j.overheadMiB).toBe(j.processMiB);

    // Everything placed on one Pi fits next to the OS reserve.
    const jmHostTotal = j.processMiB + (c.jm.taskmanagers * t.processMiB);
    expect(jmHostTotal).toBeLessThanOrEqual(c.jm.memoryMiB - osReserveMiB(c.jm.memoryMiB));
    expect(c.tm.taskmanagers * t.processMiB + (c.tm.jobmanager ? j.processMiB : 0)).toBeLessThanOrEqual(c.tm.memoryMiB - osReserveMiB(c.tm.memoryMiB));
  });

  it('reads the same values from the flat form the image entrypoint writes', async () => {
    const shared: HostShare = { name: 'pi1', model: '3B', memoryMiB: 1024, jobmanager: true, taskmanagers: 1 };
    const r = generateFlinkConfig({ version, jobmanagerHost: shared, taskmanagerHost: shared, slots: 2, stateDir: '/srv/flink', properties: {} });
    if (!r.ok) throw new Error('refused');
    const nested = await writeConf(r.config.text, r.config.fileName);
    const flat = await writeConf(renderFlatYaml(r.config.properties), r.config.fileName);
    for (const cmd of ['GET_TM_RESOURCE_PARAMS', 'GET_JM_RESOURCE_PARAMS'] as const) {
      expect(await bashJavaUtils(dist, version, cmd, flat)).toEqual(await bashJavaUtils(dist, version, cmd, nested));
    }
  }, 60_000);

  it("Flink itself refuses its defaults squeezed into a Pi's share (what our check catches first)", async () => {
    const conf = await writeConf('taskmanager:\n  memory:\n    process:\n      size: 448m\n', 'config.yaml');
    await expect(bashJavaUtils(dist, version, 'GET_TM_RESOURCE_PARAMS', conf)).rejects.toThrow(/exceed|Sum of configured/);
  }, 60_000);
});
