// The virtual fridge's pure parts: what `up` does with existing nodes, and the inventory it writes.
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../tasks/lib/inventory/load.ts';
import { stringify } from 'yaml';
import { nodeFilesDir, nodeRunArgs } from '../../tasks/lib/sim/nodes.ts';
import { flinkPlacement, simInventory } from '../../tasks/lib/sim/inventory.ts';
import { planNodes, type NodeStatus } from '../../tasks/lib/sim/sim.ts';

const GiB = 1024 ** 3;
const node = (i: number, over: Partial<NodeStatus> = {}): NodeStatus => ({
  name: `pi${i}`,
  container: `fridge-sim-pi${i}`,
  address: `10.77.0.${10 + i}`,
  state: 'running',
  memoryBytes: GiB,
  image: 'fridge-sim/node:bookworm',
  filesDir: nodeFilesDir(`pi${i}`),
  ...over,
});

describe('planNodes', () => {
  const want = { nodes: 3, memoryBytes: GiB, fresh: false };
  it.each([
    ['nothing there: create all', [], { create: [1, 2, 3], start: [], remove: [] }],
    ['all running: keep (warm up)', [node(1), node(2), node(3)], { create: [], start: [], remove: [] }],
    ['stopped node: start it', [node(1), node(2, { state: 'exited' }), node(3)], { create: [], start: ['fridge-sim-pi2'], remove: [] }],
    ['more than wanted: remove extras', [node(1), node(2), node(3), node(4), node(5)], { create: [], start: [], remove: ['fridge-sim-pi4', 'fridge-sim-pi5'] }],
    ['made by another checkout: recreate', [node(1), node(2, { state: 'exited', filesDir: '/elsewhere/.fridge/sim/nodes/pi2' }), node(3)], { create: [2], start: [], remove: ['fridge-sim-pi2'] }],
    ['other model: recreate', [node(1, { memoryBytes: 2 * GiB }), node(2), node(3)], { create: [1], start: [], remove: ['fridge-sim-pi1'] }],
  ] as const)('%s', (_, existing, expected) => {
    expect(planNodes([...existing], want)).toEqual(expected);
  });
  it('--fresh recreates every node', () => {
    expect(planNodes([node(1), node(2)], { ...want, fresh: true })).toEqual({ create: [1, 2, 3], start: [], remove: ['fridge-sim-pi1', 'fridge-sim-pi2'] });
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
});

describe('node container', () => {
  it('is a Docker-in-Docker node without --privileged, limited like the model', () => {
    const args = nodeRunArgs(2, '4-2GB');
    expect(args).not.toContain('--privileged');
    expect(args.join(' ')).toContain('--name fridge-sim-pi2 --hostname raspberrypi');
    expect(args.join(' ')).toContain('--ip 10.77.0.12 --memory 2048m');
    expect(args.join(' ')).toContain('--cap-add ALL --cap-drop SYS_RESOURCE');
    expect(args).toContain('/var/lib/docker');
  });
});
