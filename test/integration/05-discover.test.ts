// discover (issue #13 item 2) through the CLI against fake SSH servers on loopback, no docker, no LAN: the table,
// `--write` adding the Pis to an inventory with its comments and alignment kept, `--check --diff`, a second
// `--write` that changes nothing, and the refusals. Every address probed is in 127.0.0.0/29; the neighbour
// table comes from a fixture file (--neighbours) so that MAC vendors show without touching a real network.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../tasks/lib/cli/main.ts';
import type { RunSummary } from '../../tasks/lib/engine/types.ts';
import { capture } from '../unit/cli-capture.ts';

const SEED = path.join(import.meta.dirname, '..', 'unit', 'fixtures', 'discover', 'inventory-seed.yaml');
const servers: net.Server[] = [];
let dir = '';
let inv = '';
let neigh = '';
let port = 0;

function listen(host: string, onConnect: (s: net.Socket) => void, p = 0): Promise<number> {
  const server = net.createServer(onConnect);
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

interface Doc {
  exitCode: number;
  errors: { kind: string; message: string }[];
  results: { step: string; status: string; msg?: string; changes?: string[] }[];
  phases: (RunSummary & { data: { discover?: { cidr: string; hosts: { address: string; vendor?: string; piEvidence: string[]; inventoryHost?: string; ssh: string }[] } } })[];
}

async function discover(...args: string[]): Promise<{ code: number; out: string }> {
  const seen = await capture(() => main('discover', ['-i', inv, '--cidr', '127.0.0.0/29', '--port', String(port), '--timeout', '400ms', '--neighbours', neigh, ...args]), { FRIDGE_SSH_CONFIG: 'none' });
  return { code: seen.code, out: seen.stdout + seen.stderr };
}
async function discoverJson(...args: string[]): Promise<Doc> {
  const seen = await capture(() => main('discover', ['-i', inv, '--cidr', '127.0.0.0/29', '--port', String(port), '--timeout', '400ms', '--neighbours', neigh, '--json', ...args]), { FRIDGE_SSH_CONFIG: 'none' });
  return JSON.parse(seen.stdout) as Doc;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-discover-'));
  inv = path.join(dir, 'fridge.yaml');
  fs.copyFileSync(SEED, inv);
  // One port for every fake host, each on its own loopback address (Linux answers on all of 127/8).
  port = await listen('127.0.0.2', (s) => s.end('SSH-2.0-OpenSSH_9.2p1 Raspbian-2+deb12u3\r\n'));
  await listen('127.0.0.3', (s) => s.end('SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n'), port);
  await listen('127.0.0.4', (s) => s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'), port);
  await listen('127.0.0.5', () => undefined, port);
  neigh = path.join(dir, 'neigh.json');
  fs.writeFileSync(
    neigh,
    JSON.stringify([
      { dst: '127.0.0.2', dev: 'lo', lladdr: 'b8:27:eb:4a:19:7c', state: ['REACHABLE'] },
      { dst: '127.0.0.3', dev: 'lo', lladdr: '3c:22:fb:aa:bb:cc', state: ['REACHABLE'] },
      { dst: '127.0.0.4', dev: 'lo', lladdr: 'dc:a6:32:01:02:03', state: ['STALE'] },
      { dst: '192.168.0.9', dev: 'eth0', lladdr: 'b8:27:eb:00:00:09', state: ['STALE'] },
    ]),
  );
});

afterAll(() => {
  for (const s of servers) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('discover on loopback', () => {
  it('prints a table of what answered in the block, Pis told by MAC prefix and banner', async () => {
    const r = await discover();
    expect(r.code, r.out).toBe(0);
    const row = (address: string) => r.out.split('\n').find((l) => l.startsWith(`${address} `)) ?? '';
    expect(r.out).toMatch(/address\s+MAC\s+vendor\s+hostname\s+SSH\s+OS \(from the banner\)\s+Pi\?\s+inventory/);
    expect(row('127.0.0.2')).toMatch(/b8:27:eb:4a:19:7c\s+Raspberry Pi Foundation\s+-\s+SSH-2\.0-OpenSSH_9\.2p1 Raspbian-2\+deb12u3\s+Raspberry Pi OS 32-bit \(bookworm\)\s+yes \(MAC, banner\)\s+new/);
    expect(row('127.0.0.3')).toMatch(/unknown .* Ubuntu\s+no\s+new$/);
    expect(row('127.0.0.4')).toMatch(/Raspberry Pi Trading .* Debian \(bookworm\) or 64-bit Raspberry Pi OS\s+yes \(MAC\)\s+new$/);
    expect(row('127.0.0.5')).toContain('port open, no SSH banner');
    // This machine's own address is not probed; nothing outside the block is listed.
    expect(row('127.0.0.1')).toBe('');
    expect(r.out).not.toContain('192.168.0.9');
    expect(r.out).toMatch(/127\.0\.0\.0\/29: 5 address\(es\) probed, \d+ answered, 3 with SSH, 2 Pi\(s\), 2 not in the inventory/);
  });

  it('--check --diff shows the hosts it would add and writes nothing', async () => {
    const before = fs.readFileSync(inv, 'utf8');
    const r = await discover('--write', inv, '--check', '--diff');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('add worker04 (workers, at 127.0.0.2, static 192.168.0.107), worker05 (workers, at 127.0.0.4, static 192.168.0.108)');
    expect(r.out).toContain('+        worker04: {ansible_host: 127.0.0.2, fridge_static_ip: 192.168.0.107}');
    expect(fs.readFileSync(inv, 'utf8')).toBe(before);
  });

  it('--write adds the new Pis at the end of workers, every other line kept as it was', async () => {
    const before = fs.readFileSync(inv, 'utf8');
    fs.chmodSync(inv, 0o600);
    const doc = await discoverJson('--write', inv);
    expect(doc.exitCode, JSON.stringify(doc.results)).toBe(0);
    expect(fs.statSync(inv).mode & 0o777).toBe(0o600);
    expect(doc.results.map((x) => `${x.step}:${x.status}`)).toEqual(['discover:ok', `inventory ${inv}:changed`]);
    const lines = before.split('\n');
    const at = lines.findIndex((l) => l.includes('worker03:')) + 1;
    expect(fs.readFileSync(inv, 'utf8')).toBe(
      [
        ...lines.slice(0, at),
        '        worker04: {ansible_host: 127.0.0.2, fridge_static_ip: 192.168.0.107}',
        '        worker05: {ansible_host: 127.0.0.4, fridge_static_ip: 192.168.0.108}',
        ...lines.slice(at),
      ].join('\n'),
    );
  });

  it('a second --write changes nothing, and the table names the inventory hosts', async () => {
    const before = fs.readFileSync(inv, 'utf8');
    const doc = await discoverJson('--write', inv);
    expect(doc.exitCode).toBe(0);
    expect(doc.results.map((x) => `${x.step}:${x.status}`)).toEqual(['discover:ok', `inventory ${inv}:ok`]);
    expect(doc.results[1]?.msg).toBe(`${inv} already lists every Pi found`);
    expect(fs.readFileSync(inv, 'utf8')).toBe(before);
    const hosts = doc.phases[0]?.data.discover?.hosts ?? [];
    expect(hosts.filter((h) => h.inventoryHost).map((h) => `${h.address}=${h.inventoryHost ?? ''}`)).toEqual(['127.0.0.2=worker04', '127.0.0.4=worker05']);
  });

  it('the inventory it wrote loads', async () => {
    const { loadInventory } = await import('../../tasks/lib/inventory/load.ts');
    const loaded = await loadInventory(inv);
    expect(loaded.ok && loaded.inventory.hosts.map((h) => `${h.name}:${h.address}:${h.staticIp ?? ''}`).slice(-2)).toEqual(['worker04:127.0.0.2:192.168.0.107', 'worker05:127.0.0.4:192.168.0.108']);
  });

  it('refuses a block larger than a /22 before sending anything, and one outside this machine\'s networks', async () => {
    const big = await discoverJson('--cidr', '127.0.0.0/16');
    expect(big.exitCode).toBe(2);
    expect(big.results[0]?.msg).toBe("127.0.0.0/16 holds 65534 addresses, more than 1024 (a /22): give the Pis' own subnet with --cidr, or --force");
    // A malformed block is a bad option: refused before the inventory is read (exit 5).
    const bad = await discoverJson('--cidr', '127.0.0.0/33');
    expect(bad.exitCode).toBe(5);
    expect(bad.errors[0]?.message).toBe("--cidr must be an IPv4 network such as 192.168.0.0/24, got '127.0.0.0/33'");
  });
});
