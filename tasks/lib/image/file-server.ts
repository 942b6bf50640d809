// Serves one file on 127.0.0.1 for the build's ADD: dockerd (on this host) fetches the distribution from
// here exactly as it would from archive.apache.org, so both go through the same SHA-512 check.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

export interface FileServer {
  url: string;
  close: () => Promise<void>;
}

export async function serveFile(file: string): Promise<FileServer> {
  const name = `/${path.basename(file)}`;
  const st = await stat(file);
  const server: Server = createServer((req, res) => {
    if (req.url !== name || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    // A fixed Last-Modified keeps ADD's layer cache stable between builds.
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/gzip', 'last-modified': st.mtime.toUTCString() });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}${name}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
