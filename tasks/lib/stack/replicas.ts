// A `scale` outlives the next deploy (docker stack deploy alone would reset it: docker/cli#2235) until the
// inventory's own count changes. Pure: the deploy step gathers the live service, this decides.

export const INVENTORY_REPLICAS_LABEL = 'fridge.inventory-replicas';

export interface LiveTaskmanagers {
  /** Replicas the running service wants. */
  replicas: number;
  /** The inventory's count when the service was last deployed (its label); undefined before this label existed. */
  inventoryReplicas: number | undefined;
}

export type ReplicaDecision =
  | { keep: false; why?: string }
  | { keep: true; replicas: number; why: string };

export function keepScaledReplicas(live: LiveTaskmanagers | undefined, inventoryReplicas: number, capacity: number): ReplicaDecision {
  if (!live || live.replicas === inventoryReplicas) return { keep: false };
  if (live.inventoryReplicas === undefined) return { keep: false, why: `taskmanager: ${live.replicas} → ${inventoryReplicas} replicas (the inventory's count at the last deploy is not known)` };
  if (live.inventoryReplicas !== inventoryReplicas) return { keep: false, why: `taskmanager: ${live.replicas} → ${inventoryReplicas} replicas (the inventory's count changed)` };
  if (live.replicas > capacity) {
    return { keep: false, why: `taskmanager: ${live.replicas} → ${inventoryReplicas} replicas (${live.replicas} no longer fit the placement rules: at most ${capacity})` };
  }
  return {
    keep: true,
    replicas: live.replicas,
    why: `taskmanager: keeping the ${live.replicas} replicas set by scale (the inventory says ${inventoryReplicas}; changing it there wins)`,
  };
}

/** A second compose file for `docker stack deploy -c <stack> -c -`: only the count changes. */
export function replicasOverride(replicas: number): string {
  return `version: '3.8'\nservices:\n  taskmanager:\n    deploy:\n      replicas: ${replicas}\n`;
}

export function parseLiveTaskmanagers(line: string): LiveTaskmanagers | undefined {
  const [replicas, label] = line.trim().split(/\s+/);
  if (!replicas || !/^\d+$/.test(replicas)) return undefined;
  const inv = label && /^\d+$/.test(label) ? Number(label) : undefined;
  return { replicas: Number(replicas), inventoryReplicas: inv };
}
