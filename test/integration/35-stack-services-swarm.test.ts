// The optional services as the stack runs them on the virtual fridge's swarm (left formed by
// pi-setup-swarm.test.ts): images pushed to the fridge's registry, swarm configs, dnsrr endpoints and
// host-mode ports, and Prometheus finding every task of a replicated service through DNS.
// Flink itself is stood in for by two replicas of a small image listening on the reporter's port, so
// this stays quick; the end-to-end deploy test runs the real thing.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { buildServiceImages } from '../../tasks/lib/stack/build-service-images.ts';
import type { ComposeFile } from '../../tasks/lib/stack/compose-types.ts';
import { generateStack } from '../../tasks/lib/stack/generate.ts';
import { builtImageRefs } from '../../tasks/lib/stack/service-images.ts';
import { onLeader, until } from '../support/sim-leader.ts';
import { STACK_FILE } from '../../tasks/lib/stack/types.ts';
import { execLocal } from '../../tasks/lib/transport/local.ts';
import { shq } from '../../tasks/lib/transport/types.ts';

const STACK = 'stackcheck';

/** MQTT 3.1.1 CONNECT as a sensor sends it; the broker answers CONNACK (0x20 0x02 0x00 0x00) when it accepts. */
function mqttConnack(host: string, port: number): Promise<Buffer> {
  const id = 'fridge-test';
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const payload = Buffer.concat([Buffer.from([0x00, id.length]), Buffer.from(id)]);
  const packet = Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port, timeout: 5000 }, () => sock.write(packet));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d);
    });
    sock.once('timeout', () => {
      sock.destroy();
      reject(new Error('no CONNACK'));
    });
    sock.once('error', reject);
  });
}

let inv: Inventory | undefined;
let why = '';
let leaderAddress = '';

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
  const base = loaded.inventory;
  inv = { ...base, cluster: { ...base.cluster, stackName: STACK, services: { mosquitto: true, prometheus: true, grafana: false, visualizer: true } } };
  leaderAddress = inv.hosts.find((h) => h.role === 'manager')?.address ?? '';
  const built = await buildServiceImages(inv, ['mosquitto', 'prometheus', 'visualizer']);
  const failed = built.filter((b) => b.status === 'failed');
  if (failed.length) throw new Error(failed.map((f) => `${f.service}: ${f.msg}`).join('; '));

  const stack = generateStack(inv, { imageRef: 'unused' });
  expect(stack.problems).toEqual([]);
  const doc = parse(stack.yaml) as ComposeFile;
  // Two stand-in taskmanagers (the visualizer's HTTP server on the reporter's port), no jobmanager.
  const tm = doc.services['taskmanager']!;
  doc.services = {
    ...doc.services,
    taskmanager: {
      image: builtImageRefs(inv, 'visualizer').pullRef,
      environment: { PORT: '9249' },
      networks: tm.networks,
      deploy: { ...tm.deploy, replicas: 2, resources: { limits: { memory: '64M' } } },
    },
  };
  delete doc.services['jobmanager'];

  const dir = mkdtempSync(path.join(tmpdir(), 'stack-swarm-'));
  try {
    writeFileSync(path.join(dir, STACK_FILE), stringify(doc));
    for (const [f, c] of Object.entries(stack.files)) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), c);
    }
    await onLeader(`rm -rf /tmp/${STACK} && mkdir -p /tmp/${STACK}`);
    const cp = await execLocal(`docker cp ${shq(`${dir}/.`)} ${containerName('pi1')}:/tmp/${STACK}/`);
    expect(cp.code, cp.stderr).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const deployed = await onLeader(`cd /tmp/${STACK} && docker stack deploy --prune -c ${STACK_FILE} ${STACK}`);
  expect(deployed.code, deployed.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  if (!inv) return;
  await onLeader(`docker stack rm ${STACK}; rm -rf /tmp/${STACK}`);
  // The overlay network goes a moment after the services; wait so the next deploy does not trip over it.
  await until('the stack to be gone', 60_000, async () => ((await onLeader(`docker network ls -q --filter name=${STACK}_`)).stdout.trim() === '' ? true : undefined)).catch(() => undefined);
}, 120_000);

describe('optional services on the virtual fridge swarm', () => {
  it('mosquitto accepts an MQTT connection on the leader’s address (host-mode port)', async (ctx) => {
    if (!inv) return ctx.skip(why);
    const ack = await until('mosquitto on the leader', 180_000, () => mqttConnack(leaderAddress, 1883));
    expect([...ack]).toEqual([0x20, 0x02, 0x00, 0x00]);
  }, 200_000);

  it('prometheus discovers every replica through tasks.<stack>_<service>', async (ctx) => {
    if (!inv) return ctx.skip(why);
    type Targets = { data: { activeTargets: Array<{ labels: Record<string, string>; discoveredLabels: Record<string, string>; lastError: string }> } };
    const targets = await until('two taskmanager targets', 180_000, async () => {
      const r = (await (await fetch(`http://${leaderAddress}:9090/api/v1/targets`)).json()) as Targets;
      const tms = r.data.activeTargets.filter((t) => t.labels['component'] === 'taskmanager');
      return tms.length === 2 && tms.every((t) => t.lastError !== '') ? tms : undefined;
    });
    expect(new Set(targets.map((t) => t.labels['instance'])).size).toBe(2);
    for (const t of targets) {
      expect(t.discoveredLabels['__meta_dns_name']).toBe(`tasks.${STACK}_taskmanager`);
      expect(t.labels['instance']).toMatch(/:9249$/);
      // Reached over the overlay: the stand-in answers, it just has no /metrics.
      expect(t.lastError).toMatch(/404/);
    }
  }, 200_000);

  it('the visualizer shows the five nodes and where the stack’s tasks run', async (ctx) => {
    if (!inv) return ctx.skip(why);
    type State = { nodes: Array<{ hostname: string; tasks: Array<{ service: string; state: string }> }> };
    const state = await until('the visualizer', 120_000, async () => {
      const r = await fetch(`http://${leaderAddress}:8080/api/state`);
      return r.ok ? ((await r.json()) as State) : undefined;
    });
    expect(state.nodes.map((n) => n.hostname)).toEqual(inv!.hosts.map((h) => h.name).sort());
    const pi1 = state.nodes.find((n) => n.hostname === 'pi1')!;
    expect(pi1.tasks.map((t) => t.service)).toEqual(expect.arrayContaining([`${STACK}_mosquitto`, `${STACK}_prometheus`, `${STACK}_visualizer`]));
  }, 150_000);
});
