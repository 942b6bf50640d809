// Where the Flink dashboard/REST API answers for an inventory: with host-mode ports (no IPVS) only on the
// jobmanager's node; with the routing mesh on any node, and the leader is the one we know is up.
import { FlinkRest } from '../flink/rest.ts';
import type { Inventory } from '../inventory/types.ts';
import { leader } from '../inventory/types.ts';

export const FLINK_REST_PORT = 8081;

export function flinkUrl(inv: Inventory): string {
  const jm = inv.hosts.find((h) => h.name === inv.cluster.flink.jobmanagerHost);
  const host = inv.cluster.dnsrr && jm ? jm : leader(inv);
  return `http://${host.address}:${FLINK_REST_PORT}`;
}

/**
 * Every address the dashboard/REST API may answer at. With host-mode ports and HA the jobmanager's node is any of
 * its candidates, the one it runs on now first as far as the inventory knows; with the routing mesh, any node.
 */
export function flinkUrls(inv: Inventory): string[] {
  const flink = inv.cluster.flink;
  if (!inv.cluster.dnsrr) return [flinkUrl(inv)];
  return flink.jobmanagerHosts
    .map((name) => inv.hosts.find((h) => h.name === name))
    .filter((h) => h !== undefined)
    .map((h) => `http://${h.address}:${FLINK_REST_PORT}`);
}

/** The one of flinkUrls that answers now (the first when none does): for messages and single-address clients. */
export async function flinkUrlNow(inv: Inventory): Promise<string> {
  const urls = flinkUrls(inv);
  if (urls.length < 2) return urls[0] ?? flinkUrl(inv);
  const rest = new FlinkRest({ baseUrl: urls, timeoutMs: 3_000 });
  await rest.overview();
  return rest.baseUrl;
}

export function stackDir(inv: Inventory): string {
  return `/opt/fridge/stacks/${inv.cluster.stackName}`;
}
