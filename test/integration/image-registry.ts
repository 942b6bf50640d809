// A throwaway-but-reused registry for the image tests: Debian's docker-registry on a loopback port, its
// storage under .fridge/cache so a second test run finds the blobs already there.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CACHE_DIR } from '../../tasks/lib/flink/distribution.ts';

export interface TestRegistry {
  host: string;
  stop: () => Promise<void>;
}

export async function startRegistry(port = 5055): Promise<TestRegistry> {
  const dir = path.join(DEFAULT_CACHE_DIR, 'image-test-registry');
  await mkdir(path.join(dir, 'data'), { recursive: true });
  const config = path.join(dir, 'config.yml');
  await writeFile(
    config,
    ['version: 0.1', 'log: {level: warn}', 'storage:', `  filesystem: {rootdirectory: ${path.join(dir, 'data')}}`, '  delete: {enabled: true}', `http: {addr: "127.0.0.1:${port}"}`, ''].join('\n'),
  );
  const host = `127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const up = async (): Promise<boolean> => fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  // A registry left running on the port (an earlier run, or `docker-registry serve` by hand) is reused.
  if (!(await up())) {
    proc = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while (!(await up())) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`docker-registry did not start on ${host}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    host,
    stop: async () => {
      if (!proc || proc.exitCode !== null) return;
      const p = proc;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
  };
}
