// Flink's high availability on a swarm of Pis: a jobmanager runs on each of the jobmanager hosts (a node label),
// a ZooKeeper ensemble elects the leader, and when its Pi dies a standby takes over: it reads the jobs' graphs and
// their last checkpoints from high-availability.storageDir on the shared state storage.
//
// The servers run from the Flink image itself (its flink-dist carries ZooKeeper and Flink's quorum peer, which
// `bin/zookeeper.sh` starts), so no other image has to be built for three platforms and pulled onto a Pi. One
// service per server: a server's id and its peers' names must be stable, which replicas of one service are not.

import { JOBMANAGER_LABEL, type Inventory } from '../inventory/types.ts';
import type { ComposeService } from './compose-types.ts';
import { formatMiB } from './memory.ts';
import { deployPolicies, NETWORK } from './parts.ts';

export const ZOOKEEPER = {
  clientPort: 2181,
  /** ZooKeeper's own defaults for the quorum and leader-election ports. */
  peerPort: 2888,
  electionPort: 3888,
  /** A few Flink clients and a few hundred znodes: the JVM at -Xmx32m stays near 100 MiB resident. */
  heapMiB: 32,
  memoryMiB: 160,
  dataVolume: 'zookeeper-data',
  dataDir: '/opt/flink/zookeeper',
} as const;

export function zookeeperServiceName(id: number): string {
  return `zookeeper-${id}`;
}

/**
 * ZOO_SERVERS as the official zookeeper image reads it, space-separated `server.N=host:peer:election` (the client
 * port is clientPort, for every server alike).
 */
export function zooServers(count: number): string {
  return Array.from({ length: count }, (_, i) => `server.${i + 1}=${zookeeperServiceName(i + 1)}:${ZOOKEEPER.peerPort}:${ZOOKEEPER.electionPort}`).join(' ');
}

/**
 * Flink's official keys for ZooKeeper HA. The session timeout decides how soon a killed jobmanager's leadership
 * ends (its ephemeral znode lives until then) and the next one can take over: 10 s, instead of Flink's 60 s, is
 * still five heartbeats of a JVM on a busy Pi. A server that dies only moves a client to another one: with
 * suspended connections tolerated that costs no leadership, so no job restarts for the loss of a ZooKeeper Pi.
 */
export function haProperties(inv: Inventory): Record<string, unknown> {
  const ha = inv.cluster.flink.highAvailability;
  if (ha.kind !== 'zookeeper') return {};
  const state = inv.cluster.flink.stateDir.replace(/\/+$/, '');
  return {
    'high-availability.type': 'zookeeper',
    'high-availability.zookeeper.quorum': ha.zookeeperHosts.map((_, i) => `${zookeeperServiceName(i + 1)}:${ZOOKEEPER.clientPort}`).join(','),
    'high-availability.storageDir': `file://${state}/ha`,
    'high-availability.cluster-id': `/${inv.cluster.stackName}`,
    'high-availability.zookeeper.client.session-timeout': 10000,
    'high-availability.zookeeper.client.connection-timeout': 5000,
    'high-availability.zookeeper.client.tolerate-suspended-connections': true,
  };
}

/** The placement of the jobmanager: its one host, or under HA the hosts labelled for it (one on each). */
export function jobmanagerConstraints(inv: Inventory): string[] {
  const flink = inv.cluster.flink;
  return flink.highAvailability.kind === 'zookeeper' ? [`node.labels.${JOBMANAGER_LABEL} == yes`] : [`node.hostname == ${flink.jobmanagerHost}`];
}

/** zookeeper-1..N, each pinned to its Pi with its data on that Pi's own disk. */
export function zookeeperServices(inv: Inventory, imageRef: string, dnsrr: boolean): { services: Record<string, ComposeService>; volumes: string[] } {
  const ha = inv.cluster.flink.highAvailability;
  if (ha.kind !== 'zookeeper') return { services: {}, volumes: [] };
  const servers = zooServers(ha.zookeeperHosts.length);
  const services = Object.fromEntries(
    ha.zookeeperHosts.map((host, i): [string, ComposeService] => [
      zookeeperServiceName(i + 1),
      {
        image: imageRef,
        command: ['zookeeper'],
        environment: { ZOO_MY_ID: String(i + 1), ZOO_SERVERS: servers, ZOO_HEAP_MB: String(ZOOKEEPER.heapMiB) },
        networks: [NETWORK],
        volumes: [{ type: 'volume', source: ZOOKEEPER.dataVolume, target: ZOOKEEPER.dataDir }],
        stop_grace_period: '10s',
        healthcheck: { interval: '2s', timeout: '5s', retries: 5, start_period: '120s' },
        deploy: {
          mode: 'replicated',
          replicas: 1,
          endpoint_mode: dnsrr ? 'dnsrr' : 'vip',
          placement: { constraints: [`node.hostname == ${host}`] },
          resources: { limits: { memory: formatMiB(ZOOKEEPER.memoryMiB) }, reservations: { memory: formatMiB(ZOOKEEPER.memoryMiB) } },
          // As the Flink services: a new image restarts the ensemble with them, not one server every 40 s.
          ...deployPolicies('flink'),
        },
      },
    ]),
  );
  return { services, volumes: [ZOOKEEPER.dataVolume] };
}
