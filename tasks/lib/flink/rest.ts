// A typed client for Flink's REST API (v1). Every call has a timeout; HTTP errors, refusals and timeouts come
// back as data ({ ok: false, status, message }), never as exceptions: the phases decide what a failure means.
// Responses are validated with zod at this edge, so callers trust the types.

import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { waitFor, type Probe, type WaitOptions } from '../engine/wait.ts';

/** status 0: no HTTP answer at all (refused, reset, timed out). */
export type RestError = { ok: false; status: number; message: string };
export type RestResult<T> = { ok: true; value: T } | RestError;

export const DEFAULT_TIMEOUT_MS = 10_000;
const UPLOAD_TIMEOUT_MS = 120_000;

export interface FlinkRestOptions {
  /**
   * e.g. http://127.0.0.1:8081 (no trailing /v1: the unversioned paths are the current version). Several: where the
   * jobmanager may be (HA without a routing mesh); the first that answers serves until it stops answering.
   */
  baseUrl: string | readonly string[];
  timeoutMs?: number;
}

// ---- response schemas (only the fields we use; unknown fields are dropped) ----

const Overview = z.object({
  taskmanagers: z.number(),
  'slots-total': z.number(),
  'slots-available': z.number(),
  'jobs-running': z.number(),
  'flink-version': z.string(),
});
export type ClusterOverview = z.infer<typeof Overview>;

export const JOB_STATES = [
  'INITIALIZING', 'CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING', 'SUSPENDED', 'RECONCILING',
] as const;
export type JobState = (typeof JOB_STATES)[number];
const TERMINAL: ReadonlySet<JobState> = new Set(['FAILED', 'CANCELED', 'FINISHED', 'SUSPENDED']);
export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

const TaskCounts = z.object({ total: z.number(), running: z.number(), finished: z.number() }).passthrough();
const JobSummary = z.object({
  jid: z.string(),
  name: z.string(),
  state: z.enum(JOB_STATES),
  'start-time': z.number(),
  /** Subtasks per execution state (total, running, finished, deploying, ...). */
  tasks: TaskCounts.optional(),
});
export type JobSummary = z.infer<typeof JobSummary>;
const JobsOverview = z.object({ jobs: z.array(JobSummary) });

const Vertex = z.object({
  id: z.string(),
  name: z.string(),
  parallelism: z.number(),
  // Execution states of the vertex's subtasks, aggregated (CREATED, SCHEDULED, DEPLOYING, INITIALIZING, RUNNING, ...).
  status: z.string(),
});
export type JobVertex = z.infer<typeof Vertex>;
const JobDetails = z.object({
  jid: z.string(),
  name: z.string(),
  state: z.enum(JOB_STATES),
  'start-time': z.number(),
  vertices: z.array(Vertex),
});
export type JobDetails = z.infer<typeof JobDetails>;

const ExceptionEntry = z.object({
  exceptionName: z.string(),
  stacktrace: z.string(),
  timestamp: z.number(),
  taskName: z.string().nullish(),
});
const Exceptions = z.object({
  exceptionHistory: z.object({ entries: z.array(ExceptionEntry) }),
});
export interface RootException {
  exceptionName: string;
  /** First line of the stack trace: "java.lang.IllegalStateException: what went wrong". */
  message: string;
  stacktrace: string;
  taskName?: string;
  timestamp: number;
}

const Upload = z.object({ filename: z.string(), status: z.string() });
const JarList = z.object({
  files: z.array(z.object({ id: z.string(), name: z.string(), uploaded: z.number() })),
});
export type UploadedJar = z.infer<typeof JarList>['files'][number];
const RunResponse = z.object({ jobid: z.string() });
const Trigger = z.object({ 'request-id': z.string() });
const SavepointStatus = z.object({
  status: z.object({ id: z.enum(['IN_PROGRESS', 'COMPLETED']) }),
  operation: z
    .object({
      location: z.string().nullish(),
      'failure-cause': z.object({ class: z.string().optional(), 'stack-trace': z.string().optional() }).nullish(),
    })
    // null while the operation is in progress
    .nullish(),
});
const TaskManagers = z.object({
  taskmanagers: z.array(z.object({ id: z.string(), path: z.string(), slotsNumber: z.number(), freeSlots: z.number() })),
});
export type TaskManagerInfo = z.infer<typeof TaskManagers>['taskmanagers'][number];
const VertexMetrics = z.array(z.object({ id: z.string(), value: z.string().optional() }));
const AggregatedMetrics = z.array(
  z.object({ id: z.string(), min: z.number().optional(), max: z.number().optional(), sum: z.number().optional() }),
);
export type AggregatedMetric = z.infer<typeof AggregatedMetrics>[number];
const ErrorBody = z.object({ errors: z.array(z.string()) });
const CheckpointConfig = z.object({
  externalization: z.object({ enabled: z.boolean(), delete_on_cancellation: z.boolean() }).nullish(),
});
const Checkpoints = z.object({
  latest: z
    .object({ completed: z.object({ id: z.number(), external_path: z.string().optional() }).nullish() })
    .nullish(),
});
const CheckpointCountsBody = z.object({
  counts: z.object({ completed: z.number(), failed: z.number(), restored: z.number() }),
  latest: z
    .object({
      restored: z.object({ id: z.number(), is_savepoint: z.boolean().optional() }).nullish(),
      completed: z.object({ id: z.number(), latest_ack_timestamp: z.number() }).nullish(),
    })
    .nullish(),
});
export interface CheckpointCounts {
  completed: number;
  failed: number;
  /** How often the job was restored from a checkpoint (a savepoint it was started from counts as well). */
  restored: number;
  /** The checkpoint the job last restored from, if any. */
  lastRestoredId?: number;
  /** The newest completed checkpoint (or savepoint) and when its last acknowledgement came (ms since the epoch). */
  lastCompleted?: { id: number; at: number };
}

export interface RunJarRequest {
  entryClass?: string;
  programArgsList?: string[];
  parallelism?: number;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export class FlinkRest {
  private readonly urls: string[];
  private current = 0;
  private readonly timeoutMs: number;

  constructor(opts: FlinkRestOptions) {
    const urls = typeof opts.baseUrl === 'string' ? [opts.baseUrl] : [...opts.baseUrl];
    if (urls.length === 0) throw new Error('bug: FlinkRest needs a base URL');
    this.urls = urls.map((u) => u.replace(/\/+$/, ''));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Where the REST API answered last (the first candidate until one did). */
  get baseUrl(): string {
    return this.urls[this.current] ?? '';
  }

  /** Cluster summary; 503 (components still starting) comes back as { ok: false, status: 503 }. */
  overview(): Promise<RestResult<ClusterOverview>> {
    return this.json('GET', '/overview', Overview);
  }

  /** Overview, but only once at least `minSlots` slots are registered. */
  async ready(minSlots = 1): Promise<RestResult<ClusterOverview>> {
    const o = await this.overview();
    if (!o.ok) return o;
    if (o.value['slots-total'] < minSlots) {
      return { ok: false, status: 503, message: `${o.value['slots-total']} task slot(s) registered, waiting for ${minSlots}` };
    }
    return o;
  }

  /** Uploads a jar as multipart field `jarfile`; returns the jar id (the stored file's name). */
  async uploadJar(jarPath: string, fileName = path.basename(jarPath)): Promise<RestResult<string>> {
    let blob: Blob;
    try {
      blob = await openAsBlob(jarPath, { type: 'application/java-archive' });
    } catch (err) {
      return { ok: false, status: 0, message: `cannot read ${jarPath}: ${describe(err)}` };
    }
    const form = new FormData();
    form.append('jarfile', blob, fileName);
    const r = await this.json('POST', '/jars/upload', Upload, { body: form, timeoutMs: Math.max(this.timeoutMs, UPLOAD_TIMEOUT_MS) });
    if (!r.ok) return r;
    if (r.value.status !== 'success') return { ok: false, status: 200, message: `upload answered status ${r.value.status}` };
    return { ok: true, value: path.basename(r.value.filename) };
  }

  async jars(): Promise<RestResult<UploadedJar[]>> {
    const r = await this.json('GET', '/jars', JarList);
    return r.ok ? { ok: true, value: r.value.files } : r;
  }

  async deleteJar(jarId: string): Promise<RestResult<void>> {
    return this.noBody('DELETE', `/jars/${encodeURIComponent(jarId)}`);
  }

  /** Runs an uploaded jar; the job id on success. A main() that throws comes back as the error's message. */
  async runJar(jarId: string, req: RunJarRequest = {}): Promise<RestResult<string>> {
    const body: Record<string, unknown> = {};
    if (req.entryClass !== undefined) body.entryClass = req.entryClass;
    if (req.programArgsList !== undefined) body.programArgsList = req.programArgsList;
    if (req.parallelism !== undefined) body.parallelism = req.parallelism;
    if (req.savepointPath !== undefined) body.savepointPath = req.savepointPath;
    if (req.allowNonRestoredState !== undefined) body.allowNonRestoredState = req.allowNonRestoredState;
    // Running main() and building the job graph can take a while on a Raspberry Pi.
    const r = await this.json('POST', `/jars/${encodeURIComponent(jarId)}/run`, RunResponse, {
      body: JSON.stringify(body),
      timeoutMs: Math.max(this.timeoutMs, 60_000),
    });
    return r.ok ? { ok: true, value: r.value.jobid } : r;
  }

  async jobs(): Promise<RestResult<JobSummary[]>> {
    const r = await this.json('GET', '/jobs/overview', JobsOverview);
    return r.ok ? { ok: true, value: r.value.jobs } : r;
  }

  /**
   * A job's current state from the dispatcher. Unlike /jobs/:id, which Flink serves from a cache refreshed
   * every web.refresh-interval (3 s), this is never stale: a wait on it ends as soon as the state changes.
   */
  async jobStatus(jobId: string): Promise<RestResult<JobSummary>> {
    const r = await this.jobs();
    if (!r.ok) return r;
    const job = r.value.find((j) => j.jid === jobId);
    return job ? { ok: true, value: job } : { ok: false, status: 404, message: `no job ${jobId} on ${this.baseUrl}` };
  }

  /** The job's plan and vertices; may be up to web.refresh-interval old (see jobStatus). */
  job(jobId: string): Promise<RestResult<JobDetails>> {
    return this.json('GET', `/jobs/${encodeURIComponent(jobId)}`, JobDetails);
  }

  /** The most recent failure of a job (exceptionHistory is newest first); undefined when it never failed. */
  async exceptions(jobId: string): Promise<RestResult<RootException | undefined>> {
    const r = await this.json('GET', `/jobs/${encodeURIComponent(jobId)}/exceptions`, Exceptions);
    if (!r.ok) return r;
    const e = r.value.exceptionHistory.entries[0];
    if (!e) return { ok: true, value: undefined };
    const root: RootException = {
      exceptionName: e.exceptionName,
      message: rootCauseLine(e.stacktrace) ?? e.exceptionName,
      stacktrace: e.stacktrace,
      timestamp: e.timestamp,
    };
    if (e.taskName) root.taskName = e.taskName;
    return { ok: true, value: root };
  }

  /** Stops a streaming job with a savepoint (no drain: timers and windows stay in the savepoint); its location. */
  async stopWithSavepoint(jobId: string, targetDirectory: string, wait: WaitOptions = { timeoutMs: 120_000 }): Promise<RestResult<string>> {
    const t = await this.json('POST', `/jobs/${encodeURIComponent(jobId)}/stop`, Trigger, {
      body: JSON.stringify({ targetDirectory, drain: false }),
    });
    if (!t.ok) return t;
    const location = await this.savepointLocation(jobId, t.value['request-id'], wait);
    if (!location.ok) return location;
    // The savepoint completes a moment before the job leaves RUNNING; callers resubmit right after this.
    const ended = await this.waitForState(jobId, isTerminal, wait);
    return ended.ok ? location : { ...ended, message: `savepoint ${location.value} taken, but ${ended.message}` };
  }

  /** Where the job's latest completed checkpoint was written, if it has one that outlives a cancel. */
  async latestCheckpoint(jobId: string): Promise<RestResult<{ id: number; path: string } | undefined>> {
    const cfg = await this.json('GET', `/jobs/${encodeURIComponent(jobId)}/checkpoints/config`, CheckpointConfig);
    if (!cfg.ok) return cfg;
    const x = cfg.value.externalization;
    if (!x?.enabled || x.delete_on_cancellation) return { ok: true, value: undefined };
    const r = await this.json('GET', `/jobs/${encodeURIComponent(jobId)}/checkpoints`, Checkpoints);
    if (!r.ok) return r;
    const c = r.value.latest?.completed;
    return { ok: true, value: c?.external_path ? { id: c.id, path: c.external_path } : undefined };
  }

  /** The job's checkpoint counters, and which checkpoint it last restored from. */
  async checkpointCounts(jobId: string): Promise<RestResult<CheckpointCounts>> {
    const r = await this.json('GET', `/jobs/${encodeURIComponent(jobId)}/checkpoints`, CheckpointCountsBody);
    if (!r.ok) return r;
    const out: CheckpointCounts = { ...r.value.counts };
    const restored = r.value.latest?.restored;
    if (restored) out.lastRestoredId = restored.id;
    const completed = r.value.latest?.completed;
    if (completed) out.lastCompleted = { id: completed.id, at: completed.latest_ack_timestamp };
    return { ok: true, value: out };
  }

  /** Waits until the job's state satisfies `accept`; the state it reached. */
  async waitForState(jobId: string, accept: (s: JobState) => boolean, wait: WaitOptions): Promise<RestResult<JobState>> {
    return waitFor(async (): Promise<Probe<RestResult<JobState>>> => {
      const j = await this.jobStatus(jobId);
      if (!j.ok) return j.status === 0 ? { done: false, last: j.message } : { done: true, result: j };
      if (accept(j.value.state)) return { done: true, result: { ok: true, value: j.value.state } };
      return { done: false, last: `job ${jobId} is ${j.value.state}` };
    }, wait);
  }

  /** Takes a savepoint of a running job (and cancels it when `cancelJob`); its location. */
  async triggerSavepoint(
    jobId: string,
    targetDirectory: string,
    cancelJob = false,
    wait: WaitOptions = { timeoutMs: 120_000 },
  ): Promise<RestResult<string>> {
    const t = await this.json('POST', `/jobs/${encodeURIComponent(jobId)}/savepoints`, Trigger, {
      body: JSON.stringify({ 'target-directory': targetDirectory, 'cancel-job': cancelJob }),
    });
    if (!t.ok) return t;
    return this.savepointLocation(jobId, t.value['request-id'], wait);
  }

  /** Polls an asynchronous savepoint operation until it completes. */
  async savepointLocation(jobId: string, requestId: string, wait: WaitOptions): Promise<RestResult<string>> {
    const url = `/jobs/${encodeURIComponent(jobId)}/savepoints/${encodeURIComponent(requestId)}`;
    return waitFor(async (): Promise<Probe<RestResult<string>>> => {
      const s = await this.json('GET', url, SavepointStatus);
      if (!s.ok) return s.status === 0 ? { done: false, last: s.message } : { done: true, result: s };
      if (s.value.status.id === 'IN_PROGRESS') return { done: false, last: 'savepoint in progress' };
      const op = s.value.operation;
      if (op?.location) return { done: true, result: { ok: true, value: op.location } };
      const cause = op?.['failure-cause'];
      const message = (cause?.['stack-trace'] && rootCauseLine(cause['stack-trace'])) ?? cause?.class ?? 'savepoint failed without a cause';
      return { done: true, result: { ok: false, status: 200, message } };
    }, wait);
  }

  cancel(jobId: string): Promise<RestResult<void>> {
    return this.noBody('PATCH', `/jobs/${encodeURIComponent(jobId)}?mode=cancel`);
  }

  async taskmanagers(): Promise<RestResult<TaskManagerInfo[]>> {
    const r = await this.json('GET', '/taskmanagers', TaskManagers);
    return r.ok ? { ok: true, value: r.value.taskmanagers } : r;
  }

  /** Metrics of one vertex, per subtask ("0.running-count.readingsTotal"); absent metrics are left out. */
  async vertexMetrics(jobId: string, vertexId: string, ids: string[]): Promise<RestResult<Record<string, string>>> {
    const q = ids.length ? `?get=${ids.map(encodeURIComponent).join(',')}` : '';
    const r = await this.json('GET', `/jobs/${encodeURIComponent(jobId)}/vertices/${encodeURIComponent(vertexId)}/metrics${q}`, VertexMetrics);
    if (!r.ok) return r;
    const out: Record<string, string> = {};
    for (const m of r.value) if (m.value !== undefined) out[m.id] = m.value;
    return { ok: true, value: out };
  }

  /** Metrics of one vertex aggregated over its subtasks ("running-count.readingsTotal" → min/max/sum). */
  async subtaskMetrics(jobId: string, vertexId: string, ids: string[]): Promise<RestResult<AggregatedMetric[]>> {
    const q = `?get=${ids.map(encodeURIComponent).join(',')}&agg=min,max,sum`;
    return this.json('GET', `/jobs/${encodeURIComponent(jobId)}/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics${q}`, AggregatedMetrics);
  }

  /** The TaskManager's stdout file (what a print sink writes), when it runs as a daemon with a .out file. */
  taskmanagerStdout(tmId: string): Promise<RestResult<string>> {
    return this.text('GET', `/taskmanagers/${encodeURIComponent(tmId)}/stdout`);
  }

  // ---- transport ----

  private async json<S extends z.ZodType>(
    method: Method,
    urlPath: string,
    schema: S,
    init: { body?: string | FormData; timeoutMs?: number } = {},
  ): Promise<RestResult<z.infer<S>>> {
    const r = await this.request(method, urlPath, init);
    if (!r.ok) return r;
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.value);
    } catch {
      return { ok: false, status: r.status, message: `${method} ${urlPath}: not JSON: ${r.value.slice(0, 200)}` };
    }
    const v = schema.safeParse(parsed);
    if (!v.success) {
      return { ok: false, status: r.status, message: `${method} ${urlPath}: unexpected answer (${v.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})` };
    }
    return { ok: true, value: v.data };
  }

  private async text(method: Method, urlPath: string): Promise<RestResult<string>> {
    const r = await this.request(method, urlPath, {});
    return r.ok ? { ok: true, value: r.value } : r;
  }

  private async noBody(method: Method, urlPath: string): Promise<RestResult<void>> {
    const r = await this.request(method, urlPath, {});
    return r.ok ? { ok: true, value: undefined } : r;
  }

  /** The current endpoint, then, when it gives no HTTP answer at all, the other candidates in turn. */
  private async request(
    method: Method,
    urlPath: string,
    init: { body?: string | FormData; timeoutMs?: number },
  ): Promise<{ ok: true; status: number; value: string } | RestError> {
    const first = await this.requestAt(this.current, method, urlPath, init);
    if (first.ok || first.status !== 0 || this.urls.length === 1) return first;
    for (let i = 0; i < this.urls.length; i++) {
      if (i === this.current) continue;
      const r = await this.requestAt(i, method, urlPath, init);
      if (r.ok || r.status !== 0) {
        this.current = i;
        return r;
      }
    }
    return { ...first, message: `${first.message} (nor at ${this.urls.filter((_, i) => i !== this.current).join(', ')})` };
  }

  private async requestAt(
    index: number,
    method: Method,
    urlPath: string,
    init: { body?: string | FormData; timeoutMs?: number },
  ): Promise<{ ok: true; status: number; value: string } | RestError> {
    const base = this.urls[index] ?? '';
    const timeoutMs = init.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { accept: 'application/json' };
    // FormData sets its own multipart content type with the boundary.
    if (typeof init.body === 'string') headers['content-type'] = 'application/json';
    let res: Response;
    let body: string;
    try {
      res = await fetch(`${base}${urlPath}`, {
        method,
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        ...(init.body !== undefined ? { body: init.body } : {}),
      });
      body = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const message = timedOut ? `no answer within ${timeoutMs} ms` : networkMessage(err);
      return { ok: false, status: 0, message: `${method} ${base}${urlPath}: ${message}` };
    }
    if (res.ok) return { ok: true, status: res.status, value: body };
    return { ok: false, status: res.status, message: errorMessage(res.status, body) };
  }
}

/** Flink answers errors as {"errors": [...]}: a headline, often with the server's stack trace in it or after it. */
export function errorMessage(status: number, body: string): string {
  let errors: string[] = [];
  try {
    const e = ErrorBody.safeParse(JSON.parse(body));
    if (e.success) errors = e.data.errors;
  } catch {
    // not JSON: use the text as is
  }
  if (errors.length === 0) return `HTTP ${status}: ${body.slice(0, 500) || '(empty body)'}`;
  const headline = (errors[0] ?? '').split('\n')[0]?.replace(/^[\w.$]+(Exception|Error): /, '') ?? '';
  const cause = rootCauseLine(errors.join('\n'));
  return cause && !headline.includes(cause) ? `HTTP ${status}: ${headline} (${cause})` : `HTTP ${status}: ${headline}`;
}

/**
 * The line that says what really went wrong: the message of the deepest "Caused by:" of a Java stack trace
 * (or its first line). "The main method caused an error: X" wrappers are reduced to X's own exception line.
 */
export function rootCauseLine(stacktrace: string): string | undefined {
  const lines = stacktrace.split('\n').map((l) => l.trim());
  const causes = lines.filter((l) => l.startsWith('Caused by: ')).map((l) => l.slice('Caused by: '.length));
  const last = causes[causes.length - 1];
  if (last) return last;
  const first = lines.find((l) => l && !l.startsWith('<Exception on server side:'));
  return first || undefined;
}

function networkMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) return cause.message;
    return err.message;
  }
  return String(err);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
