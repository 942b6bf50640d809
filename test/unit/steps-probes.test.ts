// The probe scripts are real POSIX sh: run them here (dash, this machine) and parse what they print.
import { describe, expect, it } from 'vitest';
import { dockerScript, parseDockerFacts } from '../../tasks/lib/facts/docker.ts';
import { networkScript, parseNetworkFacts } from '../../tasks/lib/facts/network.ts';
import { OS_SCRIPT, parseOsFacts } from '../../tasks/lib/facts/os.ts';
import { parseKv, probe } from '../../tasks/lib/facts/probe.ts';
import { parseSshFacts, sshScript } from '../../tasks/lib/facts/ssh.ts';
import { NODES_SCRIPT, parseNodesKv, parseSwarmFacts, SWARM_SCRIPT } from '../../tasks/lib/facts/swarm.ts';
import { localTransport } from '../../tasks/lib/transport/local.ts';
import { execLocal } from '../../tasks/lib/transport/local.ts';

const t = localTransport('here');
// Reported as skipped, not passed, on a machine without it (prepare-host.sh installs it).
const hasShellcheck = (await execLocal('command -v shellcheck')).code === 0;

describe('probe scripts run under sh', () => {
  it.each([
    ['os', OS_SCRIPT],
    ['network', networkScript('eth0')],
    ['docker', dockerScript('root')],
    ['ssh', sshScript('root')],
    ['swarm', `${SWARM_SCRIPT}\n${NODES_SCRIPT}`],
  ])('%s: valid syntax (sh -n)', async (_n, script) => {
    const r = await execLocal('sh -n', { stdin: script });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.skipIf(!hasShellcheck)('shellcheck finds no warnings', async () => {
    const all = ['#!/bin/sh', OS_SCRIPT, sshScript('pi'), dockerScript('pi'), networkScript('eth0'), SWARM_SCRIPT, NODES_SCRIPT].join('\n');
    const r = await execLocal('shellcheck -s sh -S warning -', { stdin: `${all}\n` });
    expect(r.stdout + r.stderr).toBe('');
  });

  it('os facts of this machine', async () => {
    const f = parseOsFacts(await probe(t, OS_SCRIPT));
    expect(f.id).not.toBe('unknown');
    expect(f.hostname).toBe((await execLocal('cat /proc/sys/kernel/hostname')).stdout.trim());
    expect(f.memMiB).toBeGreaterThan(100);
    expect(f.etcHosts).toContain('localhost');
  });

  it('network, docker, ssh and swarm facts parse on this machine', async () => {
    const n = parseNetworkFacts(await probe(t, networkScript('lo')));
    expect(n.interfaceExists).toBe(true);
    expect(n.addresses).toContain('127.0.0.1');
    const d = parseDockerFacts(await probe(t, dockerScript('root')));
    expect(d.userGroups).toContain('root');
    const s = parseSshFacts(await probe(t, sshScript('root')));
    expect(s.home).toBe('/root');
    expect(s.nopasswdSudo).toBe(true);
    const kv = await probe(t, `${SWARM_SCRIPT}\n${NODES_SCRIPT}`);
    expect(['absent', 'inactive', 'active']).toContain(parseSwarmFacts(kv).state);
    expect(Array.isArray(parseNodesKv(kv))).toBe(true);
  });
});

describe('fact bundle (one round trip for all parts)', () => {
  it('splits the prefixed output of every part', async () => {
    const { bundleScript, splitBundle } = await import('../../tasks/lib/facts/cache.ts');
    const { ctxFor } = await import('./steps-fixture.ts');
    const ctx = { ...ctxFor('pi1'), host: { ...ctxFor('pi1').host, user: 'root' } };
    const r = await execLocal(bundleScript({ ...ctx, inventory: { ...ctx.inventory, cluster: { ...ctx.inventory.cluster, network: { ...ctx.inventory.cluster.network, interface: 'lo' } } } }));
    expect(r.code).toBe(0);
    const parts = splitBundle(parseKv(r.stdout));
    expect(parseOsFacts(parts.get('os') ?? new Map()).id).not.toBe('unknown');
    expect(parseSshFacts(parts.get('ssh') ?? new Map()).home).toBe('/root');
    expect(parseNetworkFacts(parts.get('network') ?? new Map()).addresses).toContain('127.0.0.1');
    expect(parseDockerFacts(parts.get('docker') ?? new Map()).userGroups).toContain('root');
  });
  it('keeps backslashes in values (docker info JSON has \\n escapes)', async () => {
    const kv = await probe(t, `j='{"a":"x\\ny"}'; printf "%s\\n" "swarm=$j"`);
    expect(kv.get('swarm')).toBe('{"a":"x\\ny"}');
  });
});

describe('file writes run under sh', () => {
  it('writeFile: atomic, exact bytes, mode; writeInPlace keeps the inode (bind-mounted files)', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { writeFile, writeInPlace } = await import('../../tasks/lib/steps/common.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-steps-'));
    try {
      const target = path.join(dir, 'sub dir', "it's.conf");
      const content = "line 'one'\n$HOME `x` \\n\n";
      const a = writeFile(target, content, 0o600);
      expect(a.kind === 'run' && (await execLocal(a.command)).code).toBe(0);
      expect(fs.readFileSync(target, 'utf8')).toBe(content);
      expect(fs.statSync(target).mode & 0o777).toBe(0o600);
      const inode = fs.statSync(target).ino;
      const b = writeInPlace(target, 'new\n');
      expect(b.kind === 'run' && (await execLocal(b.command)).code).toBe(0);
      expect(fs.readFileSync(target, 'utf8')).toBe('new\n');
      expect(fs.statSync(target).ino).toBe(inode);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
