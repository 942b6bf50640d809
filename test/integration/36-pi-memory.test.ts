// A virtual Pi reports a Pi's memory, not this machine's: its /proc/meminfo is lxcfs's view of its cgroup, so
// its engine, and swarm through it, see the model's memory. Swarm then refuses what a Pi could not hold, as on
// the real Fridge. Its engine still says x86_64: a node label says what it stands for, and `status` shows it.
// Runs on the swarm that 30-pi-setup-swarm.test.ts leaves formed (skipped without it).
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { HostSpec, Inventory } from '../../tasks/lib/inventory/types.ts';
import { SIM, SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { memTotalBytes } from '../../tasks/lib/sim/meminfo.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { execLocal } from '../../tasks/lib/transport/local.ts';
import { shq } from '../../tasks/lib/transport/types.ts';
import { runTask } from '../support/run-task.ts';

const MiB = 1024 * 1024;
const STACK = 'pimemory';
const leaderContainer = containerName('pi1');
/** Any image the nodes can pull: the sim's own Debian rootfs, which `sim up` always has. */
const IMAGE = `fridge-test/pi-memory:${SIM.suite}`;

function onNode(node: string, command: string, stdin?: string) {
  return execLocal(`docker exec -i ${containerName(node)} sh -c ${shq(command)}`, { timeoutMs: 300_000, ...(stdin === undefined ? {} : { stdin }) });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface SwarmNode {
  hostname: string;
  memoryBytes: number;
  arch: string;
  labels: Record<string, string>;
}

async function swarmNodes(): Promise<SwarmNode[]> {
  const fmt = '{{.Description.Hostname}}|{{.Description.Resources.MemoryBytes}}|{{.Description.Platform.Architecture}}|{{json .Spec.Labels}}';
  const r = await onNode('pi1', `docker node inspect --format '${fmt}' $(docker node ls -q)`);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [hostname = '', mem = '', arch = '', labels = '{}'] = l.split('|');
      return { hostname, memoryBytes: Number(mem), arch, labels: JSON.parse(labels) as Record<string, string> };
    });
}

let inv: Inventory | undefined;
let why = '';
const figures: string[] = [];

beforeAll(async () => {
  const loaded = await loadInventory(SIM_PATHS.inventory);
  if (!loaded.ok) {
    why = 'no virtual fridge inventory (run the virtual fridge tests first)';
    return;
  }
  const swarm = await onNode('pi1', "docker node ls --format '{{.Hostname}}'");
  if (swarm.code !== 0) {
    why = `the virtual fridge has no swarm: ${swarm.stderr.trim().split('\n').pop() ?? ''}`;
    return;
  }
  inv = loaded.inventory;
  const push = await execLocal(
    `docker tag ${shq(SIM.baseImage)} ${shq(`127.0.0.1:${SIM.registryPort}/${IMAGE}`)} && docker push -q ${shq(`127.0.0.1:${SIM.registryPort}/${IMAGE}`)}`,
    { timeoutMs: 300_000 },
  );
  expect(push.code, push.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  if (!inv) return;
  await onNode('pi1', `docker stack rm ${STACK}; rm -rf /tmp/${STACK}`);
  // The stack's network goes a moment after its services; the next deploy must not trip over it.
  await until('the stack to be gone', 60_000, async () => ((await onNode('pi1', `docker network ls -q --filter name=${STACK}_`)).stdout.trim() === '' ? true : undefined)).catch(() => undefined);
  if (figures.length) console.log(`memory seen by the virtual fridge:\n${figures.join('\n')}`);
}, 120_000);

const hosts = (): HostSpec[] => inv?.hosts ?? [];

describe('virtual Pis report a Pi’s memory', () => {
  it('swarm sees each node’s model memory, not this machine’s, and labels what it stands for', async (ctx) => {
    if (!inv) return ctx.skip(why);
    const nodes = await swarmNodes();
    figures.push(`this machine: ${Math.round(os.totalmem() / MiB)} MiB`);
    for (const h of hosts()) {
      const n = nodes.find((x) => x.hostname === h.name);
      expect(n, `${h.name} in docker node inspect`).toBeDefined();
      if (!n) continue;
      figures.push(`${h.name}: docker node inspect ${Math.round(n.memoryBytes / MiB)} MiB · ${n.arch} · ${n.labels[SIM.emulatesLabel] ?? '-'} (model ${h.model}: ${h.memoryMiB} MiB)`);
      // lxcfs reports the cgroup limit itself; "≈" leaves room for a kernel that rounds it to pages.
      expect(n.memoryBytes, h.name).toBeLessThanOrEqual(h.memoryMiB * MiB);
      expect(n.memoryBytes, h.name).toBeGreaterThan(h.memoryMiB * MiB * 0.97);
      expect(n.labels[SIM.emulatesLabel], `${h.name}'s ${SIM.emulatesLabel} label`).toBe(h.labels[SIM.emulatesLabel]);
      expect(n.labels[SIM.emulatesLabel]).toMatch(/^linux\/arm/);
    }
  }, 60_000);

  it('/proc/meminfo, free and docker info inside a node say the model’s memory', async (ctx) => {
    if (!inv) return ctx.skip(why);
    const h = hosts()[1] ?? hosts()[0];
    if (!h) throw new Error('no host');
    const meminfo = await onNode(h.name, 'cat /proc/meminfo');
    expect(meminfo.code, meminfo.stderr).toBe(0);
    expect(memTotalBytes(meminfo.stdout)).toBe(h.memoryMiB * MiB);
    expect((await onNode(h.name, "free -m | awk '/^Mem:/ {print $2}'")).stdout.trim()).toBe(String(h.memoryMiB));
    expect(Number((await onNode(h.name, "docker info --format '{{.MemTotal}}'")).stdout.trim())).toBe(h.memoryMiB * MiB);
  }, 60_000);

  it('swarm leaves a service reserving more than a Pi pending (insufficient resources) and runs one that fits', async (ctx) => {
    if (!inv) return ctx.skip(why);
    const pi = Math.max(...hosts().map((h) => h.memoryMiB));
    const service = (reserveMiB: number) => ({
      image: `${SIM.gateway}:${SIM.registryPort}/${IMAGE}`,
      command: ['sleep', 'infinity'],
      deploy: { replicas: 1, resources: { reservations: { memory: `${reserveMiB}M` } }, restart_policy: { condition: 'none' } },
    });
    // Too big for any Pi, a small part of this machine: only the nodes' own memory can refuse it.
    const tooBig = pi + 128;
    expect(tooBig * MiB).toBeLessThan(os.totalmem() / 4);
    const stack = stringify({ version: '3.8', services: { fits: service(256), 'too-big': service(tooBig) } });
    const deployed = await onNode('pi1', `mkdir -p /tmp/${STACK} && cat > /tmp/${STACK}/stack.yaml && docker stack deploy -c /tmp/${STACK}/stack.yaml ${STACK}`, stack);
    expect(deployed.code, deployed.stderr).toBe(0);

    const running = await until('the service that fits to run', 240_000, async () => {
      const r = await onNode('pi1', `docker service ps ${STACK}_fits --filter desired-state=running --format '{{.CurrentState}}|{{.Node}}'`);
      return /^Running/m.test(r.stdout) ? r.stdout.trim() : undefined;
    });
    figures.push(`${STACK}_fits (reserves 256 MiB): ${running}`);
    const pending = await until('swarm to refuse the one that does not', 60_000, async () => {
      const r = await onNode('pi1', `docker service ps ${STACK}_too-big --no-trunc --format '{{.CurrentState}}|{{.Error}}'`);
      return /insufficient resources/.test(r.stdout) ? r.stdout.trim() : undefined;
    });
    figures.push(`${STACK}_too-big (reserves ${tooBig} MiB): ${pending}`);
    // --no-trunc prints the error quoted.
    expect(pending).toMatch(/^Pending .*\|"?no suitable node \(insufficient resources on \d+ nodes?\)/);
    const replicas = await onNode('pi1', `docker service ls --filter name=${STACK}_ --format '{{.Name}} {{.Replicas}}'`);
    expect(replicas.stdout).toContain(`${STACK}_too-big 0/1`);
    expect(replicas.stdout).toContain(`${STACK}_fits 1/1`);
  }, 420_000);

  it('status shows each node’s memory and what it stands for', async (ctx) => {
    if (!inv) return ctx.skip(why);
    const r = await runTask('status', ['-i', SIM_PATHS.inventory]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NODE +STATUS +AVAILABILITY +ROLE +MEMORY +PLATFORM$/m);
    for (const h of hosts()) {
      const emulates = h.labels[SIM.emulatesLabel] ?? '';
      const row = new RegExp(`^${h.name} +Ready +Active +\\S+ +${h.memoryMiB} MiB +\\S+ \\(stands for ${emulates.replace(/\//g, '\\/')}\\)$`, 'm');
      expect(r.stdout, h.name).toMatch(row);
    }
  }, 180_000);
});
