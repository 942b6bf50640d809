// The virtual fridge's pure parts: what `up` does with existing nodes, and the inventory it writes.
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../tasks/lib/inventory/load.ts';
import { stringify } from 'yaml';
import { emulatedPlatform } from '../../tasks/lib/sim/config.ts';
import { diskPaths } from '../../tasks/lib/sim/disks.ts';
import { nodeFilesDir, nodeRunArgs } from '../../tasks/lib/sim/nodes.ts';
import { flinkPlacement, simInventory } from '../../tasks/lib/sim/inventory.ts';
import { lxcfsServes, memTotalBytes } from '../../tasks/lib/sim/meminfo.ts';
import { planNodes, type NodeStatus } from '../../tasks/lib/sim/sim.ts';

const GiB = 1024 ** 3;
const node = (i: number, over: Partial<NodeStatus> = {}): NodeStatus => ({
  name: `pi${i}`,
  container: `fridge-sim-pi${i}`,
  address: `10.77.0.${10 + i}`,
  state: 'running',
  memoryBytes: GiB,
  image: 'fridge-sim/node:bookworm',
  firstBoot: false,
  filesDir: nodeFilesDir(`pi${i}`),
  meminfo: 'limit',
  disk: true,
  current: true,
  ...over,
});

describe('planNodes', () => {
  const want = { nodes: 3, memoryBytes: GiB, meminfo: 'limit', fresh: false } as const;
  it.each([
    ['nothing there: create all', [], { create: [1, 2, 3], start: [], restart: [], remove: [] }],
    ['all running: keep (warm up)', [node(1), node(2), node(3)], { create: [], start: [], restart: [], remove: [] }],
    ['stopped node: start it', [node(1), node(2, { state: 'exited' }), node(3)], { create: [], start: ['fridge-sim-pi2'], restart: [], remove: [] }],
    ['more than wanted: remove extras', [node(1), node(2), node(3), node(4), node(5)], { create: [], start: [], restart: [], remove: ['fridge-sim-pi4', 'fridge-sim-pi5'] }],
    ['made by another checkout: recreate', [node(1), node(2, { state: 'exited', filesDir: '/elsewhere/.fridge/sim/nodes/pi2' }), node(3)], { create: [2], start: [], restart: [], remove: ['fridge-sim-pi2'] }],
    ['other model: recreate', [node(1, { memoryBytes: 2 * GiB }), node(2), node(3)], { create: [1], start: [], restart: [], remove: ['fridge-sim-pi1'] }],
    // Made before lxcfs (or while it was down): a mount cannot be added to a container.
    ['reports the host memory: recreate', [node(1), node(2, { meminfo: 'host' }), node(3)], { create: [2], start: [], restart: [], remove: ['fridge-sim-pi2'] }],
    // Made before nodes had disks of their own: its engine's files are on an anonymous volume.
    ['no disk of its own: recreate', [node(1), node(2), node(3, { disk: false })], { create: [3], start: [], restart: [], remove: ['fridge-sim-pi3'] }],
    ['made with the shared state volume or without FUSE: recreate', [node(1, { current: false }), node(2), node(3)], { create: [1], start: [], restart: [], remove: ['fridge-sim-pi1'] }],
  ] as const)('%s', (_, existing, expected) => {
    expect(planNodes([...existing], want)).toEqual(expected);
  });
  it('--fresh recreates every node', () => {
    expect(planNodes([node(1), node(2)], { ...want, fresh: true })).toEqual({ create: [1, 2, 3], start: [], restart: [], remove: ['fridge-sim-pi1', 'fridge-sim-pi2'] });
  });
  it('a first-boot fridge and a ready one are different machines; --renew makes one node again (a re-flashed card)', () => {
    const three = [node(1), node(2), node(3)];
    expect(planNodes(three, { ...want, firstBoot: true }).create).toEqual([1, 2, 3]);
    const first = three.map((n) => ({ ...n, firstBoot: true }));
    expect(planNodes(first, { ...want, firstBoot: true })).toEqual({ create: [], start: [], restart: [], remove: [] });
    expect(planNodes(first, { ...want, firstBoot: true, renew: ['pi2'] })).toEqual({ create: [2], start: [], restart: [], remove: ['fridge-sim-pi2'] });
  });
  it('restarts a running node whose lxcfs mount went stale; a stopped one gets a fresh mount by starting', () => {
    const stale = ['fridge-sim-pi1', 'fridge-sim-pi2'];
    expect(planNodes([node(1), node(2, { state: 'exited' }), node(3)], want, stale)).toEqual({ create: [], start: ['fridge-sim-pi2'], restart: ['fridge-sim-pi1'], remove: [] });
  });
  it('without lxcfs, nodes made with its mount are made again without it', () => {
    expect(planNodes([node(1), node(2, { meminfo: 'host' })], { ...want, nodes: 2, meminfo: 'host' })).toEqual({ create: [1], start: [], restart: [], remove: ['fridge-sim-pi1'] });
  });
});

describe('sim inventory', () => {
  it('follows the seed on five nodes and scales down on three', () => {
    expect(flinkPlacement(5)).toEqual({ jobmanager: 'pi4', exclude: ['pi1', 'pi4'], replicas: 3 });
    expect(flinkPlacement(3)).toEqual({ jobmanager: 'pi1', exclude: ['pi1'], replicas: 2 });
  });

  it('is accepted by the inventory loader, armv7 platforms and all', () => {
    const r = parseInventory('/sim/inventory.yaml', stringify(simInventory({ nodes: 5, arch: 'armv7', model: '3B' })));
    if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
    expect(r.warnings).toEqual([]);
    expect(r.inventory.hosts.map((h) => `${h.name}:${h.role}:${h.address}`)).toEqual([
      'pi1:manager:10.77.0.11',
      'pi2:worker:10.77.0.12',
      'pi3:worker:10.77.0.13',
      'pi4:worker:10.77.0.14',
      'pi5:worker:10.77.0.15',
    ]);
    expect(r.inventory.cluster.platforms).toEqual(['linux/arm/v7']);
    expect(r.inventory.cluster.flink).toMatchObject({ jobmanagerHost: 'pi4', taskmanagerExclude: ['pi1', 'pi4'], taskmanagerReplicas: 3 });
  });

  it('labels every node with the platform it stands for, which swarm gets with the model labels', () => {
    const r = parseInventory('/sim/inventory.yaml', stringify(simInventory({ nodes: 3, arch: 'amd64', model: '3B' })));
    if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
    for (const h of r.inventory.hosts) expect(h.labels).toEqual({ 'fridge.emulates': 'linux/arm/v7', model: '3B', memory: '1024', role: h.role });
  });

  it.each([
    ['3B', 'amd64', 'linux/arm/v7'],
    ['3B+', 'amd64', 'linux/arm/v7'],
    ['4-2GB', 'amd64', 'linux/arm64'],
    ['5-8GB', 'armv7', 'linux/arm/v7'],
    ['virtual', 'armv7', 'linux/arm/v7'],
    ['virtual', 'amd64', undefined],
  ] as const)('a %s node on --arch %s stands for %s', (model, arch, platform) => {
    expect(emulatedPlatform(model, arch)).toBe(platform);
    const vars = (simInventory({ nodes: 1, arch, model }) as { all: { vars: Record<string, unknown> } }).all.vars;
    expect(vars['fridge_labels']).toEqual(platform ? { 'fridge.emulates': platform } : undefined);
  });
});

describe('node container', () => {
  it('is a Docker-in-Docker node without --privileged, limited like the model', () => {
    const args = nodeRunArgs(2, '4-2GB', 'limit');
    expect(args).not.toContain('--privileged');
    expect(args.join(' ')).toContain('--name fridge-sim-pi2 --hostname raspberrypi');
    expect(args.join(' ')).toContain('--ip 10.77.0.12 --memory 2048m');
    expect(args.join(' ')).toContain('--cap-add ALL --cap-drop SYS_RESOURCE');
    // Its own disk (sim/disks.ts) as its engine's data directory, not an anonymous volume on this machine's.
    expect(args).toContain(`${diskPaths('pi2').mount}:/var/lib/docker`);
    expect(diskPaths('pi2').mount).toMatch(/\.fridge\/sim\/disks\/pi2$/);
    // FUSE as on a Pi, and no state directory shared behind the pipeline's back.
    expect(args.join(' ')).toContain('--device /dev/fuse');
    expect(args.join(' ')).not.toContain('/mnt/fridge-state');
  });

  it("reads lxcfs's /proc/meminfo (its engine then reports the limit), unless lxcfs is not serving", () => {
    expect(nodeRunArgs(1, '3B', 'limit').join(' ')).toContain('-v /var/lib/lxcfs/proc/meminfo:/proc/meminfo:ro fridge-sim/node:bookworm');
    expect(nodeRunArgs(1, '3B', 'host').join(' ')).not.toContain('/proc/meminfo');
  });
});

describe('meminfo', () => {
  it('reads MemTotal in bytes', () => {
    expect(memTotalBytes('MemTotal:        1048576 kB\nMemFree:         1046960 kB\n')).toBe(GiB);
    expect(memTotalBytes('nothing here')).toBeUndefined();
  });
  it('lxcfs serves only when its file reads', () => {
    expect(lxcfsServes('/nonexistent/lxcfs/proc/meminfo')).toBe(false);
    expect(lxcfsServes('/proc/meminfo')).toBe(true);
  });
});
