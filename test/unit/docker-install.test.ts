// The apt way of installing Docker, run by sh against stand-ins for apt-get, timeout and sleep: network
// phases are bounded and retried, dpkg is never run under a timeout, and a lasting failure stops the script.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { installCommand } from '../../tasks/lib/steps/docker.ts';

const run = promisify(execFile);

async function standIns(failUpdates: number): Promise<{ dir: string; log: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fridge-apt-'));
  const log = path.join(dir, 'calls.log');
  const script = (body: string) => `#!/bin/sh\n${body}\n`;
  await writeFile(path.join(dir, 'timeout'), script(`echo "timeout $1" >> ${log}; shift; exec "$@"`));
  await writeFile(path.join(dir, 'sleep'), script('exit 0'));
  await writeFile(
    path.join(dir, 'apt-get'),
    script(
      [
        `for a in "$@"; do case "$a" in update|install|--download-only) printf '%s ' "$a" >> ${log};; esac; done; echo >> ${log}`,
        `case "$*" in *update*) n=$(grep -c '^update' ${log}); [ "$n" -gt ${failUpdates} ] || exit 100;; esac`,
      ].join('\n'),
    ),
  );
  for (const f of ['timeout', 'sleep', 'apt-get']) await chmod(path.join(dir, f), 0o755);
  return { dir, log };
}

async function install(failUpdates: number): Promise<{ code: number; calls: string[] }> {
  const { dir, log } = await standIns(failUpdates);
  const code = await run('sh', ['-c', installCommand('apt')], { env: { PATH: `${dir}:${process.env.PATH ?? ''}` } }).then(
    () => 0,
    (e: { code?: number }) => e.code ?? 1,
  );
  const calls = (await readFile(log, 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
  return { code, calls };
}

describe('docker install over apt', () => {
  it('bounds and retries the network phases, then installs from the downloaded packages without a timeout', async () => {
    const r = await install(1);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual(['timeout 180', 'update', 'timeout 180', 'update', 'timeout 600', 'install --download-only', 'install']);
  });
  it('stops after three failed attempts, before dpkg runs', async () => {
    const r = await install(5);
    expect(r.code).not.toBe(0);
    expect(r.calls.filter((c) => c === 'update')).toHaveLength(3);
    expect(r.calls.some((c) => c.startsWith('install'))).toBe(false);
  });
});
