import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateStack } from '../../tasks/lib/stack/generate.ts';
import { generateFlinkConfig, profileFromInventory } from '../../tasks/lib/flink/config.ts';
import { parseMemoryMiB } from '../../tasks/lib/flink/memory.ts';
import { OS_MIN_MIB } from '../../tasks/lib/stack/memory.ts';
import type { GeneratedStack } from '../../tasks/lib/stack/types.ts';
import { seedInventory, SMALL_FLINK_CONFIG, type FixtureOptions } from './stack-fixture.ts';

import type { ComposeFile, ComposeService } from '../../tasks/lib/stack/compose-types.ts';

type Props = Record<string, unknown>;

const ALL_REAL = { mosquitto: true, prometheus: true, grafana: true, visualizer: true };
const IMAGE = 'docker.io/digitaljazz/flink-fridge:2.3.0';

function gen(o: FixtureOptions = {}, flinkConfig = SMALL_FLINK_CONFIG): { stack: GeneratedStack; doc: ComposeFile } {
  const stack = generateStack(seedInventory(o), { imageRef: IMAGE, flinkConfig });
  return { stack, doc: parse(stack.yaml) as ComposeFile };
}

function services(doc: ComposeFile): Array<[string, ComposeService]> {
  return Object.entries(doc.services);
}

function svc(doc: ComposeFile, name: string): ComposeService {
  const s = doc.services[name];
  if (!s) throw new Error(`no service ${name} in the stack`);
  return s;
}

function props(s: ComposeService): Props {
  return parse(s.environment?.['FLINK_PROPERTIES'] ?? '') as Props;
}

describe('generateStack: Flink services', () => {
  it('pins the jobmanager and keeps taskmanagers off the excluded hosts', () => {
    const { doc } = gen();
    const jm = svc(doc, 'jobmanager');
    const tm = svc(doc, 'taskmanager');
    expect(jm.deploy.placement.constraints).toEqual(['node.hostname == worker04']);
    expect(jm.deploy.replicas).toBe(1);
    expect(tm.deploy.placement.constraints).toEqual(['node.hostname != worker01', 'node.hostname != worker04']);
    expect(tm.deploy.replicas).toBe(3);
    expect(jm.command).toEqual(['jobmanager']);
    expect(tm.command).toEqual(['taskmanager']);
    expect(jm.image).toBe(IMAGE);
    expect(tm.environment?.['JOB_MANAGER_RPC_ADDRESS']).toBe('jobmanager');
  });

  it('hands the Flink configuration over as FLINK_PROPERTIES, with the reporter when Prometheus is on', () => {
    const off = props(svc(gen().doc, 'taskmanager'));
    expect(off['taskmanager.memory.process.size']).toBe('640m');
    expect(off['execution.checkpointing.dir']).toBe('file:///mnt/fridge-state/checkpoints');
    expect(off['metrics.reporters']).toBeUndefined();
    const on = props(svc(gen({ services: { prometheus: true } }).doc, 'jobmanager'));
    expect(on['metrics.reporter.prom.factory.class']).toBe('org.apache.flink.metrics.prometheus.PrometheusReporterFactory');
    expect(on['metrics.reporter.prom.port']).toBe(9249);
  });

  it('keeps the configuration’s own values and reads nested keys', () => {
    const nested = 'jobmanager:\n  memory:\n    process:\n      size: 1g\ntaskmanager:\n  numberOfTaskSlots: 4\n  memory:\n    process:\n      size: 1600m\nstate.checkpoints.dir: file:///elsewhere\n';
    const { stack, doc } = gen({ model: '4-4GB' }, nested);
    const p = props(svc(doc, 'taskmanager'));
    expect(p['taskmanager.numberOfTaskSlots']).toBe(4);
    expect(p['state.checkpoints.dir']).toBe('file:///elsewhere');
    expect(p['execution.checkpointing.dir']).toBeUndefined();
    expect(stack.expected).toEqual({ taskmanagers: 3, slots: 12 });
    expect(svc(doc, 'jobmanager').deploy.resources.limits.memory).toBe('1136M');
  });

  it('mounts the shared state directory at the same path, and nothing relative', () => {
    const { doc } = gen({ services: ALL_REAL });
    for (const name of ['jobmanager', 'taskmanager']) {
      expect(svc(doc, name).volumes).toContainEqual({ type: 'bind', source: '/mnt/fridge-state', target: '/mnt/fridge-state' });
    }
    for (const [, s] of services(doc)) {
      for (const v of s.volumes ?? []) {
        if (v.type === 'bind') expect(path.isAbsolute(v.source)).toBe(true);
      }
      expect(s.depends_on).toBeUndefined();
    }
    expect(gen({ services: ALL_REAL }).stack.yaml).not.toMatch(/depends_on/);
  });

  it('gives each Flink container the node\'s launch cache volume, and tells the launcher where it is', () => {
    const { doc } = gen({});
    for (const name of ['jobmanager', 'taskmanager']) {
      expect(svc(doc, name).volumes).toContainEqual({ type: 'volume', source: 'flink-launch-cache', target: '/opt/flink/launch-cache' });
      expect(svc(doc, name).environment).toMatchObject({ FRIDGE_LAUNCH_CACHE: '/opt/flink/launch-cache' });
    }
    expect(doc.volumes).toHaveProperty('flink-launch-cache');
  });

  it('sizes memory limits above the JVM process size and within a 1 GiB Pi', () => {
    const { stack, doc } = gen();
    const jm = parseMemoryMiB(svc(doc, 'jobmanager').deploy.resources.limits.memory.replace(/M$/, 'm'))!;
    const tm = parseMemoryMiB(svc(doc, 'taskmanager').deploy.resources.limits.memory.replace(/M$/, 'm'))!;
    expect(jm).toBeGreaterThan(576);
    expect(tm).toBeGreaterThan(640);
    expect(jm + OS_MIN_MIB).toBeLessThanOrEqual(1024);
    expect(tm + OS_MIN_MIB).toBeLessThanOrEqual(1024);
    expect(svc(doc, 'taskmanager').deploy.resources.reservations?.memory).toBe(svc(doc, 'taskmanager').deploy.resources.limits.memory);
    expect(stack.problems).toEqual([]);
  });

  it('refuses a profile that a 3B cannot hold, and warns when taskmanagers do not fit', () => {
    const big = 'jobmanager.memory.process.size: 1600m\ntaskmanager.memory.process.size: 1728m\n';
    const { stack } = gen({}, big);
    expect(stack.problems.filter((p) => p.severity === 'error').map((p) => p.subject)).toEqual(['worker04']);
    expect(stack.problems.find((p) => p.subject === 'taskmanager')?.message).toMatch(/only 0 of 3 taskmanagers/);
    const crowded = gen({ replicas: 5, vars: { fridge_flink_taskmanager_max_per_host: 1 } });
    expect(svc(crowded.doc, 'taskmanager').deploy.placement.max_replicas_per_node).toBe(1);
    expect(crowded.stack.problems.map((p) => p.message)).toEqual([expect.stringMatching(/only 3 of 5 taskmanagers/)]);
    expect(crowded.stack.capacity).toEqual({ taskmanagers: 3, detail: 'worker02: 1, worker03: 1, worker05: 1 (704 MiB each, at most 1 per host)' });
    expect(gen({ model: '4-4GB', replicas: 5 }).stack.capacity.taskmanagers).toBe(15);
  });

  it('uses the Flink profile generated from the inventory when given no configuration', () => {
    const inv = seedInventory();
    const profile = generateFlinkConfig(profileFromInventory(inv));
    if (!profile.ok) throw new Error('the seed inventory must have a profile');
    const stack = generateStack(inv, { imageRef: IMAGE });
    const doc = parse(stack.yaml) as ComposeFile;
    const p = props(svc(doc, 'taskmanager'));
    expect(p['taskmanager.memory.process.size']).toBe(profile.config.properties['taskmanager.memory.process.size']);
    expect(p['jobmanager.memory.process.size']).toBe(profile.config.properties['jobmanager.memory.process.size']);
    for (const name of ['jobmanager', 'taskmanager'] as const) {
      const process = parseMemoryMiB(p[`${name}.memory.process.size`] as string)!;
      const limit = parseMemoryMiB(svc(doc, name).deploy.resources.limits.memory.replace(/M$/, 'm'))!;
      expect(limit).toBeGreaterThan(process);
      expect(limit + OS_MIN_MIB).toBeLessThanOrEqual(1024);
    }
    expect(stack.problems).toEqual([]);
    expect(stack.expected).toEqual({ taskmanagers: 3, slots: 6 });
  });

  it('passes the profile’s refusals on and generates nothing', () => {
    const inv = seedInventory();
    inv.cluster.flink.slotsPerTaskmanager = 64;
    const stack = generateStack(inv, { imageRef: IMAGE });
    expect(stack.yaml).toBe('');
    expect(stack.problems[0]).toMatchObject({ severity: 'error', message: expect.stringMatching(/task heap for 64 slot/) });
  });

  it('refuses to pin the optional services next to the jobmanager on a 1 GiB leader', () => {
    const inv = seedInventory({ services: ALL_REAL });
    inv.cluster.flink.jobmanagerHost = 'worker01';
    inv.cluster.flink.jobmanagerHosts = ['worker01'];
    const stack = generateStack(inv, { imageRef: IMAGE, flinkConfig: SMALL_FLINK_CONFIG });
    expect(stack.problems).toEqual([
      { severity: 'error', subject: 'worker01', message: 'worker01 (3B, 1024 MiB) cannot hold its pinned services (1280 MiB) at their memory limits plus 128 MiB for the OS' },
    ]);
    inv.hosts[0]!.memoryMiB = 4096;
    expect(generateStack(inv, { imageRef: IMAGE, flinkConfig: SMALL_FLINK_CONFIG }).problems).toEqual([]);
  });

  it('throws (a caller bug) when a given configuration has no process sizes', () => {
    expect(() => generateStack(seedInventory(), { imageRef: IMAGE, flinkConfig: 'parallelism.default: 1\n' })).toThrow(/process sizes/);
    expect(generateStack(seedInventory(), { imageRef: IMAGE, memory: { jobmanagerProcessMiB: 512, taskmanagerProcessMiB: 600 } }).yaml).toMatch(
      /taskmanager.memory.process.size: 600m/,
    );
  });
});

describe('generateStack: networking modes', () => {
  it('dnsrr: every service uses DNS round robin and publishes in host mode', () => {
    const { doc } = gen({ dnsrr: true, services: ALL_REAL });
    expect(services(doc).length).toBe(6);
    for (const [, s] of services(doc)) {
      expect(s.deploy.endpoint_mode).toBe('dnsrr');
      for (const p of s.ports ?? []) expect(p.mode).toBe('host');
    }
    expect(svc(doc, 'jobmanager').ports).toEqual([{ target: 8081, published: 8081, protocol: 'tcp', mode: 'host' }]);
    expect(doc.networks).toEqual({ flink: { driver: 'overlay', attachable: true } });
  });

  it('vip: the routing mesh (ingress) and virtual IPs', () => {
    const { doc } = gen({ dnsrr: false, services: ALL_REAL });
    for (const [, s] of services(doc)) {
      expect(s.deploy.endpoint_mode).toBe('vip');
      for (const p of s.ports ?? []) expect(p.mode).toBe('ingress');
    }
  });

  it('rolls back failed updates and stops the old task first', () => {
    const { doc } = gen({ services: ALL_REAL });
    for (const [, s] of services(doc)) {
      expect(s.deploy.update_config).toMatchObject({ failure_action: 'rollback', order: 'stop-first' });
      expect(s.deploy.rollback_config).toMatchObject({ order: 'stop-first' });
      expect(s.deploy.restart_policy.condition).toBe('any');
      expect(s.deploy.resources.limits.memory).toMatch(/^\d+M$/);
    }
  });
});

describe('generateStack: optional services', () => {
  it('scrapes every Flink task through tasks.<stack>_<service> DNS discovery', () => {
    const { stack } = gen({ services: { prometheus: true } });
    const prom = parse(stack.files['fridge-configs/prometheus.yml']!) as { scrape_configs: Array<{ dns_sd_configs?: unknown[] }> };
    const sd = prom.scrape_configs[0]?.dns_sd_configs?.[0];
    expect(sd).toMatchObject({ names: ['tasks.flink_jobmanager', 'tasks.flink_taskmanager'], type: 'A', port: 9249 });
  });

  it('gives grafana its password only as an external swarm secret', () => {
    process.env['FRIDGE_GRAFANA_ADMIN_PASSWORD'] = 'not-in-the-stack-7f3';
    const { stack, doc } = gen({ services: ALL_REAL, vars: { fridge_grafana_admin_password_env: 'MY_GRAFANA_PW' } });
    delete process.env['FRIDGE_GRAFANA_ADMIN_PASSWORD'];
    const g = svc(doc, 'grafana');
    expect(g.environment?.['GF_SECURITY_ADMIN_PASSWORD__FILE']).toBe('/run/secrets/grafana_admin_password');
    expect(g.environment?.['GF_SECURITY_ADMIN_PASSWORD']).toBeUndefined();
    expect(doc.secrets).toEqual({ grafana_admin_password: { external: true, name: 'flink_grafana_admin_password' } });
    expect(stack.secrets).toEqual([{ name: 'flink_grafana_admin_password', env: 'MY_GRAFANA_PW' }]);
    const everything = stack.yaml + Object.values(stack.files).join('');
    expect(everything).not.toMatch(/not-in-the-stack/);
    expect(everything).not.toMatch(/GF_SECURITY_ADMIN_PASSWORD\s*:|admin_password\s*=/i);
    const ds = parse(stack.files['fridge-configs/grafana-datasource.yml']!) as { datasources: Array<{ url: string }> };
    expect(ds.datasources[0]?.url).toBe('http://flink_prometheus:9090');
    const dash = JSON.parse(stack.files['fridge-configs/grafana-flink-dashboard.json']!) as { panels: Array<{ title: string }> };
    expect(dash.panels.map((p) => p.title)).toEqual(['Taskmanagers', 'Task slots', 'Running jobs', 'Records in / s', 'Records out / s', 'JVM heap used']);
  });

  it('refuses grafana on the virtual fridge, with the reason, and builds the others', () => {
    const { stack, doc } = gen({ virtual: true, dnsrr: true, services: ALL_REAL });
    expect(stack.problems.map((p) => [p.severity, p.subject])).toEqual([['error', 'grafana']]);
    expect(stack.problems[0]!.message).toMatch(/Grafana is not packaged by Debian/);
    expect(Object.keys(doc.services).sort()).toEqual(['jobmanager', 'mosquitto', 'prometheus', 'taskmanager', 'visualizer']);
    expect(svc(doc, 'mosquitto').image).toBe('10.77.0.1:5000/fridge/mosquitto:2.0-bookworm-2');
    expect(svc(doc, 'visualizer').image).toBe('10.77.0.1:5000/fridge/visualizer:1-bookworm-1');
    expect(svc(doc, 'visualizer').deploy.placement.constraints).toEqual(['node.hostname == worker01', 'node.role == manager']);
    expect(svc(doc, 'visualizer').volumes).toEqual([{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }]);
  });

  it('takes grafana from its upstream image on a real fridge and the others from the inventory’s registry', () => {
    const { doc } = gen({ services: ALL_REAL });
    expect(svc(doc, 'grafana').image).toBe('grafana/grafana-oss:10.4.2');
    expect(svc(doc, 'prometheus').image).toBe('docker.io/digitaljazz/prometheus:2.42-bookworm-1');
  });

  it('names configs after their content, so a changed file becomes a new swarm config', () => {
    const a = gen({ services: { prometheus: true } }).doc;
    const inv = seedInventory({ services: { prometheus: true } });
    inv.cluster.stackName = 'other';
    const b = parse(generateStack(inv, { imageRef: IMAGE, flinkConfig: SMALL_FLINK_CONFIG }).yaml) as ComposeFile;
    expect(Object.keys(a.configs ?? {})).not.toEqual(Object.keys(b.configs ?? {}));
    expect(Object.keys(a.configs ?? {})[0]).toMatch(/^prometheus_[0-9a-f]{10}$/);
  });
});

describe('generateStack: determinism and validity', () => {
  it('gives byte-identical output for the same input, whatever the exclude order', () => {
    const a = gen({ services: ALL_REAL }).stack;
    const inv = seedInventory({ services: ALL_REAL });
    inv.cluster.flink.taskmanagerExclude.reverse();
    const b = generateStack(inv, { imageRef: IMAGE, flinkConfig: SMALL_FLINK_CONFIG });
    expect(b.yaml).toBe(a.yaml);
    expect(b.files).toEqual(a.files);
    expect(gen().stack.yaml).not.toBe(gen({ replicas: 4 }).stack.yaml);
  });

  const hasStackConfig = spawnSync('docker', ['stack', 'config', '--help'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasStackConfig)('passes docker stack config (the compose schema) in both modes', () => {
    for (const dnsrr of [true, false]) {
      const { stack } = gen({ dnsrr, services: ALL_REAL });
      const dir = mkdtempSync(path.join(tmpdir(), 'stack-test-'));
      try {
        writeFileSync(path.join(dir, 'docker-stack.yaml'), stack.yaml);
        for (const [f, c] of Object.entries(stack.files)) {
          mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
          writeFileSync(path.join(dir, f), c);
        }
        const out = execFileSync('docker', ['stack', 'config', '-c', 'docker-stack.yaml'], { cwd: dir, encoding: 'utf8' });
        const parsed = parse(out) as ComposeFile;
        expect(svc(parsed, 'taskmanager').deploy.endpoint_mode).toBe(dnsrr ? 'dnsrr' : 'vip');
        // The schema check must be able to fail: a misspelt key is refused.
        writeFileSync(path.join(dir, 'bad.yaml'), stack.yaml.replace('endpoint_mode:', 'endpoint_mod:'));
        expect(spawnSync('docker', ['stack', 'config', '-c', 'bad.yaml'], { cwd: dir, encoding: 'utf8' }).stderr).toMatch(/endpoint_mod/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
