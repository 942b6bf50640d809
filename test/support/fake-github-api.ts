// A fake GitHub REST API on 127.0.0.1 for the two endpoints Fridge's deploy uses (create a deployment,
// post a deployment status). The one fake in the suite: GitHub cannot be reached from here.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  auth: string | undefined;
  body: Record<string, unknown>;
}

export interface FakeGithubApi {
  url: string;
  requests: RecordedRequest[];
  /** HTTP status for deployment-status posts (201 unless a test simulates a refusal). */
  statusReply: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Answers for repository `repo` ("owner/name") only; anything else is a 404 as on GitHub. */
export async function startFakeGithubApi(repo: string): Promise<FakeGithubApi> {
  const api: FakeGithubApi = { url: '', requests: [], statusReply: 201, close: async () => undefined };
  let nextId = 4242;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = req.url ?? '';
      api.requests.push({ method: req.method ?? '', path: url, auth: req.headers.authorization, body });
      res.setHeader('content-type', 'application/json; charset=utf-8');
      if (req.method === 'POST' && url === `/repos/${repo}/deployments`) {
        res.statusCode = 201;
        res.end(JSON.stringify({ id: nextId++, sha: body.ref, ref: body.ref, environment: body.environment }));
        return;
      }
      if (req.method === 'POST' && new RegExp(`^/repos/${repo}/deployments/\\d+/statuses$`).test(url)) {
        res.statusCode = api.statusReply;
        res.end(
          api.statusReply === 201
            ? JSON.stringify({ id: api.requests.length, state: body.state, environment_url: body.environment_url ?? '' })
            : JSON.stringify({ message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest' }),
        );
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ message: 'Not Found' }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return api;
}
