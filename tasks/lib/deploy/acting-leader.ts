// With several swarm managers, the swarm outlives the first one (Raft keeps a quorum with 2 of 3): so does Fridge.
// Every phase acts on the swarm through `leader(inv)`, the first manager of the inventory; when that one does not
// answer, the first manager that does acts for it in this run, and the run says so.
import { managers, type HostSpec, type Inventory } from '../inventory/types.ts';
import { UnreachableError, type Transport } from '../transport/types.ts';

export interface ActingLeader {
  /** The inventory with the acting manager first among the managers (the same object when that is the first). */
  inventory: Inventory;
  /** Managers before it that did not answer, with why. */
  skipped: Array<{ host: string; why: string }>;
}

/** Tries the managers in inventory order; throws only for bugs (an error that is not about reaching the host). */
export async function actingLeader(inv: Inventory, connect: (h: HostSpec) => Promise<Transport>): Promise<ActingLeader> {
  const ms = managers(inv);
  if (ms.length < 2) return { inventory: inv, skipped: [] };
  const skipped: ActingLeader['skipped'] = [];
  for (const m of ms) {
    try {
      await connect(m);
    } catch (err) {
      if (!(err instanceof UnreachableError)) throw err;
      skipped.push({ host: m.name, why: err.message });
      continue;
    }
    if (skipped.length === 0) return { inventory: inv, skipped };
    return { inventory: { ...inv, hosts: [m, ...inv.hosts.filter((h) => h.name !== m.name)] }, skipped };
  }
  // None answers: the first stays the leader, and the phases report it unreachable.
  return { inventory: inv, skipped: [] };
}

export function actingLeaderMessage(acting: ActingLeader): string | undefined {
  const now = managers(acting.inventory)[0];
  if (acting.skipped.length === 0 || !now) return undefined;
  const names = acting.skipped.map((s) => s.host).join(', ');
  return `the swarm's first manager${acting.skipped.length > 1 ? 's' : ''} ${names} did not answer (${acting.skipped[0]?.why ?? ''}): ${now.name}, a manager too, acts for the swarm in this run`;
}
