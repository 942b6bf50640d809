// The REST client's requests, byte for byte, against a tiny local HTTP server that plays Flink's answers.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorMessage, FlinkRest, rootCauseLine } from '../../tasks/lib/flink/rest.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: Buffer;
}

type Reply = { status: number; body: unknown } | 'hang';
let routes: Record<string, Reply | Reply[]> = {};
let seen: Seen[] = [];
let server: http.Server;
let base = '';
let dir = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = `${req.method} ${req.url}`;
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
      const route = routes[key];
      const reply = Array.isArray(route) ? (route.length > 1 ? route.shift() : route[0]) : route;
      if (reply === 'hang') return; // never answers: the client's timeout must fire
      const r = reply ?? { status: 404, body: { errors: [`Not found: ${key}`] } };
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(path.join(os.tmpdir(), 'fridge-job-rest-'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  routes = {};
  seen = [];
});

const client = () => new FlinkRest({ baseUrl: `${base}/`, timeoutMs: 1_000 });

describe('FlinkRest', () => {
  it('reads the overview and treats 503 as not ready', async () => {
    routes['GET /overview'] = [
      { status: 503, body: { errors: ['Service temporarily unavailable due to an ongoing leader election. Please refresh.'] } },
      { status: 200, body: { taskmanagers: 1, 'slots-total': 2, 'slots-available': 1, 'jobs-running': 1, 'jobs-finished': 0, 'flink-version': '2.3.0', 'flink-commit': 'x' } },
    ];
    const first = await client().overview();
    expect(first).toEqual({ ok: false, status: 503, message: 'HTTP 503: Service temporarily unavailable due to an ongoing leader election. Please refresh.' });
    const second = await client().overview();
    expect(second).toEqual({ ok: true, value: { taskmanagers: 1, 'slots-total': 2, 'slots-available': 1, 'jobs-running': 1, 'flink-version': '2.3.0' } });
  });

  it('uploads a jar as multipart field jarfile and returns the stored name as jar id', async () => {
    const jar = path.join(dir, 'job.jar');
    await writeFile(jar, Buffer.from('PK\u0003\u0004 not really a jar'));
    routes['POST /jars/upload'] = { status: 200, body: { filename: '/tmp/flink-web-1/flink-web-upload/5e7f_job-abc.jar', status: 'success' } };
    const r = await client().uploadJar(jar, 'job-abc.jar');
    expect(r).toEqual({ ok: true, value: '5e7f_job-abc.jar' });
    const req = seen[0];
    expect(req?.method).toBe('POST');
    expect(req?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const body = req?.body.toString('latin1') ?? '';
    expect(body).toContain('Content-Disposition: form-data; name="jarfile"; filename="job-abc.jar"');
    expect(body).toContain('Content-Type: application/java-archive');
    expect(body).toContain('not really a jar');
  });

  it('reports a missing jar file as data', async () => {
    const r = await client().uploadJar(path.join(dir, 'missing.jar'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('cannot read');
    expect(seen).toHaveLength(0);
  });

  it('runs a jar with exactly the fields given', async () => {
    routes['POST /jars/5e7f_job.jar/run'] = { status: 200, body: { jobid: 'a'.repeat(32) } };
    const r = await client().runJar('5e7f_job.jar', {
      entryClass: 'fridge.Main',
      programArgsList: ['--rate', '10', 'with space'],
      parallelism: 2,
      savepointPath: 'file:///sp/savepoint-1',
      allowNonRestoredState: true,
    });
    expect(r).toEqual({ ok: true, value: 'a'.repeat(32) });
    expect(seen[0]?.contentType).toBe('application/json');
    expect(JSON.parse(seen[0]?.body.toString() ?? '')).toEqual({
      entryClass: 'fridge.Main',
      programArgsList: ['--rate', '10', 'with space'],
      parallelism: 2,
      savepointPath: 'file:///sp/savepoint-1',
      allowNonRestoredState: true,
    });
    await client().runJar('5e7f_job.jar');
    expect(JSON.parse(seen[1]?.body.toString() ?? '')).toEqual({});
  });

  it('turns a failed main() into its root cause', async () => {
    const trace =
      'org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\tat x.y(Z.java:1)\n' +
      'Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: boom\n\tat a.b(C.java:2)\n' +
      'Caused by: java.lang.IllegalArgumentException: boom\n\tat d.e(F.java:3)\n';
    routes['POST /jars/j.jar/run'] = { status: 400, body: { errors: [trace] } };
    const r = await client().runJar('j.jar');
    expect(r).toEqual({ ok: false, status: 400, message: 'HTTP 400: Could not execute application. (java.lang.IllegalArgumentException: boom)' });
  });

  it('stops with a savepoint: camelCase body, polls until COMPLETED, waits for the job to end', async () => {
    const jid = 'b'.repeat(32);
    routes[`POST /jobs/${jid}/stop`] = { status: 202, body: { 'request-id': 'req1' } };
    routes[`GET /jobs/${jid}/savepoints/req1`] = [
      { status: 200, body: { status: { id: 'IN_PROGRESS' }, operation: null } },
      { status: 200, body: { status: { id: 'COMPLETED' }, operation: { location: 'file:/sp/savepoint-b-1' } } },
    ];
    // The job's end is read from /jobs/overview: /jobs/:id comes from a cache up to 3 s old.
    const other = { jid: 'o'.repeat(32), name: 'other', state: 'RUNNING', 'start-time': 1 };
    routes['GET /jobs/overview'] = [
      { status: 200, body: { jobs: [other, { jid, name: 'n', state: 'RUNNING', 'start-time': 1 }] } },
      { status: 200, body: { jobs: [other, { jid, name: 'n', state: 'FINISHED', 'start-time': 1 }] } },
    ];
    const r = await client().stopWithSavepoint(jid, 'file:///sp', { timeoutMs: 5_000, intervalMs: 10 });
    expect(r).toEqual({ ok: true, value: 'file:/sp/savepoint-b-1' });
    expect(JSON.parse(seen[0]?.body.toString() ?? '')).toEqual({ targetDirectory: 'file:///sp', drain: false });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      `POST /jobs/${jid}/stop`,
      `GET /jobs/${jid}/savepoints/req1`,
      `GET /jobs/${jid}/savepoints/req1`,
      'GET /jobs/overview',
      'GET /jobs/overview',
    ]);
  });

  it('triggers a savepoint with hyphenated fields and reports a failed one with its cause', async () => {
    const jid = 'c'.repeat(32);
    routes[`POST /jobs/${jid}/savepoints`] = { status: 202, body: { 'request-id': 'req2' } };
    routes[`GET /jobs/${jid}/savepoints/req2`] = {
      status: 200,
      body: { status: { id: 'COMPLETED' }, operation: { 'failure-cause': { class: 'java.util.concurrent.CompletionException', 'stack-trace': 'x: y\nCaused by: java.io.IOException: disk full\n' } } },
    };
    const r = await client().triggerSavepoint(jid, 'file:///sp', true, { timeoutMs: 2_000, intervalMs: 10 });
    expect(r).toEqual({ ok: false, status: 200, message: 'java.io.IOException: disk full' });
    expect(JSON.parse(seen[0]?.body.toString() ?? '')).toEqual({ 'target-directory': 'file:///sp', 'cancel-job': true });
  });

  it('cancels with PATCH ?mode=cancel', async () => {
    const jid = 'd'.repeat(32);
    routes[`PATCH /jobs/${jid}?mode=cancel`] = { status: 202, body: {} };
    expect(await client().cancel(jid)).toEqual({ ok: true, value: undefined });
    expect(seen[0]?.method).toBe('PATCH');
  });

  it('takes the newest entry of exceptionHistory as the root exception', async () => {
    const jid = 'e'.repeat(32);
    routes[`GET /jobs/${jid}/exceptions`] = {
      status: 200,
      body: {
        exceptionHistory: {
          entries: [
            { exceptionName: 'java.lang.IllegalStateException', stacktrace: 'java.lang.IllegalStateException: nope\n\tat x.y(Z.java:1)\n', timestamp: 2, taskName: 'running-count (1/1)' },
            { exceptionName: 'java.lang.Exception', stacktrace: 'older', timestamp: 1 },
          ],
          truncated: false,
        },
      },
    };
    const r = await client().exceptions(jid);
    expect(r).toMatchObject({ ok: true, value: { exceptionName: 'java.lang.IllegalStateException', message: 'java.lang.IllegalStateException: nope', taskName: 'running-count (1/1)', timestamp: 2 } });
    routes[`GET /jobs/${jid}/exceptions`] = { status: 200, body: { exceptionHistory: { entries: [], truncated: false } } };
    expect(await client().exceptions(jid)).toEqual({ ok: true, value: undefined });
  });

  it('asks for aggregated subtask metrics', async () => {
    routes['GET /jobs/j/vertices/v/subtasks/metrics?get=running-count.readingsTotal&agg=min,max,sum'] = {
      status: 200,
      body: [{ id: 'running-count.readingsTotal', min: 5, max: 7, sum: 12 }],
    };
    expect(await client().subtaskMetrics('j', 'v', ['running-count.readingsTotal'])).toEqual({
      ok: true,
      value: [{ id: 'running-count.readingsTotal', min: 5, max: 7, sum: 12 }],
    });
  });

  it('returns an unexpected answer as data, not as an exception', async () => {
    routes['GET /jobs/overview'] = { status: 200, body: { jobs: [{ jid: 'x', name: 'n', state: 'DANCING', 'start-time': 1 }] } };
    const r = await client().jobs();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('unexpected answer (jobs.0.state');
    routes['GET /jobs/overview'] = { status: 200, body: '<html>proxy error</html>' };
    const html = await client().jobs();
    expect(!html.ok && html.message).toContain('not JSON');
  });

  it('times out instead of hanging', async () => {
    routes['GET /overview'] = 'hang';
    const t0 = Date.now();
    const r = await client().overview();
    expect(r).toMatchObject({ ok: false, status: 0 });
    expect(!r.ok && r.message).toContain('no answer within 1000 ms');
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('reports a refused connection with status 0', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const closed = new FlinkRest({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 1_000 });
    const r = await closed.overview();
    expect(r).toMatchObject({ ok: false, status: 0 });
    expect(!r.ok && r.message).toContain('ECONNREFUSED');
  });
});

describe('error text', () => {
  it('keeps the deepest cause of a stack trace', () => {
    expect(rootCauseLine('a.B: top\n\tat x\nCaused by: c.D: middle\nCaused by: e.F: bottom\n\tat y')).toBe('e.F: bottom');
    expect(rootCauseLine('java.lang.RuntimeException: only\n\tat x')).toBe('java.lang.RuntimeException: only');
  });

  it('falls back to the body when Flink did not answer with errors[]', () => {
    expect(errorMessage(502, 'Bad gateway')).toBe('HTTP 502: Bad gateway');
    expect(errorMessage(404, JSON.stringify({ errors: ['Not found: /jobs/x'] }))).toBe('HTTP 404: Not found: /jobs/x');
  });
});
