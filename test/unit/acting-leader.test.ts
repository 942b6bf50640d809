// Several swarm managers (#14): when the first does not answer, the first that does acts for the swarm.
import { describe, expect, it } from 'vitest';
import { actingLeader, actingLeaderMessage } from '../../tasks/lib/deploy/acting-leader.ts';
import { leader, type HostSpec } from '../../tasks/lib/inventory/types.ts';
import { UnreachableError, type Transport } from '../../tasks/lib/transport/types.ts';
import { seedInventory } from './stack-fixture.ts';

function threeManagers() {
  const inv = seedInventory();
  inv.hosts = inv.hosts.map((h, i) => (i < 3 ? { ...h, role: 'manager' as const } : h));
  return inv;
}
const connectUnless = (down: string[]) => async (h: HostSpec): Promise<Transport> => {
  if (down.includes(h.name)) throw new UnreachableError(h.name, `cannot connect to pi@${h.address}:22 (timed out)`);
  return {} as Transport;
};

describe('the acting leader', () => {
  it('one manager: nothing is asked, whatever happens to it', async () => {
    const inv = seedInventory();
    const r = await actingLeader(inv, () => Promise.reject(new Error('must not connect')));
    expect(r.inventory).toBe(inv);
  });

  it('the first manager answers: the inventory as it is', async () => {
    const inv = threeManagers();
    const r = await actingLeader(inv, connectUnless([]));
    expect(r).toEqual({ inventory: inv, skipped: [] });
    expect(actingLeaderMessage(r)).toBeUndefined();
  });

  it('the first does not: the next manager that answers leads this run, and the run says why', async () => {
    const inv = threeManagers();
    const r = await actingLeader(inv, connectUnless(['worker01', 'worker02']));
    expect(leader(r.inventory).name).toBe('worker03');
    expect(r.inventory.hosts.map((h) => h.name)).toEqual(['worker03', 'worker01', 'worker02', 'worker04', 'worker05']);
    expect(actingLeaderMessage(r)).toBe(
      "the swarm's first managers worker01, worker02 did not answer (cannot connect to pi@10.77.0.1:22 (timed out)): worker03, a manager too, acts for the swarm in this run",
    );
  });

  it('none answers: the first stays, for the phases to report; a bug is not taken for a dead Pi', async () => {
    const inv = threeManagers();
    const r = await actingLeader(inv, connectUnless(['worker01', 'worker02', 'worker03']));
    expect(r.inventory).toBe(inv);
    await expect(actingLeader(inv, () => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
  });
});
