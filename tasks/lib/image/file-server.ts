// Serves a few files on 127.0.0.1 for the build's ADDs: dockerd (on this host) fetches the distribution, its
// signature and the KEYS file from here exactly as it would from Apache's servers, so both go through the
// same signature check (docker/verify-release.sh).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

export interface FileServer {
  /** The first file's address (the single-file form). */
  url: string;
  /** Each file's address, by its local path. */
  urls: Record<string, string>;
  close: () => Promise<void>;
}

export async function serveFiles(files: string[]): Promise<FileServer> {
  const byName = new Map<string, { file: string; size: number; mtime: Date }>();
  for (const file of files) {
    const st = await stat(file);
    const name = `/${path.basename(file)}`;
    if (byName.has(name)) throw new Error(`bug: two files named ${name} to serve`);
    byName.set(name, { file, size: st.size, mtime: st.mtime });
  }
  const server: Server = createServer((req, res) => {
    const entry = byName.get(req.url ?? '');
    if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    // A fixed Last-Modified keeps ADD's layer cache stable between builds.
    res.writeHead(200, { 'content-length': entry.size, 'content-type': 'application/octet-stream', 'last-modified': entry.mtime.toUTCString() });
    if (req.method === 'HEAD') res.end();
    else createReadStream(entry.file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const urls = Object.fromEntries([...byName].map(([name, e]) => [e.file, `http://127.0.0.1:${port}${name}`]));
  return {
    url: urls[files[0] ?? ''] ?? '',
    urls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function serveFile(file: string): Promise<FileServer> {
  return serveFiles([file]);
}
