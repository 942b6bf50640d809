// The optional services' images, built from Debian on this machine, run as plain containers on loopback
// with the configuration files the stack generator writes.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServiceImages, type ServiceBuildResult } from '../../tasks/lib/stack/build-service-images.ts';
import { generateStack } from '../../tasks/lib/stack/generate.ts';
import { builtImageRefs } from '../../tasks/lib/stack/service-images.ts';
import { seedInventory, SMALL_FLINK_CONFIG } from '../unit/stack-fixture.ts';

const PREFIX = 'fridge-stack-it';
const inv = seedInventory({ virtual: true, dnsrr: true, services: { mosquitto: true, prometheus: true, visualizer: true } });
const stack = generateStack(inv, { imageRef: 'unused', flinkConfig: SMALL_FLINK_CONFIG });

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function removeContainer(name: string): void {
  spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
}

/** Creates a container, copies a generated config over the baked one, starts it. */
function start(name: string, image: string, configFile: string, target: string, publish: string): void {
  removeContainer(name);
  docker('create', '--name', name, '--memory', '256m', '-p', publish, image);
  const dir = mkdtempSync(path.join(tmpdir(), 'stack-it-'));
  try {
    const local = path.join(dir, path.basename(target));
    writeFileSync(local, stack.files[configFile] ?? '');
    docker('cp', local, `${name}:${target}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  docker('start', name);
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

let built: ServiceBuildResult[] = [];

beforeAll(async () => {
  // First run: debootstrap + two builds (about 2 minutes); later runs reuse the cached images (< 1 s).
  built = await buildServiceImages(inv, ['mosquitto', 'prometheus', 'visualizer'], inv.cluster.registry, { push: false });
}, 600_000);

afterAll(() => {
  for (const s of ['mosquitto', 'prometheus', 'visualizer', 'visualizer-real']) removeContainer(`${PREFIX}-${s}`);
});

describe('optional service images', () => {
  it('build from Debian packages', () => {
    expect(built.map((r) => [r.service, r.status === 'built' || r.status === 'present' ? 'ok' : r.msg])).toEqual([
      ['mosquitto', 'ok'],
      ['prometheus', 'ok'],
      ['visualizer', 'ok'],
    ]);
  });

  it('mosquitto accepts a publish and delivers it to a subscriber', async () => {
    const name = `${PREFIX}-mosquitto`;
    start(name, builtImageRefs(inv, 'mosquitto').pushRef, 'fridge-configs/mosquitto.conf', '/etc/mosquitto/mosquitto.conf', '127.0.0.1::1883');
    await until('mosquitto to listen', 20_000, async () =>
      spawnSync('docker', ['exec', name, 'mosquitto_pub', '-h', '127.0.0.1', '-t', 'fridge/ping', '-m', 'x'], { stdio: 'ignore' }).status === 0 ? true : undefined,
    );
    const sub = spawn('docker', ['exec', name, 'mosquitto_sub', '-h', '127.0.0.1', '-t', 'fridge/sensors/#', '-C', '1', '-W', '15', '-v']);
    let got = '';
    sub.stdout.on('data', (d: Buffer) => (got += d.toString()));
    const done = new Promise<number | null>((r) => sub.on('close', r));
    // Publish until the subscriber (connected asynchronously) has seen one message.
    await until('the subscriber to receive', 15_000, async () => {
      docker('exec', name, 'mosquitto_pub', '-h', '127.0.0.1', '-t', 'fridge/sensors/temp', '-m', '21.5');
      return got ? true : undefined;
    });
    expect(await done).toBe(0);
    expect(got.trim()).toBe('fridge/sensors/temp 21.5');
    // Listening on every address, as sensors on the LAN need: reachable through the published port.
    const hostPort = docker('port', name, '1883/tcp').split('\n')[0] ?? '';
    expect(hostPort).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('prometheus accepts the generated configuration and answers /-/ready', async () => {
    const name = `${PREFIX}-prometheus`;
    const image = builtImageRefs(inv, 'prometheus').pushRef;
    start(name, image, 'fridge-configs/prometheus.yml', '/etc/prometheus/prometheus.yml', '127.0.0.1::9090');
    const check = spawnSync('docker', ['exec', name, 'promtool', 'check', 'config', '/etc/prometheus/prometheus.yml'], { encoding: 'utf8' });
    expect(check.status, check.stderr + check.stdout).toBe(0);
    const hostPort = docker('port', name, '9090/tcp').split('\n')[0] ?? '';
    const ready = await until('prometheus /-/ready', 30_000, async () => {
      const r = await fetch(`http://${hostPort}/-/ready`);
      return r.ok ? await r.text() : undefined;
    });
    expect(ready).toMatch(/Ready/);
    // The generated file is the one loaded: its DNS discovery of every Flink task is in the running config.
    const cfg = (await (await fetch(`http://${hostPort}/api/v1/status/config`)).json()) as { data: { yaml: string } };
    expect(cfg.data.yaml).toContain('tasks.flink_taskmanager');
    expect(cfg.data.yaml).toContain('port: 9249');
  });

  it('the visualizer shows every node with its tasks, and the tasks no node can take', async () => {
    // A stand-in for a swarm manager's Engine API on a unix socket: this machine's dockerd is no manager.
    const dir = mkdtempSync(path.join(tmpdir(), 'stack-viz-'));
    const sock = path.join(dir, 'docker.sock');
    const methods: string[] = [];
    const node = (id: string, hostname: string, role: string) => ({
      ID: id,
      Spec: { Role: role, Availability: 'active' },
      Description: { Hostname: hostname, Platform: { Architecture: 'armv7l' }, Resources: { MemoryBytes: 1024 * 1048576 } },
      Status: { State: 'ready', Addr: '10.77.0.11' },
    });
    const task = (service: string, slot: number, nodeId: string | undefined, state: string, err?: string) => ({
      ServiceID: service,
      Slot: slot,
      NodeID: nodeId,
      DesiredState: 'running',
      Spec: { ContainerSpec: { Image: '10.77.0.1:5000/fridge/flink:2.3.0@sha256:abc' } },
      Status: { State: state, Message: state, ...(err ? { Err: err } : {}) },
    });
    const answers: Record<string, unknown> = {
      '/nodes': [node('n2', 'pi2', 'worker'), node('n1', 'pi1', 'manager')],
      '/services': [
        { ID: 'jm', Spec: { Name: 'flink_jobmanager' } },
        { ID: 'tm', Spec: { Name: 'flink_taskmanager' } },
      ],
      '/tasks': [task('jm', 1, 'n1', 'running'), task('tm', 1, 'n2', 'running'), task('tm', 2, undefined, 'pending', 'no suitable node (insufficient resources on 2 nodes)')],
    };
    const api = createServer((req, res) => {
      methods.push(`${req.method} ${req.url}`);
      const body = answers[(req.url ?? '').replace(/^\/v[\d.]+/, '')];
      res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body ?? { message: 'page not found' }));
    });
    await new Promise<void>((r) => api.listen(sock, r));
    const name = `${PREFIX}-visualizer`;
    const image = builtImageRefs(inv, 'visualizer').pushRef;
    try {
      removeContainer(name);
      docker('run', '-d', '--name', name, '--memory', '64m', '-p', '127.0.0.1::8080', '-v', `${sock}:/var/run/docker.sock`, image);
      const hostPort = docker('port', name, '8080/tcp').split('\n')[0] ?? '';
      const page = await until('the visualizer page', 20_000, async () => {
        const r = await fetch(`http://${hostPort}/`);
        return r.ok ? await r.text() : undefined;
      });
      // Nodes in name order, each with its own tasks; the pending one in its own column with the scheduler's reason.
      expect(page.indexOf('<h2>pi1</h2>')).toBeLessThan(page.indexOf('<h2>pi2</h2>'));
      expect(page).toMatch(/<h2>pi1<\/h2>.*flink_jobmanager\.1<\/b> running.*<h2>pi2<\/h2>.*flink_taskmanager\.1<\/b> running/s);
      expect(page).toMatch(/not placed.*flink_taskmanager\.2<\/b> pending.*no suitable node \(insufficient resources on 2 nodes\)/s);
      const state = (await (await fetch(`http://${hostPort}/api/state`)).json()) as { nodes: Array<{ hostname: string; role: string; memoryMiB: number; tasks: unknown[] }> };
      expect(state.nodes.map((n) => [n.hostname, n.role, n.memoryMiB, n.tasks.length])).toEqual([
        ['pi1', 'manager', 1024, 1],
        ['pi2', 'worker', 1024, 1],
      ]);
      expect(methods.every((m) => m.startsWith('GET '))).toBe(true);
    } finally {
      removeContainer(name);
      api.close();
      rmSync(dir, { recursive: true, force: true });
    }

    // Against a real dockerd that is not a swarm manager, it says so instead of showing an empty swarm.
    const real = `${PREFIX}-visualizer-real`;
    removeContainer(real);
    docker('run', '-d', '--name', real, '--memory', '64m', '-p', '127.0.0.1::8080', '-v', '/var/run/docker.sock:/var/run/docker.sock', image);
    const realPort = docker('port', real, '8080/tcp').split('\n')[0] ?? '';
    const answer = await until('the visualizer on the real socket', 20_000, async () => {
      const r = await fetch(`http://${realPort}/`);
      return { status: r.status, text: await r.text() };
    });
    const swarmState = docker('info', '--format', '{{.Swarm.LocalNodeState}}');
    if (swarmState === 'inactive') {
      expect(answer.status).toBe(503);
      expect(answer.text).toMatch(/not a swarm manager/);
    }
  });

  it('pushes to a registry once, then finds the images there and skips them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stack-registry-'));
    const port = 5000 + 100 + Math.floor(Math.random() * 800);
    writeFileSync(
      path.join(dir, 'config.yml'),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\nlog:\n  level: error\n`,
    );
    const registryProc = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
    try {
      await until('the registry', 15_000, async () => ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok ? true : undefined));
      const registry = { ...inv.cluster.registry, host: `127.0.0.1:${port}`, pullHost: `127.0.0.1:${port}`, insecure: true };
      const first = await buildServiceImages(inv, ['mosquitto'], registry);
      expect(first.map((r) => [r.service, r.status, r.msg])).toEqual([['mosquitto', 'pushed', undefined]]);
      const tags = (await (await fetch(`http://127.0.0.1:${port}/v2/fridge/mosquitto/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toEqual([builtImageRefs(inv, 'mosquitto').pushRef.split(':').pop()]);
      const second = await buildServiceImages(inv, ['mosquitto', 'grafana'], registry);
      expect(second.map((r) => [r.service, r.status])).toEqual([
        ['grafana', 'skipped'],
        ['mosquitto', 'present'],
      ]);
    } finally {
      registryProc.kill();
      spawnSync('docker', ['image', 'rm', `127.0.0.1:${port}/fridge/mosquitto:${builtImageRefs(inv, 'mosquitto').pushRef.split(':').pop()}`], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
