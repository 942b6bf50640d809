// discover (issue #13 item 2) on the shared virtual fridge, after 40-deploy: the sim network 10.77.0.0/24 probed as
// an operator would probe a LAN. It must find exactly the nodes (their sshd answers with a banner) and neither the
// gateway 10.77.0.1 (this machine: never probed) nor the registry and apt cache (they listen on the gateway).
// The nodes carry docker's locally administered MACs (02:42:…), NOT Raspberry Pi ones, so no vendor names them: on
// the virtual fridge an SSH server of the sim network counts as a node ("virtual fridge" evidence). #13 item 4 gives
// the nodes b8:27:eb MACs for `sim up --first-boot`; this test then should expect the MAC evidence too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RunSummary } from '../../tasks/lib/engine/types.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { SIM, nodeAddress, nodeName } from '../../tasks/lib/sim/config.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { explain, runTask } from '../support/run-task.ts';

const NODES = 5;
const nodes = Array.from({ length: NODES }, (_, i) => nodeAddress(i + 1));
let inventory = '';
let dir = '';
const figures: Record<string, string> = {};

interface Found {
  address: string;
  mac?: string;
  vendor?: string;
  ssh: string;
  banner?: string;
  inventoryHost?: string;
  piEvidence: string[];
}
interface Doc {
  exitCode: number;
  results: { step: string; status: string; msg?: string }[];
  phases: (RunSummary & { data: { discover?: { cidr: string; probed: number; hosts: Found[] } } })[];
}
const hostsOf = (d: Doc): Found[] => d.phases[0]?.data.discover?.hosts ?? [];

beforeAll(async () => {
  // Reuse the fridge 40-deploy left (no --fresh): discover only reads it.
  const up = await simUp({ nodes: NODES });
  if (!up.ok) throw new Error(`sim up failed: ${up.error}`);
  inventory = up.inventory;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-discover-sim-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`discover figures: ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
});

describe('discover on the virtual fridge (nodes have docker MACs, not Raspberry Pi ones: vendor unknown)', () => {
  it('finds exactly the nodes by their SSH banners, not the gateway nor the registry, each named from the inventory', { timeout: 120_000 }, async () => {
    const r = await runTask('discover', ['-i', inventory, '--cidr', SIM.subnet, '--json']);
    figures[`discover ${SIM.subnet}`] = `${(r.ms / 1000).toFixed(1)} s (goal ≤ 5 s, including the task's start)`;
    expect(r.code, explain(r)).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    const found = hostsOf(doc);
    expect(found.filter((h) => h.ssh === 'banner').map((h) => h.address)).toEqual(nodes);
    expect(found.map((h) => h.address)).not.toContain(SIM.gateway);
    for (const h of found.filter((x) => x.ssh === 'banner')) {
      expect(h.banner).toMatch(/^SSH-2\.0-OpenSSH_[\w.]+ Debian-/);
      // Docker's MACs are locally administered: no Raspberry Pi vendor, the sim network is the evidence.
      expect(h.piEvidence).toEqual(['virtual fridge']);
      expect(h.vendor ?? 'unknown').not.toMatch(/Raspberry/);
    }
    expect(found.filter((h) => h.ssh === 'banner').map((h) => h.inventoryHost)).toEqual(nodes.map((_, i) => nodeName(i + 1)));
    expect(r.stdout).not.toMatch(/\braspberry\b/);
  });

  it('refuses a block outside the sim network with the virtual fridge\'s inventory, probing nothing', { timeout: 60_000 }, async () => {
    const r = await runTask('discover', ['-i', inventory, '--cidr', '10.78.0.0/24', '--json']);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.exitCode).toBe(2);
    expect(doc.results[0]?.msg).toBe(`10.78.0.0/24 is outside the virtual fridge's network ${SIM.subnet}: with its inventory discover probes only that network`);
  });

  it('--write adds the nodes missing from a copy of the inventory, with static addresses after the highest one, then changes nothing', { timeout: 120_000 }, async () => {
    // The generated inventory without its workers: discover must add pi2..pi5 back at their addresses.
    const copy = path.join(dir, 'inventory.yaml');
    const data = parse(fs.readFileSync(inventory, 'utf8')) as { all: { vars: Record<string, unknown>; children: { workers?: unknown } } };
    delete data.all.children.workers;
    // Flink's placement must name hosts the copy has, or it would not load.
    Object.assign(data.all.vars, { fridge_flink_jobmanager_host: nodeName(1), fridge_flink_taskmanager_exclude: [], fridge_flink_taskmanager_replicas: 1 });
    fs.writeFileSync(copy, `# the virtual fridge's inventory, workers removed\n${stringify(data, { lineWidth: 0 })}`);
    const first = await runTask('discover', ['-i', copy, '--write', copy, '--json']);
    expect(first.code, explain(first)).toBe(0);
    const text = fs.readFileSync(copy, 'utf8');
    expect(text.startsWith("# the virtual fridge's inventory, workers removed\n")).toBe(true);
    const loaded = await loadInventory(copy);
    if (!loaded.ok) throw new Error(`the written inventory does not load: ${loaded.problems.map((p) => p.message).join('; ')}`);
    const added = loaded.inventory.hosts.filter((h) => h.role === 'worker');
    expect(added.map((h) => `${h.name}@${h.address}`)).toEqual(nodes.slice(1).map((a, i) => `${nodeName(i + 2)}@${a}`));
    // Static addresses continue after pi1's and skip every address in use on the sim network.
    for (const h of added) expect(nodes).not.toContain(h.staticIp);
    const again = await runTask('discover', ['-i', copy, '--write', copy, '--json']);
    expect(again.code, explain(again)).toBe(0);
    expect((JSON.parse(again.stdout) as Doc).results.map((x) => `${x.step}:${x.status}`)).toEqual(['discover:ok', `inventory ${copy}:ok`]);
    expect(fs.readFileSync(copy, 'utf8')).toBe(text);
  });
});
