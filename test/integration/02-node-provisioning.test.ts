// Fridge runs on Node 22+: tasks/lib/host/node.sh provides it on a machine that has only an older node (fetched
// once from the registry, then cached), and a task started under an old node re-runs itself under it. The fetch
// is tested against a fake package on a loopback registry, so nothing leaves the machine; no virtual fridge.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NODE_SH = path.join(ROOT, 'tasks/lib/host/node.sh');
// Asynchronous, so the fake registry in this process can answer while node.sh runs.
function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const major = (v: string) => Number(v.replace(/^v/, '').split('.')[0]);

describe('tasks/lib/host/node.sh', () => {
  const FAKE = '22.99.0';
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const name = `node-linux-${arch}`;
  let tmp = '';
  let registry = '';
  let integrity = '';
  let requests: string[] = [];
  let server: http.Server | undefined;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-node-'));
    // The package as the registry serves Node's: package/bin/node, no install script. Its "node" hands over to
    // the node running this suite, so the re-run below really runs.
    fs.mkdirSync(path.join(tmp, 'pkg/package/bin'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'pkg/package/package.json'), JSON.stringify({ name, version: FAKE, bin: { node: 'bin/node' } }));
    fs.writeFileSync(path.join(tmp, 'pkg/package/bin/node'), `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const tgz = path.join(tmp, 'pkg.tgz');
    expect(spawnSync('tar', ['-czf', tgz, '-C', path.join(tmp, 'pkg'), 'package']).status).toBe(0);
    const body = fs.readFileSync(tgz);
    integrity = `sha512-${crypto.createHash('sha512').update(body).digest('base64')}`;
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === `/${name}`) {
        const dist = { tarball: `${registry}${name}/-/${name}-${FAKE}.tgz`, integrity };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ name, 'dist-tags': { latest: FAKE }, versions: { [FAKE]: { name, version: FAKE, dist } } }));
      } else if (req.url === `/${name}/-/${name}-${FAKE}.tgz`) {
        res.end(body);
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env,
    FRIDGE_NODE_CACHE: path.join(tmp, 'cache'),
    FRIDGE_NODE_VERSION: FAKE,
    FRIDGE_NODE_INTEGRITY: integrity,
    npm_config_registry: registry,
    npm_config_cache: path.join(tmp, 'npm-cache'),
    ...extra,
  });
  const run = (args: string[], extra: Record<string, string> = {}) => runAsync('bash', [NODE_SH, ...args], env(extra));

  it('refuses a package whose integrity is not the pinned one, and caches nothing', async () => {
    const r = await run(['fetch'], { FRIDGE_NODE_INTEGRITY: 'sha512-AAAA', FRIDGE_NODE_CACHE: path.join(tmp, 'bad-cache') });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${name}@${FAKE}: integrity ${integrity} is not the pinned sha512-AAAA; refusing it`);
    expect(fs.readdirSync(path.join(tmp, 'bad-cache'))).toEqual([]);
  });

  it('fetches once, then answers from the cache with the same node and no request', async () => {
    requests = [];
    const first = await run(['fetch']);
    expect(first.stderr).toContain(`fetching ${name}@${FAKE} from the npm registry`);
    expect(first.status).toBe(0);
    const node = first.stdout.trim();
    expect(node).toBe(path.join(tmp, 'cache', `${FAKE}-linux-${arch}`, 'bin', 'node'));
    expect(requests).toContain(`/${name}/-/${name}-${FAKE}.tgz`);

    requests = [];
    const second = await run(['fetch']);
    expect(second.status).toBe(0);
    expect(second.stdout.trim()).toBe(node);
    expect(second.stderr).toBe('');
    expect(requests).toEqual([]);
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe(process.version);
  });

  // The fake package's node is the suite's own, so these two hold only when the suite runs on 22+ (the guard above).
  const modern = major(process.versions.node) >= 22;
  it.skipIf(!modern)('exec puts a node of 22+ first on PATH', async () => {
    const r = await run(['exec', 'node', '-p', 'process.versions.node']);
    expect(r.status).toBe(0);
    expect(major(r.stdout.trim())).toBeGreaterThanOrEqual(22);
  });

  // The machine's own old node (CI's Debian machine has Node 20); a machine with only a new one skips this.
  const oldNode = [...(spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout ?? '').split('\n'), '/usr/bin/node', '/usr/local/bin/node']
    .filter((p) => p !== '' && fs.existsSync(p))
    .find((p) => {
      const v = major(spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout ?? '0');
      return v >= 18 && v < 22;
    });
  it.skipIf(!modern || oldNode === undefined)('a task started under an older node re-runs itself under 22+ with its arguments and exit code', async () => {
    const script = path.join(tmp, 'task.mjs');
    fs.writeFileSync(script, [
      `import ${JSON.stringify(pathToFileURL(path.join(ROOT, 'tasks/lib/host/supported-node.mjs')).href)};`,
      `console.log(process.versions.node, process.argv.slice(2).join(' '));`,
      'process.exitCode = 7;',
    ].join('\n'));
    const pathEnv = `${path.dirname(oldNode ?? '')}:/usr/bin:/bin`;
    const r = await runAsync(oldNode ?? '', [script, '--limit', 'pi1'], env({ PATH: pathEnv }));
    // The node was fetched by an earlier test of this file: a re-run says nothing about it.
    expect(r.stderr).not.toContain('using Node');
    expect(r.status).toBe(7);
    const [version, ...args] = r.stdout.trim().split(' ');
    expect(major(version ?? '')).toBeGreaterThanOrEqual(22);
    expect(args).toEqual(['--limit', 'pi1']);
  });
});
