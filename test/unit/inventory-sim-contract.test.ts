// The virtual fridge writes inventories with the same shape as a real one; they must load cleanly.

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatProblems, parseInventory } from '../../tasks/lib/inventory/load.ts';
import { simInventory } from '../../tasks/lib/sim/inventory.ts';

describe.each([1, 2, 3, 5])('a virtual fridge of %i node(s)', (nodes) => {
  it('loads without errors, as a virtual inventory', () => {
    const r = parseInventory('sim.yaml', stringify(simInventory({ nodes, arch: 'amd64', model: 'virtual' })));
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.inventory.cluster.virtual).toBe(true);
    expect(r.inventory.hosts).toHaveLength(nodes);
    expect(r.inventory.hosts.every((h) => h.address.startsWith('10.77.0.'))).toBe(true);
    expect(r.warnings.filter((w) => !w.message.startsWith('no group "workers"'))).toEqual([]);
  });
});
