// What `status` reads: swarm nodes and services from the leader, taskmanagers and jobs from Flink's REST API.
import type { Step } from '../engine/types.ts';
import { readingsCheck, RUNNING_COUNT_OPERATOR, type ReadingsCheck } from '../flink/example-job.ts';
import { FlinkRest, type CheckpointCounts, type ClusterOverview, type JobSummary } from '../flink/rest.ts';
import type { Inventory } from '../inventory/types.ts';
import { SIM } from '../sim/config.ts';
import { PIPELINE_STATS_TOPIC } from '../stack/monitoring.ts';
import { shq, type Transport } from '../transport/types.ts';
import { readServices, type ServiceReplicas } from './converge.ts';
import { flinkUrl, flinkUrls } from './endpoints.ts';

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
  /** By job id: the example job's readings/s in and results/s out, for the jobs that report them. */
  pipeline?: Record<string, PipelineRates>;
  /** The sensor simulator's measurement of the newest window, when the stack runs it. */
  latency?: PipelineLatency;
  /** By job id, for running jobs: their checkpoints as Flink counts them, read at `readAt`. */
  checkpoints?: Record<string, CheckpointCounts>;
  readAt?: number;
  dashboard: string;
}

/** The example job's flow, from Flink's meters (each a rate over the last minute). */
export interface PipelineRates {
  /** Readings per second into the running count: what the job takes in, from MQTT or generated. */
  readingsPerSecond: number;
  /** Window results per second into the MQTT results sink; absent when the job publishes none. */
  resultsPerSecond?: number;
}

/** What the sensor simulator retains on PIPELINE_STATS_TOPIC (docker/services/sensors/sensors.py). */
export interface PipelineLatency {
  /** The newest window's result received back at the sensors minus its newest reading's `ts`: one clock, theirs. */
  latencyMs: number;
  windowEnd: number;
  /** How many sensors' results of that window had arrived. */
  results: number;
}

/** The sink's operator as Flink's metrics name it: `mqtt-results: Writer` with the separator made safe. */
const RESULTS_SINK_METRIC = 'mqtt-results__Writer.numRecordsInPerSecond';
const COUNT_IN_METRIC = `${RUNNING_COUNT_OPERATOR}.numRecordsInPerSecond`;

/** Readings/s into running-count and results/s into the MQTT sink; undefined for a job without running-count. */
export async function pipelineRates(rest: FlinkRest, jobId: string): Promise<PipelineRates | undefined> {
  const job = await rest.job(jobId);
  if (!job.ok) return undefined;
  const counting = job.value.vertices.find((v) => v.name === RUNNING_COUNT_OPERATOR);
  if (!counting) return undefined;
  // The window results' vertex chains the sinks: "window-stats -> (Sink: print, mqtt-results: Writer)".
  const sinking = job.value.vertices.find((v) => v.name.includes('mqtt-results'));
  const [inRate, outRate] = await Promise.all([
    rest.subtaskMetrics(jobId, counting.id, [COUNT_IN_METRIC]),
    sinking ? rest.subtaskMetrics(jobId, sinking.id, [RESULTS_SINK_METRIC]) : undefined,
  ]);
  const readingsPerSecond = inRate.ok ? inRate.value.find((m) => m.id === COUNT_IN_METRIC)?.sum : undefined;
  if (readingsPerSecond === undefined) return undefined;
  const resultsPerSecond = outRate?.ok ? outRate.value.find((m) => m.id === RESULTS_SINK_METRIC)?.sum : undefined;
  return { readingsPerSecond, ...(resultsPerSecond === undefined ? {} : { resultsPerSecond }) };
}

/** The retained message, or undefined when it is missing or not what the simulator writes. */
export function parsePipelineStats(text: string): PipelineLatency | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  const { latencyMs, windowEnd, results } = m;
  if (typeof latencyMs !== 'number' || typeof windowEnd !== 'number' || typeof results !== 'number') return undefined;
  return { latencyMs, windowEnd, results };
}

/**
 * The simulator's retained figures, read with mosquitto_sub inside the stack's Mosquitto container: it runs on
 * the leader (its placement), and the leader itself has no MQTT client. A retained message comes at once;
 * -W bounds the wait when there is none yet.
 */
export async function readPipelineLatency(leader: Transport, stack: string): Promise<PipelineLatency | undefined> {
  const service = `${stack}_mosquitto`;
  const cmd = `c=$(docker ps -q --filter label=com.docker.swarm.service.name=${shq(service)} | head -n1); [ -n "$c" ] && docker exec "$c" mosquitto_sub -h localhost -t ${shq(PIPELINE_STATS_TOPIC)} -C 1 -W 3`;
  const r = await leader.exec(cmd, { sudo: true, timeoutMs: 15_000 });
  return r.code === 0 ? parsePipelineStats(r.stdout.trim()) : undefined;
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
  const rest = new FlinkRest({ baseUrl: flinkUrls(inv), timeoutMs: 5_000 });
  const [overview, jobs] = await Promise.all([rest.overview(), rest.jobs()]);
  const running = jobs.ok ? jobs.value.filter((j) => j.state === 'RUNNING') : [];
  const readings: Record<string, ReadingsCheck> = {};
  const pipeline: Record<string, PipelineRates> = {};
  const sensing = inv.cluster.services.mosquitto && inv.cluster.services.sensors !== undefined;
  const [checks, latency] = await Promise.all([
    Promise.all(running.map(async (j) => [j.jid, ...(await Promise.all([readingsCheck(rest, j.jid), pipelineRates(rest, j.jid), rest.checkpointCounts(j.jid)]))] as const)),
    sensing ? readPipelineLatency(leader, inv.cluster.stackName) : undefined,
  ]);
  // Other jobs have no running-count operator: their read fails and they get no readings column.
  const checkpoints: Record<string, CheckpointCounts> = {};
  for (const [jid, r, rates, cp] of checks) {
    if (r.ok && r.value) readings[jid] = r.value;
    if (rates) pipeline[jid] = rates;
    if (cp.ok) checkpoints[jid] = cp.value;
  }
  return {
    nodes: nodes.code === 0 ? withDescriptions(parseNodeLs(nodes.stdout), parseNodeInspect(described.code === 0 ? described.stdout : '')) : [],
    services: await readServices(leader, inv.cluster.stackName),
    flink: overview.ok ? overview.value : undefined,
    jobs: jobs.ok ? jobs.value : [],
    ...(Object.keys(readings).length ? { readings } : {}),
    ...(Object.keys(pipeline).length ? { pipeline } : {}),
    ...(latency ? { latency } : {}),
    ...(Object.keys(checkpoints).length ? { checkpoints, readAt: Date.now() } : {}),
    dashboard: rest.baseUrl,
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

function readingsCell(c: ReadingsCheck | undefined, p: PipelineRates | undefined): string {
  const counts = c ? `${c.total} readings, ${c.gaps} lost, ${c.duplicates} duplicated` : '';
  if (!p) return counts;
  const rates = `${p.readingsPerSecond.toFixed(1)} readings/s in${p.resultsPerSecond === undefined ? '' : `, ${p.resultsPerSecond.toFixed(1)} results/s out`}`;
  return counts ? `${counts}; ${rates}` : rates;
}

/** A running job's newest completed checkpoint and its age: what a job restarted now would resume from. */
export function checkpointCell(c: CheckpointCounts | undefined, readAt: number): string {
  if (!c) return '';
  const failed = c.failed ? `, ${c.failed} failed` : '';
  if (!c.lastCompleted) return `none yet${failed}`;
  const age = Math.max(0, Math.round((readAt - c.lastCompleted.at) / 1000));
  return `#${c.lastCompleted.id}, ${age} s ago${failed}`;
}

function latencyLine(l: PipelineLatency): string {
  const end = new Date(l.windowEnd).toISOString().slice(11, 19);
  return `MQTT pipeline: end-to-end latency of the last window: ${Math.round(l.latencyMs)} ms (reading taken → its window's result back at the sensors; window ending ${end} UTC, ${l.results} results)`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function jobTable(s: ClusterStatus): string {
  const header = ['JOB', 'ID', 'STATE'];
  const cells: Array<(j: JobSummary) => string> = [(j) => j.name, (j) => j.jid, (j) => j.state];
  if (s.checkpoints) {
    const readAt = s.readAt ?? Date.now();
    header.push('LAST CHECKPOINT');
    cells.push((j) => checkpointCell(s.checkpoints?.[j.jid], readAt));
  }
  if (s.readings || s.pipeline) {
    header.push('READINGS');
    cells.push((j) => readingsCell(s.readings?.[j.jid], s.pipeline?.[j.jid]));
  }
  return table(header, s.jobs.map((j) => cells.map((c) => c(j))));
}

export function formatStatus(s: ClusterStatus): string {
  const f = s.flink;
  return [
    table(['NODE', 'STATUS', 'AVAILABILITY', 'ROLE', 'MEMORY', 'PLATFORM'], s.nodes.map((n) => [n.hostname, n.status, n.availability, n.manager, memoryCell(n), platformCell(n)])),
    '',
    table(['SERVICE', 'REPLICAS'], s.services.map((x) => [x.name, `${x.running}/${x.desired}`])),
    '',
    f ? `Flink ${f['flink-version']}: ${f.taskmanagers} taskmanagers, ${f['slots-total']} slots (${f['slots-available']} free), ${f['jobs-running']} jobs running` : 'Flink: REST API not answering',
    jobTable(s),
    ...(s.latency ? [latencyLine(s.latency)] : []),
    '',
    `Dashboard: ${s.dashboard}`,
  ].join('\n');
}
