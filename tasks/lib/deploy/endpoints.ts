// Where the Flink dashboard/REST API answers for an inventory: with host-mode ports (no IPVS) only on the
// jobmanager's node; with the routing mesh on any node, and the leader is the one we know is up.
import type { Inventory } from '../inventory/types.ts';
import { leader } from '../inventory/types.ts';

export const FLINK_REST_PORT = 8081;

export function flinkUrl(inv: Inventory): string {
  const jm = inv.hosts.find((h) => h.name === inv.cluster.flink.jobmanagerHost);
  const host = inv.cluster.dnsrr && jm ? jm : leader(inv);
  return `http://${host.address}:${FLINK_REST_PORT}`;
}

export function stackDir(inv: Inventory): string {
  return `/opt/fridge/stacks/${inv.cluster.stackName}`;
}
