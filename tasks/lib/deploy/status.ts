// What `status` reads: swarm nodes and services from the leader, taskmanagers and jobs from Flink's REST API.
import { readingsCheck, type ReadingsCheck } from '../flink/example-job.ts';
import { FlinkRest, type ClusterOverview, type JobSummary } from '../flink/rest.ts';
import type { Inventory } from '../inventory/types.ts';
import type { Transport } from '../transport/types.ts';
import { readServices, type ServiceReplicas } from './converge.ts';
import { flinkUrl } from './endpoints.ts';

export interface NodeRow {
  hostname: string;
  status: string;
  availability: string;
  manager: string;
}

export interface ClusterStatus {
  nodes: NodeRow[];
  services: ServiceReplicas[];
  flink: ClusterOverview | undefined;
  jobs: JobSummary[];
  /** By job id: the example job's records lost (gaps) and counted twice (duplicates), for the jobs that report them. */
  readings?: Record<string, ReadingsCheck>;
  dashboard: string;
}

export function parseNodeLs(stdout: string): NodeRow[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [hostname = '', status = '', availability = '', manager = ''] = l.split('\t');
      return { hostname, status, availability, manager: manager || 'worker' };
    });
}

export async function readStatus(inv: Inventory, leader: Transport): Promise<ClusterStatus> {
  const nodes = await leader.exec(`docker node ls --format '{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}'`, { sudo: true });
  const rest = new FlinkRest({ baseUrl: flinkUrl(inv), timeoutMs: 5_000 });
  const [overview, jobs] = await Promise.all([rest.overview(), rest.jobs()]);
  const running = jobs.ok ? jobs.value.filter((j) => j.state === 'RUNNING') : [];
  const readings: Record<string, ReadingsCheck> = {};
  // Other jobs have no running-count operator: their read fails and they get no readings column.
  for (const [jid, r] of await Promise.all(running.map(async (j) => [j.jid, await readingsCheck(rest, j.jid)] as const))) {
    if (r.ok && r.value) readings[jid] = r.value;
  }
  return {
    nodes: nodes.code === 0 ? parseNodeLs(nodes.stdout) : [],
    services: await readServices(leader, inv.cluster.stackName),
    flink: overview.ok ? overview.value : undefined,
    jobs: jobs.ok ? jobs.value : [],
    ...(Object.keys(readings).length ? { readings } : {}),
    dashboard: flinkUrl(inv),
  };
}

function readingsCell(c: ReadingsCheck | undefined): string {
  return c ? `${c.total} readings, ${c.gaps} lost, ${c.duplicates} duplicated` : '';
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatStatus(s: ClusterStatus): string {
  const f = s.flink;
  return [
    table(['NODE', 'STATUS', 'AVAILABILITY', 'ROLE'], s.nodes.map((n) => [n.hostname, n.status, n.availability, n.manager])),
    '',
    table(['SERVICE', 'REPLICAS'], s.services.map((x) => [x.name, `${x.running}/${x.desired}`])),
    '',
    f ? `Flink ${f['flink-version']}: ${f.taskmanagers} taskmanagers, ${f['slots-total']} slots (${f['slots-available']} free), ${f['jobs-running']} jobs running` : 'Flink: REST API not answering',
    s.readings
      ? table(['JOB', 'ID', 'STATE', 'READINGS'], s.jobs.map((j) => [j.name, j.jid, j.state, readingsCell(s.readings?.[j.jid])]))
      : table(['JOB', 'ID', 'STATE'], s.jobs.map((j) => [j.name, j.jid, j.state])),
    '',
    `Dashboard: ${s.dashboard}`,
  ].join('\n');
}
