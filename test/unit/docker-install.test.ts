// The apt way of installing Docker, run by sh against stand-ins for apt-get, timeout and sleep: network
// phases are bounded and retried, dpkg is never run under a timeout, and a lasting failure stops the script.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { DockerFacts } from '../../tasks/lib/facts/docker.ts';
import { parsePlatformFacts, platformKvFromOsRelease } from '../../tasks/lib/facts/os.ts';
import { engineStep, installCommand } from '../../tasks/lib/steps/docker.ts';
import { ctxFor, inventory } from './steps-fixture.ts';

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

// The OS × architecture matrix (issue #13 item 5), from captured /etc/os-release files and `dpkg --print-architecture`.
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', 'os-release', name), 'utf8');
const fresh: DockerFacts = { cli: false, packages: [], running: false, serverVersion: '', init: 'systemd', initScript: false, enabled: false, daemonJson: undefined, userGroups: ['pi'], dockerGroup: false };
const platform = (file: string, arch: string, rpi: boolean) => parsePlatformFacts(platformKvFromOsRelease(fixture(file), arch, rpi));
const seedWay = inventory('    fridge_docker_install: get.docker.com\n', { virtual: false });

function engineSummary(file: string, arch: string, rpi: boolean, how: 'apt' | 'get.docker.com'): string {
  const p = engineStep.plan({ ...fresh, platform: platform(file, arch, rpi) }, ctxFor('pi2', how === 'apt' ? {} : { inv: seedWay }));
  if (p.kind === 'fail') return `refused: ${p.msg}`;
  if (p.kind !== 'change') return p.kind;
  return p.changes.map((c) => c.summary).join('; ');
}

describe('docker install matrix: OS × architecture', () => {
  it.each([
    ['raspios-bookworm-arm64', 'arm64', true, 'get.docker.com', /^install docker \(get\.docker\.com\)$/],
    ['raspios-trixie-arm64', 'arm64', true, 'get.docker.com', /^install docker \(get\.docker\.com\)$/],
    ['raspios-bookworm-arm64', 'arm64', true, 'apt', /^install docker \(apt: docker\.io\)$/],
    ['debian-bookworm-amd64', 'amd64', false, 'apt', /^install docker \(apt: docker\.io\)$/],
    ['debian-bookworm-amd64', 'amd64', false, 'get.docker.com', /^install docker \(get\.docker\.com\)$/],
    // 32-bit: never get.docker.com (v28 was Docker's last armhf release), the distribution's engine with a warning.
    ['raspios-bookworm-armhf', 'armhf', true, 'get.docker.com', /^install docker \(apt: docker\.io\) — warning: 32-bit Raspberry Pi OS \(armhf\): Docker's own packages ended with v28 \(docker\/packaging PR 336\).*64-bit Raspberry Pi OS/],
    ['raspios-trixie-armhf', 'armhf', true, 'get.docker.com', /^install docker \(apt: docker\.io\) — warning: 32-bit Raspberry Pi OS/],
    ['raspios-trixie-armhf', 'armhf', true, 'apt', /^install docker \(apt: docker\.io\) — 32-bit Raspberry Pi OS: the distribution's docker\.io/],
    ['raspios-buster-armhf', 'armhf', true, 'get.docker.com', /^refused: Raspbian GNU\/Linux 10 \(buster\): Docker no longer publishes packages for Debian 10/],
  ] as const)('%s (%s, %s rpi-issue) with %s', (file, arch, rpi, how, expected) => {
    expect(engineSummary(file, arch, rpi, how)).toMatch(expected);
  });

  it('the 32-bit userland decides, not a 64-bit kernel (uname -m aarch64 on a Pi 4 running armhf)', () => {
    const p = platform('raspios-bookworm-armhf', 'armhf', true);
    expect(p).toMatchObject({ id: 'raspbian', codename: 'bookworm', dpkgArch: 'armhf', raspberryPiOs: true });
    expect(engineSummary('raspios-bookworm-armhf', 'armhf', true, 'get.docker.com')).not.toContain('get.docker.com)');
  });

  it('64-bit Raspberry Pi OS says ID=debian: /etc/rpi-issue tells it apart', () => {
    expect(platform('raspios-trixie-arm64', 'arm64', true)).toMatchObject({ id: 'debian', versionId: '13', codename: 'trixie', raspberryPiOs: true });
    expect(platform('debian-bookworm-amd64', 'amd64', false).raspberryPiOs).toBe(false);
  });

  it('an armhf engine from Docker\'s repository is kept but named as the end of its line', () => {
    const p = engineStep.plan({ ...fresh, cli: true, running: true, packages: ['docker-ce'], serverVersion: '28.5.1', platform: platform('raspios-bookworm-armhf', 'armhf', true) }, ctxFor('pi2', { inv: seedWay }));
    expect(p).toEqual({ kind: 'ok', msg: expect.stringContaining('no release after v28') });
  });
});
