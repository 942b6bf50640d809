// The image build end to end: per-platform images on the local JRE base, smoke-tested, pushed as one
// manifest list to a loopback registry; a second build with nothing changed is ok, not changed.
// FRIDGE_IMAGE_TEST_PLATFORMS picks the platforms (default: the three the Fridge's Pis and the workflow use).
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFlinkConfig } from '../../tasks/lib/flink/config.ts';
import type { ImageBuildOptions, ImageBuildResult } from '../../tasks/lib/image/build.ts';
import { buildInRun } from './image-run.ts';
import { waitForOverview } from './flink-local.ts';
import { startRegistry, type TestRegistry } from './image-registry.ts';

const run = promisify(execFile);
const platforms = (process.env.FRIDGE_IMAGE_TEST_PLATFORMS ?? 'linux/amd64,linux/arm/v7,linux/arm64').split(',');
const VERSION = '2.3.0';

/** A repository with one fixed commit: the image tag (git short sha) is the same at every test run. */
async function fixedRepo(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fridge-image-git-'));
  const env = { ...process.env, GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z', GIT_AUTHOR_NAME: 'fridge', GIT_AUTHOR_EMAIL: 'fridge@localhost', GIT_COMMITTER_NAME: 'fridge', GIT_COMMITTER_EMAIL: 'fridge@localhost' };
  await writeFile(path.join(dir, 'README'), 'image test\n');
  await run('git', ['init', '-q', dir], { env });
  await run('git', ['-C', dir, 'add', 'README'], { env });
  await run('git', ['-C', dir, 'commit', '-q', '-m', 'fixed'], { env });
  return dir;
}

/** The arguments of the JVM in a container that runs this main class (read from /proc: the image has no ps). */
async function flinkJvmArgs(container: string, mainClass: string): Promise<string[] | undefined> {
  const { stdout } = await run('docker', ['exec', container, 'bash', '-c', 'for p in /proc/[0-9]*; do tr "\\0" "\\n" < $p/cmdline 2>/dev/null; echo "--end--"; done']).catch(() => ({ stdout: '' }));
  return stdout.split('--end--\n').find((c) => c.includes(`.${mainClass}\n`))?.trimEnd().split('\n');
}

describe(`Flink image for ${platforms.join(', ')}`, () => {
  let registry: TestRegistry;
  let opts: ImageBuildOptions;
  let first: ImageBuildResult;
  const lines: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    opts = {
      version: VERSION,
      platforms,
      registry: { host: registry.host, repository: 'fridge-image-test/flink', insecure: true, usernameEnv: undefined, passwordEnv: undefined },
      stateDir: '/srv/flink',
      repoDir: await fixedRepo(),
      log: (l) => lines.push(l),
    };
    first = await buildInRun(opts);
  }, 3_600_000);
  afterAll(async () => registry?.stop());

  it('builds, smoke-tests and pushes one manifest list under sha, version and latest', async () => {
    expect(first.status, `${first.msg}\n${lines.join('\n')}`).not.toBe('failed');
    const repo = `${registry.host}/fridge-image-test/flink`;
    expect(first.tags).toEqual([expect.stringMatching(new RegExp(`^${repo}:[0-9a-f]{7}$`)), `${repo}:${VERSION}`, `${repo}:latest`]);
    for (const tag of first.tags) {
      const { stdout } = await run('docker', ['manifest', 'inspect', '--insecure', tag], { env: { ...process.env, DOCKER_CLI_EXPERIMENTAL: 'enabled' } });
      const list = JSON.parse(stdout) as { manifests: Array<{ platform: { os: string; architecture: string; variant?: string } }> };
      const listed = list.manifests.map((m) => [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/')).sort();
      expect(listed).toEqual([...platforms].sort());
    }
    for (const p of first.platforms) {
      expect(p.smoke?.version).toBe(VERSION);
      expect(p.compressedBytes).toBeGreaterThan(50e6);
    }
  });

  it('every platform is pullable from the registry and has the right architecture', async () => {
    for (const p of platforms) {
      const ref = `${registry.host}/fridge-image-test/flink:${VERSION}`;
      await run('docker', ['pull', '-q', '--platform', p, ref]);
      const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}', ref]);
      expect(stdout.trim()).toBe(p);
      const who = await run('docker', ['run', '--rm', '--platform', p, ref, 'id', '-u']);
      expect(who.stdout.trim()).toBe('9999');
    }
  }, 600_000);

  it('a jobmanager from the pulled image answers /overview on a loopback port, with its class-data sharing archive mapped', async () => {
    const ref = `${registry.host}/fridge-image-test/flink:latest`;
    const name = 'fridge-image-test-jm';
    await run('docker', ['rm', '-f', name]).catch(() => undefined);
    await run('docker', ['pull', '-q', '--platform', 'linux/amd64', ref]);
    // -Xshare:on: the JVM refuses to start unless it can map the archive, i.e. the archive fits this JVM and
    // the class path the launcher gives it (by default a misfit is silently ignored and only costs speed).
    await run('docker', ['run', '-d', '--name', name, '-p', '127.0.0.1::8081', '-e', 'JOB_MANAGER_RPC_ADDRESS=localhost', '-e', 'JVM_ARGS=-Xshare:on', '-e', 'FLINK_PROPERTIES=rest.flamegraph.enabled: true\nweb.submit.enable: false', ref, 'jobmanager']);
    try {
      const { stdout } = await run('docker', ['port', name, '8081/tcp']);
      const port = stdout.trim().split('\n')[0]?.split(':').pop();
      const o = await waitForOverview(`http://127.0.0.1:${port}`, () => true, 120_000);
      expect(o['flink-version']).toBe(VERSION);
      const health = await run('docker', ['exec', name, '/opt/flink/bin/fridge-healthcheck.sh']).then(() => 'healthy', () => 'unhealthy');
      expect(health).toBe('healthy');
      const conf = await run('docker', ['exec', name, 'cat', '/opt/flink/conf/config.yaml']);
      expect(conf.stdout).toContain('web.submit.enable: false');
      expect(conf.stdout).toContain('jobmanager.rpc.address: localhost');
      expect(await flinkJvmArgs(name, 'StandaloneSessionClusterEntrypoint')).toContain('-Xshare:on');
    } finally {
      await run('docker', ['rm', '-f', name]);
    }
  }, 300_000);

  it('a jobmanager and a taskmanager started as the stack starts them (generated config in FLINK_PROPERTIES) form a cluster', async () => {
    const pi = { name: 'pi1', model: '3B', memoryMiB: 1024, jobmanager: true, taskmanagers: 1 };
    const cfg = generateFlinkConfig({ version: VERSION, jobmanagerHost: pi, taskmanagerHost: pi, slots: 2, stateDir: '/tmp/flink-state', properties: { 'pipeline.name': 'fridge image test' } });
    if (!cfg.ok) throw new Error('refused');
    const ref = `${registry.host}/fridge-image-test/flink:latest`;
    const net = 'fridge-image-test-net';
    const names = ['fridge-image-test-jobmanager', 'fridge-image-test-taskmanager'];
    const cleanup = async (): Promise<void> => {
      for (const n of names) await run('docker', ['rm', '-f', n]).catch(() => undefined);
      await run('docker', ['network', 'rm', net]).catch(() => undefined);
    };
    await cleanup();
    await run('docker', ['network', 'create', net]);
    try {
      const common = ['--network', net, '--platform', 'linux/amd64', '-e', 'JOB_MANAGER_RPC_ADDRESS=fridge-image-test-jobmanager', '-e', `FLINK_PROPERTIES=${cfg.config.text}`];
      await run('docker', ['run', '-d', '--name', names[0] ?? '', ...common, '-p', '127.0.0.1::8081', ref, 'jobmanager']);
      await run('docker', ['run', '-d', '--name', names[1] ?? '', ...common, ref, 'taskmanager']);
      const { stdout } = await run('docker', ['port', names[0] ?? '', '8081/tcp']);
      const port = stdout.trim().split('\n')[0]?.split(':').pop();
      const o = await waitForOverview(`http://127.0.0.1:${port}`, (x) => x.taskmanagers >= 1 && x['slots-total'] >= 2, 180_000);
      expect(o).toMatchObject({ taskmanagers: 1, 'slots-total': 2, 'flink-version': VERSION });
      const tms = (await (await fetch(`http://127.0.0.1:${port}/taskmanagers`)).json()) as { taskmanagers: Array<{ memoryConfiguration: { totalProcessMemory: number } }> };
      expect(tms.taskmanagers[0]?.memoryConfiguration.totalProcessMemory).toBe(cfg.config.taskmanager.processMiB * 1024 * 1024);
    } finally {
      await cleanup();
    }
  }, 300_000);

  const pi = { name: 'pi1', model: '3B', memoryMiB: 1024, jobmanager: true, taskmanagers: 1 };
  const mainClass = { jobmanager: 'StandaloneSessionClusterEntrypoint', taskmanager: 'TaskManagerRunner' };
  type Role = keyof typeof mainClass;
  const profile = (properties: Record<string, string>) => {
    const cfg = generateFlinkConfig({ version: VERSION, jobmanagerHost: pi, taskmanagerHost: pi, slots: 2, stateDir: '/tmp/flink-state', properties });
    if (!cfg.ok) throw new Error('refused');
    return cfg.config;
  };
  /** Starts a role as the stack does (config in FLINK_PROPERTIES); the Flink JVM's arguments and the container's log. */
  const startRole = async (role: Role, flinkProperties: string, dockerArgs: string[]): Promise<{ args: string[]; logs: string }> => {
    const name = `fridge-image-test-launch-${role}`;
    const ref = `${registry.host}/fridge-image-test/flink:latest`;
    await run('docker', ['rm', '-f', name]).catch(() => undefined);
    await run('docker', ['run', '-d', '--name', name, '--hostname', 'same-host', '--platform', 'linux/amd64', ...dockerArgs,
      '-e', 'JOB_MANAGER_RPC_ADDRESS=localhost', '-e', `FLINK_PROPERTIES=${flinkProperties}`, ref, role, '-D', 'fridge.extra=yes']);
    const logs = async () => (await run('docker', ['logs', name]).catch(() => ({ stdout: '' }))).stdout;
    try {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const found = await flinkJvmArgs(name, mainClass[role]);
        if (found) return { args: found, logs: await logs() };
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`${role} (${dockerArgs.join(' ')}): no Flink JVM after 120 s\n${await logs()}`);
    } finally {
      await run('docker', ['rm', '-f', name]).catch(() => undefined);
    }
  };

  it('the image starts each role with the same JVM command line as Flink\'s own scripts (FRIDGE_FLINK_LAUNCHER=flink), plus its class-data sharing archive', async () => {
    // What users put there: another option per role, with Flink's ${...} expansion.
    const cfg = profile({ 'env.java.opts.taskmanager': '-Dfridge.test=yes -Xloggc:${FLINK_LOG_PREFIX}.gc' });
    const cds = '-XX:SharedArchiveFile=/opt/flink/cds/flink.jsa';
    for (const role of ['jobmanager', 'taskmanager'] as const) {
      const ours = (await startRole(role, cfg.text, ['-e', 'FRIDGE_FLINK_LAUNCHER=fridge'])).args;
      // The one addition: the class-data sharing archive the image build dumped.
      expect(ours).toContain(cds);
      expect(ours.filter((a) => a !== cds)).toEqual((await startRole(role, cfg.text, ['-e', 'FRIDGE_FLINK_LAUNCHER=flink'])).args);
      expect(ours).toContain('-XX:MaxMetaspaceSize=' + cfg[role].metaspaceMiB * 1024 * 1024);
      if (role === 'jobmanager') expect(ours).toContain('-XX:TieredStopAtLevel=1');
      else expect(ours).toEqual(expect.arrayContaining(['-Dfridge.test=yes', expect.stringMatching(/^-Xloggc:\/opt\/flink\/log\/flink--taskexecutor-0-same-host\.gc$/), 'fridge.extra=yes']));
    }
  }, 300_000);

  it('keeps the memory flags in FRIDGE_LAUNCH_CACHE: the next start with the same inputs skips the helper JVM and starts the same JVM; changed memory keys ask Flink again', async () => {
    const volume = 'fridge-image-test-launch-cache';
    await run('docker', ['volume', 'rm', '-f', volume]).catch(() => undefined);
    const cache = ['-v', `${volume}:/opt/flink/launch-cache`, '-e', 'FRIDGE_LAUNCH_CACHE=/opt/flink/launch-cache'];
    const before = profile({});
    const after = profile({ 'jobmanager.memory.jvm-metaspace.size': '112m', 'taskmanager.memory.jvm-metaspace.size': '112m' });
    const fromCache = /fridge-launch: memory and CPU flags from \/opt\/flink\/launch-cache\/GET_(JM|TM)_RESOURCE_PARAMS-[0-9a-f]{32} /;
    try {
      for (const role of ['jobmanager', 'taskmanager'] as const) {
        const first = await startRole(role, before.text, cache);
        expect(first.logs).not.toMatch(fromCache);
        const second = await startRole(role, before.text, cache);
        expect(second.logs).toMatch(fromCache);
        expect(second.args).toEqual(first.args);
        const changed = await startRole(role, after.text, cache);
        expect(changed.logs).not.toMatch(fromCache);
        expect(changed.args).toContain(`-XX:MaxMetaspaceSize=${112 * 1024 * 1024}`);
      }
      // One answer per role stays: the newest.
      const { stdout } = await run('docker', ['run', '--rm', '-v', `${volume}:/cache`, '--entrypoint', 'ls', `${registry.host}/fridge-image-test/flink:latest`, '/cache']);
      expect(stdout.trim().split('\n')).toEqual([expect.stringMatching(/^GET_JM_RESOURCE_PARAMS-[0-9a-f]{32}$/), expect.stringMatching(/^GET_TM_RESOURCE_PARAMS-[0-9a-f]{32}$/)]);
    } finally {
      await run('docker', ['volume', 'rm', '-f', volume]).catch(() => undefined);
    }
  }, 300_000);

  it('a second build with nothing changed pushes nothing and reports ok', async () => {
    const second = await buildInRun(opts);
    expect(second.status, `${second.msg}\n${second.actions.join('\n')}`).toBe('ok');
    expect(second.actions).toEqual([]);
    expect(second.platforms.map((p) => p.digest)).toEqual(first.platforms.map((p) => p.digest));
    expect(second.seconds).toBeLessThan(120);
  }, 600_000);

  it('--check says what would be built and pushed without building', async () => {
    const repoImages = async (): Promise<string> => (await run('docker', ['images', '-q', '--no-trunc', `${registry.host}/fridge-image-test/flink`])).stdout;
    const before = await repoImages();
    // Another repository: in this one everything is up to date (check mode then plans nothing).
    const r = await buildInRun({ ...opts, registry: { ...opts.registry, repository: 'fridge-image-test/flink-check' } }, { check: true });
    expect(r.status).toBe('changed');
    expect(r.actions.filter((a) => a.startsWith('build '))).toHaveLength(platforms.length);
    expect(r.actions.some((a) => /^push manifest list .*:latest \[/.test(a)), r.actions.join('\n')).toBe(true);
    expect(await repoImages()).toBe(before);
  });
});
