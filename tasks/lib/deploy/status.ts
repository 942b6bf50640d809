// What `status` reads: swarm nodes and services from the leader, taskmanagers and jobs from Flink's REST API.
import type { Step } from '../engine/types.ts';
import { readingsCheck, type ReadingsCheck } from '../flink/example-job.ts';
import { FlinkRest, type ClusterOverview, type JobSummary } from '../flink/rest.ts';
import type { Inventory } from '../inventory/types.ts';
import { SIM } from '../sim/config.ts';
import type { Transport } from '../transport/types.ts';
import { readServices, type ServiceReplicas } from './converge.ts';
import { flinkUrl } from './endpoints.ts';

export interface NodeRow {
  hostname: string;
  status: string;
  availability: string;
  manager: string;
  id?: string;
  /** What the node's engine reports to swarm, which schedules reservations against it. */
  memoryBytes?: number;
  /** The engine's architecture (x86_64, armv7l, aarch64). */
  arch?: string;
  /** The platform a virtual node stands for (its `fridge.emulates` label), where its engine cannot say. */
  emulates?: string;
}

/** From `docker node inspect`: what `docker node ls` does not show. */
export type NodeDescription = Required<Pick<NodeRow, 'memoryBytes' | 'arch'>> & Pick<NodeRow, 'emulates'>;

export interface ClusterStatus {
  nodes: NodeRow[];
  services: ServiceReplicas[];
  flink: ClusterOverview | undefined;
  jobs: JobSummary[];
  /** By job id: the example job's records lost (gaps) and counted twice (duplicates), for the jobs that report them. */
  readings?: Record<string, ReadingsCheck>;
  dashboard: string;
}

const NODE_LS = `docker node ls --format '{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.ID}}'`;
const NODE_INSPECT = `docker node inspect --format '{{.ID}}\t{{.Description.Resources.MemoryBytes}}\t{{.Description.Platform.Architecture}}\t{{with .Spec.Labels}}{{index . "${SIM.emulatesLabel}"}}{{end}}' $(docker node ls -q)`;

export function parseNodeLs(stdout: string): NodeRow[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [hostname = '', status = '', availability = '', manager = '', id = ''] = l.split('\t');
      return { hostname, status, availability, manager: manager || 'worker', ...(id ? { id } : {}) };
    });
}

/** `docker node inspect` lines (NODE_INSPECT) by node id. */
export function parseNodeInspect(stdout: string): Map<string, NodeDescription> {
  const out = new Map<string, NodeDescription>();
  for (const l of stdout.split('\n').filter(Boolean)) {
    const [id = '', mem = '', arch = '', emulates = ''] = l.split('\t');
    const memoryBytes = Number(mem);
    if (!id || !Number.isFinite(memoryBytes)) continue;
    out.set(id, { memoryBytes, arch, ...(emulates ? { emulates } : {}) });
  }
  return out;
}

export function withDescriptions(rows: NodeRow[], described: Map<string, NodeDescription>): NodeRow[] {
  return rows.map((r) => ({ ...r, ...(r.id ? described.get(r.id) : undefined) }));
}

export async function readStatus(inv: Inventory, leader: Transport): Promise<ClusterStatus> {
  const [nodes, described] = await Promise.all([leader.exec(NODE_LS, { sudo: true }), leader.exec(NODE_INSPECT, { sudo: true })]);
  const rest = new FlinkRest({ baseUrl: flinkUrl(inv), timeoutMs: 5_000 });
  const [overview, jobs] = await Promise.all([rest.overview(), rest.jobs()]);
  const running = jobs.ok ? jobs.value.filter((j) => j.state === 'RUNNING') : [];
  const readings: Record<string, ReadingsCheck> = {};
  // Other jobs have no running-count operator: their read fails and they get no readings column.
  for (const [jid, r] of await Promise.all(running.map(async (j) => [j.jid, await readingsCheck(rest, j.jid)] as const))) {
    if (r.ok && r.value) readings[jid] = r.value;
  }
  return {
    nodes: nodes.code === 0 ? withDescriptions(parseNodeLs(nodes.stdout), parseNodeInspect(described.code === 0 ? described.stdout : '')) : [],
    services: await readServices(leader, inv.cluster.stackName),
    flink: overview.ok ? overview.value : undefined,
    jobs: jobs.ok ? jobs.value : [],
    ...(Object.keys(readings).length ? { readings } : {}),
    dashboard: flinkUrl(inv),
  };
}

/** Read-only: its output is what was read; the phase shows it after the play. */
export const statusStep: Step<ClusterStatus> = {
  name: 'status',
  gather: ({ transport, inventory }) => readStatus(inventory, transport),
  plan: (s, { host }) => (s.nodes.length ? { kind: 'ok' } : { kind: 'fail', msg: `${host.name} is not a swarm manager: run the swarm phase` }),
};

function memoryCell(n: NodeRow): string {
  return n.memoryBytes === undefined ? '' : `${Math.round(n.memoryBytes / 1024 / 1024)} MiB`;
}

function platformCell(n: NodeRow): string {
  if (n.emulates) return `${n.arch ?? '?'} (stands for ${n.emulates})`;
  return n.arch ?? '';
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
    table(['NODE', 'STATUS', 'AVAILABILITY', 'ROLE', 'MEMORY', 'PLATFORM'], s.nodes.map((n) => [n.hostname, n.status, n.availability, n.manager, memoryCell(n), platformCell(n)])),
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
