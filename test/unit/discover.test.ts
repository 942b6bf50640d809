// discover (issue #13 item 2): the pure parts from fixtures — CIDR expansion and its caps, the neighbour table in
// both formats, SSH banners → OS hints, Raspberry Pi MAC prefixes, the default subnet, the findings table, the
// inventory merge (comments, alignment and order kept, idempotent) — and the probe's bounds with a fake connect.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { expandCidr, formatCidr, inCidr, parseCidr } from '../../tasks/lib/discover/cidr.ts';
import { bannerLine, osHint } from '../../tasks/lib/discover/banner.ts';
import { collectFindings, formatFindings, newPis } from '../../tasks/lib/discover/findings.ts';
import { addHosts, knownHosts, nextNames, parseStaticRange, proposeAdditions } from '../../tasks/lib/discover/inventory-merge.ts';
import { nsswitchHasMdns } from '../../tasks/lib/discover/mdns.ts';
import { parseIpNeighJson, parseNeighbours, parseProcNetArp } from '../../tasks/lib/discover/neighbours.ts';
import { defaultCidr } from '../../tasks/lib/discover/netinfo.ts';
import { probe, tcpKnock, type Knock } from '../../tasks/lib/discover/probe.ts';
import { vendorOf } from '../../tasks/lib/discover/vendor.ts';
import { simInventory } from '../../tasks/lib/sim/inventory.ts';

const FX = path.join(import.meta.dirname, 'fixtures', 'discover');
const fx = (name: string) => fs.readFileSync(path.join(FX, name), 'utf8');
const cidr = (t: string) => {
  const c = parseCidr(t);
  if (!c.ok) throw new Error(c.error);
  return c.cidr;
};

describe('CIDR blocks', () => {
  it('expands a /24 to its 254 host addresses, a /32 and a /31 to themselves', () => {
    const r = expandCidr(cidr('192.168.0.0/24'), false);
    expect(r.ok && [r.addresses.length, r.addresses[0], r.addresses.at(-1)]).toEqual([254, '192.168.0.1', '192.168.0.254']);
    expect(expandCidr(cidr('127.0.0.1/32'), false)).toEqual({ ok: true, addresses: ['127.0.0.1'] });
    expect(expandCidr(cidr('10.0.0.4/31'), false)).toEqual({ ok: true, addresses: ['10.0.0.4', '10.0.0.5'] });
  });
  it('clears host bits and reads a bare address as a /32', () => {
    expect(formatCidr(cidr('192.168.0.77/24'))).toBe('192.168.0.0/24');
    expect(formatCidr(cidr('10.1.2.3'))).toBe('10.1.2.3/32');
  });
  it('refuses what is not an IPv4 block', () => {
    for (const bad of ['192.168.0.0/33', '192.168.0/24', 'fridge.local/24', '::1/128', '']) expect(parseCidr(bad).ok, bad).toBe(false);
  });
  it('caps at a /22 without --force and at a /16 with it', () => {
    expect(expandCidr(cidr('10.0.0.0/22'), false).ok).toBe(true);
    const big = expandCidr(cidr('10.0.0.0/21'), false);
    expect(big.ok ? '' : big.error).toBe('10.0.0.0/21 holds 2046 addresses, more than 1024 (a /22): give the Pis\' own subnet with --cidr, or --force');
    expect(expandCidr(cidr('10.0.0.0/21'), true).ok).toBe(true);
    const huge = expandCidr(cidr('10.0.0.0/8'), true);
    expect(huge.ok ? '' : huge.error).toMatch(/at most 65536 \(a \/16\)/);
  });
  it('tells membership', () => {
    expect(inCidr(cidr('10.77.0.0/24'), '10.77.0.11')).toBe(true);
    expect(inCidr(cidr('10.77.0.0/24'), '10.77.1.11')).toBe(false);
  });
});

describe('neighbour table', () => {
  const expected = [
    { address: '192.168.0.1', mac: 'a4:91:b1:0c:22:10', dev: 'eth0' },
    { address: '192.168.0.23', mac: 'b8:27:eb:4a:19:7c', dev: 'eth0' },
    { address: '192.168.0.24', mac: 'dc:a6:32:01:02:03', dev: 'eth0' },
  ];
  it('reads `ip -j neigh`, leaving out FAILED/INCOMPLETE and IPv6 entries', () => {
    const r = parseIpNeighJson(fx('ip-neigh.json'));
    expect(r.ok && r.neighbours.slice(0, 3)).toEqual(expected);
    expect(r.ok && r.neighbours.map((n) => n.address)).toEqual(['192.168.0.1', '192.168.0.23', '192.168.0.24', '192.168.0.31', '10.77.0.11']);
  });
  it('reads /proc/net/arp, leaving out incomplete entries', () => {
    expect(parseProcNetArp(fx('proc-net-arp.txt')).slice(0, 3)).toEqual(expected);
    expect(parseProcNetArp(fx('proc-net-arp.txt')).map((n) => n.address)).not.toContain('192.168.0.77');
  });
  it('tells the two formats apart and refuses anything else, saying where', () => {
    expect(parseNeighbours(fx('proc-net-arp.txt')).ok).toBe(true);
    expect(parseNeighbours(fx('ip-neigh.json')).ok).toBe(true);
    expect(parseNeighbours('hello')).toEqual({ ok: false, error: 'neither `ip -j neigh` JSON nor /proc/net/arp' });
    const bad = parseIpNeighJson('[{"dev":"eth0"}]');
    expect(bad.ok ? '' : bad.error).toMatch(/^not an `ip -j neigh` table: 0\.dst: /);
  });
});

describe('SSH banners and MAC prefixes', () => {
  it.each([
    ['SSH-2.0-OpenSSH_9.2p1 Raspbian-2+deb12u3', 'Raspberry Pi OS 32-bit (bookworm)', true],
    ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3', 'Debian (bookworm) or 64-bit Raspberry Pi OS', false],
    ['SSH-2.0-OpenSSH_10.0p1 Debian-7', 'Debian (trixie) or 64-bit Raspberry Pi OS', false],
    ['SSH-2.0-OpenSSH_8.4p1 Raspbian-5+deb11u3', 'Raspberry Pi OS 32-bit (bullseye)', true],
    ['SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10', 'Ubuntu', false],
    ['SSH-2.0-dropbear_2022.83', 'dropbear (a router or an embedded device?)', false],
  ])('%s → %s', (banner, text, raspbian) => {
    expect(osHint(banner)).toEqual({ text, raspbian });
  });
  it('finds the SSH line after other lines, CR stripped', () => {
    expect(bannerLine('welcome\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n')).toBe('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3');
    expect(bannerLine('HTTP/1.1 400 Bad Request\r\n')).toBeUndefined();
  });
  it.each([
    ['b8:27:eb:4a:19:7c', 'Raspberry Pi Foundation', true],
    ['DC-A6-32-01-02-03', 'Raspberry Pi Trading', true],
    ['e45f01aabbcc', 'Raspberry Pi Trading', true],
    ['d8:3a:dd:00:00:01', 'Raspberry Pi Trading', true],
    ['28:cd:c1:00:00:01', 'Raspberry Pi Trading', true],
    ['2c:cf:67:00:00:01', 'Raspberry Pi Trading', true],
    ['02:42:0a:4d:00:0b', 'locally administered', false],
    ['3c:22:fb:aa:bb:cc', undefined, false],
  ])('%s → %s', (mac, name, raspberryPi) => {
    expect(vendorOf(mac)).toEqual({ name, raspberryPi });
  });
});

describe('the default subnet and mDNS', () => {
  it('is the subnet of the interface holding the default route with the lowest metric', () => {
    expect(defaultCidr(fx('ip-addr.json'), fx('ip-route.json'))).toEqual({ ok: true, cidr: '192.168.0.0/24', ifname: 'eth0', address: '192.168.0.42' });
  });
  it('is refused, with what to do, when there is no default route or its interface has no address', () => {
    expect(defaultCidr(fx('ip-addr.json'), '[]')).toEqual({ ok: false, error: "no default route: give the Pis' subnet with --cidr" });
    const r = defaultCidr(fx('ip-addr.json'), '[{"dst":"default","dev":"docker0"}]');
    expect(r.ok ? '' : r.error).toBe("the default route's interface docker0 has no IPv4 address: give the Pis' subnet with --cidr");
  });
  it('asks mDNS only when nsswitch.conf routes names to nss-mdns', () => {
    expect(nsswitchHasMdns('passwd: files\nhosts:          files mdns4_minimal [NOTFOUND=return] dns\n')).toBe(true);
    expect(nsswitchHasMdns('hosts:          files dns\n')).toBe(false);
    expect(nsswitchHasMdns('hosts: files dns # mdns4 later\n')).toBe(false);
  });
});

describe('findings', () => {
  const knocks = new Map<string, Knock>([
    ['192.168.0.23', { kind: 'banner', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3' }],
    ['192.168.0.24', { kind: 'refused' }],
    ['192.168.0.31', { kind: 'refused' }],
    ['192.168.0.50', { kind: 'banner', banner: 'SSH-2.0-OpenSSH_9.2p1 Raspbian-2+deb12u3' }],
    ['192.168.0.60', { kind: 'banner', banner: 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13' }],
    ['192.168.0.104', { kind: 'banner', banner: 'SSH-2.0-OpenSSH_9.2p1 Raspbian-2+deb12u3' }],
    ['192.168.0.99', { kind: 'silent' }],
  ]);
  const neigh = parseIpNeighJson(fx('ip-neigh.json'));
  const findings = collectFindings({
    cidr: cidr('192.168.0.0/24'),
    knocks,
    neighbours: neigh.ok ? neigh.neighbours : [],
    mdns: new Map([['raspberrypi.local', ['192.168.0.50', '10.9.9.9']]]),
    inventory: new Map([['worker01', ['192.168.0.104']]]),
    virtual: false,
  });
  it('has one row per address that answered inside the block, with the evidence that it is a Pi', () => {
    expect(findings.map((f) => [f.address, f.mac ?? '-', f.piEvidence.join('+') || 'no', f.inventoryHost ?? 'new'])).toEqual([
      ['192.168.0.1', 'a4:91:b1:0c:22:10', 'no', 'new'],
      ['192.168.0.23', 'b8:27:eb:4a:19:7c', 'MAC', 'new'],
      ['192.168.0.24', 'dc:a6:32:01:02:03', 'MAC', 'new'],
      ['192.168.0.31', '3c:22:fb:aa:bb:cc', 'no', 'new'],
      ['192.168.0.50', '-', 'banner+mDNS', 'new'],
      ['192.168.0.60', '-', 'no', 'new'],
      ['192.168.0.104', '-', 'banner', 'worker01'],
    ]);
  });
  it('adds only Pis that answer SSH and are not in the inventory', () => {
    expect(newPis(findings).map((f) => f.address)).toEqual(['192.168.0.23', '192.168.0.50']);
  });
  it('prints a table', () => {
    const table = formatFindings(findings).split('\n');
    expect(table[0]).toMatch(/^address\s+MAC\s+vendor\s+hostname\s+SSH\s+OS \(from the banner\)\s+Pi\?\s+inventory$/);
    expect(table[2]).toMatch(/^192\.168\.0\.23\s+b8:27:eb:4a:19:7c\s+Raspberry Pi Foundation\s+-\s+SSH-2\.0-OpenSSH_9\.2p1 Debian-2\+deb12u3\s+Debian \(bookworm\) or 64-bit Raspberry Pi OS\s+yes \(MAC\)\s+new$/);
    expect(table[3]).toContain('refused: ssh not enabled on the card?');
    expect(table[4]).toMatch(/^192\.168\.0\.31 .* port closed /);
    expect(table[5]).toMatch(/raspberrypi\.local .* yes \(banner, mDNS\)/);
  });
  it('on the virtual fridge, an SSH server of the sim network is a node even with docker\'s MAC', () => {
    const sim = collectFindings({
      cidr: cidr('10.77.0.0/24'),
      knocks: new Map([['10.77.0.11', { kind: 'banner', banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3' }]]),
      neighbours: neigh.ok ? neigh.neighbours : [],
      mdns: new Map(),
      inventory: new Map(),
      virtual: true,
    });
    expect(sim.map((f) => [f.address, f.vendor, f.piEvidence])).toEqual([['10.77.0.11', 'locally administered', ['virtual fridge']]]);
  });
});

describe('names and static addresses for the new Pis', () => {
  it('continues the inventory\'s numbering', () => {
    expect(nextNames(['worker01', 'worker02', 'worker05'], 2)).toEqual(['worker06', 'worker07']);
    expect(nextNames(['pi1', 'pi2', 'leader'], 1)).toEqual(['pi3']);
    expect(nextNames([], 2)).toEqual(['pi1', 'pi2']);
    expect(nextNames(['node9'], 1)).toEqual(['node10']);
  });
  it('reads FIRST-LAST in both forms', () => {
    expect(parseStaticRange('192.168.0.101-120')).toMatchObject({ ok: true, last: parseStaticRange('192.168.0.101-192.168.0.120').ok ? (parseStaticRange('192.168.0.101-192.168.0.120') as { last: number }).last : 0 });
    expect(parseStaticRange('192.168.0.120-101').ok).toBe(false);
    expect(parseStaticRange('192.168.0.101').ok).toBe(false);
  });
  const known = [
    { name: 'worker01', ansibleHost: '192.168.0.104', staticIp: '192.168.0.104' },
    { name: 'worker02', ansibleHost: '192.168.0.105', staticIp: '192.168.0.105' },
  ];
  it('continues after the highest fridge_static_ip, skipping addresses in use', () => {
    const r = proposeAdditions({ found: ['192.168.0.50', '192.168.0.23'], known, range: undefined, network: cidr('192.168.0.0/24'), taken: new Set(['192.168.0.106']), needsManager: false });
    expect(r).toEqual({
      ok: true,
      additions: [
        { name: 'worker03', group: 'workers', ansibleHost: '192.168.0.23', staticIp: '192.168.0.107' },
        { name: 'worker04', group: 'workers', ansibleHost: '192.168.0.50', staticIp: '192.168.0.108' },
      ],
    });
  });
  it('takes --static-range, makes the first a manager when there is none, and says when the range is too small', () => {
    const range = parseStaticRange('192.168.0.101-102');
    if (!range.ok) throw new Error(range.error);
    const r = proposeAdditions({ found: ['192.168.0.23'], known: [], range, network: cidr('192.168.0.0/24'), taken: new Set(['192.168.0.101']), needsManager: true });
    expect(r).toEqual({ ok: true, additions: [{ name: 'pi1', group: 'managers', ansibleHost: '192.168.0.23', staticIp: '192.168.0.102' }] });
    const small = proposeAdditions({ found: ['192.168.0.23', '192.168.0.24', '192.168.0.25'], known: [], range, network: cidr('192.168.0.0/24'), taken: new Set(), needsManager: true });
    expect(small.ok ? '' : small.error).toBe('--static-range 192.168.0.101-192.168.0.102 has 2 free address(es) in 192.168.0.0/24 for 3 Pi(s): give a larger --static-range');
  });
  it('asks for a range when the inventory has no static address to continue from', () => {
    const r = proposeAdditions({ found: ['192.168.0.23'], known: [], range: undefined, network: cidr('192.168.0.0/24'), taken: new Set(), needsManager: true });
    expect(r.ok ? '' : r.error).toMatch(/^no fridge_static_ip in the inventory to continue from: give --static-range FIRST-LAST/);
  });
});

describe('the inventory merge', () => {
  const seed = fx('inventory-seed.yaml');
  const add = [
    { name: 'worker04', group: 'workers' as const, ansibleHost: '192.168.0.23', staticIp: '192.168.0.107' },
    { name: 'worker05', group: 'workers' as const, ansibleHost: '192.168.0.50', staticIp: '192.168.0.108' },
  ];
  it('appends to the group, in the file\'s own style, every other byte unchanged', () => {
    const r = addHosts(seed, add, true);
    if (!r.ok) throw new Error(r.error);
    const lines = seed.split('\n');
    const at = lines.findIndex((l) => l.includes('worker03:')) + 1;
    expect(r.text).toBe(
      [
        ...lines.slice(0, at),
        '        worker04: {ansible_host: 192.168.0.23, fridge_static_ip: 192.168.0.107}',
        '        worker05: {ansible_host: 192.168.0.50, fridge_static_ip: 192.168.0.108}',
        ...lines.slice(at),
      ].join('\n'),
    );
    expect(r.text).toContain('    ansible_user: pi                                     # Raspberry Pi OS\'s default user');
    expect(knownHosts(r.text)).toMatchObject({ ok: true, managers: 1 });
  });
  it('creates a missing group and fills an empty `hosts: {}`, in block style when the file uses it', () => {
    const text = '# mine\nall:\n  vars:\n    fridge_model: "3B"   # kept\n  children:\n    workers:\n      hosts: {}   # none yet\n';
    const r = addHosts(text, [{ name: 'pi1', group: 'managers', ansibleHost: '10.0.0.5', staticIp: '10.0.0.101' }, { name: 'pi2', group: 'workers', ansibleHost: '10.0.0.6', staticIp: '10.0.0.102' }], false);
    if (!r.ok) throw new Error(r.error);
    expect(r.text).toBe(
      [
        '# mine',
        'all:',
        '  vars:',
        '    fridge_model: "3B"   # kept',
        '  children:',
        '    workers:',
        '      hosts:   # none yet',
        '        pi2:',
        '          ansible_host: 10.0.0.6',
        '          fridge_static_ip: 10.0.0.102',
        '    managers:',
        '      hosts:',
        '        pi1:',
        '          ansible_host: 10.0.0.5',
        '          fridge_static_ip: 10.0.0.101',
        '',
      ].join('\n'),
    );
    expect(parse(r.text)).toEqual({
      all: {
        vars: { fridge_model: '3B' },
        children: { workers: { hosts: { pi2: { ansible_host: '10.0.0.6', fridge_static_ip: '10.0.0.102' } } }, managers: { hosts: { pi1: { ansible_host: '10.0.0.5', fridge_static_ip: '10.0.0.101' } } } },
      },
    });
  });
  it('puts back the workers of the virtual fridge\'s generated inventory (block style) as it wrote them', () => {
    const whole = simInventory({ nodes: 5, arch: 'amd64', model: '3B' }) as { all: { children: { workers: { hosts: Record<string, { ansible_host: string; fridge_static_ip: string }> } } } };
    const workers = whole.all.children.workers.hosts;
    const without = structuredClone(whole) as { all: { children: { workers?: unknown } } };
    delete without.all.children.workers;
    const r = addHosts(stringify(without, { lineWidth: 0 }), Object.entries(workers).map(([name, v]) => ({ name, group: 'workers' as const, ansibleHost: v.ansible_host, staticIp: v.fridge_static_ip })), false);
    if (!r.ok) throw new Error(r.error);
    expect(r.text).toBe(stringify(whole, { lineWidth: 0 }));
  });
  it('refuses a hosts map written in flow style rather than rewrite it', () => {
    const r = addHosts('all:\n  children:\n    workers:\n      hosts: {a: {ansible_host: 1.2.3.4}}\n', [{ name: 'a2', group: 'workers', ansibleHost: '1.2.3.5', staticIp: '1.2.3.6' }], true);
    expect(r.ok ? '' : r.error).toBe('all.children.workers.hosts is a flow map ({...}): write it as a block map so that discover can add to it');
  });
  it('knows the hosts of every group, in file order', () => {
    const k = knownHosts(seed);
    expect(k.ok && k.hosts.map((h) => `${h.name}@${h.ansibleHost ?? ''}/${h.staticIp ?? ''}`)).toEqual([
      'worker01@192.168.0.104/192.168.0.104',
      'worker02@192.168.0.105/192.168.0.105',
      'worker03@192.168.0.106/192.168.0.106',
    ]);
    expect(k.ok && k.flowEntries).toBe(true);
  });
});

describe('the probe', () => {
  it('knocks only on the addresses given inside the block, at most `concurrency` at a time', async () => {
    let open = 0;
    let most = 0;
    const asked: string[] = [];
    const connect = async (address: string): Promise<Knock> => {
      asked.push(address);
      most = Math.max(most, ++open);
      await new Promise((r) => setTimeout(r, 5));
      open--;
      return address.endsWith('.7') ? { kind: 'banner', banner: 'SSH-2.0-x' } : { kind: 'silent' };
    };
    const c = cidr('10.9.0.0/26');
    const all = expandCidr(c, false);
    if (!all.ok) throw new Error(all.error);
    const r = await probe(c, all.addresses, { port: 22, timeoutMs: 100, concurrency: 8, perSecond: 10_000, connect });
    expect(asked.sort()).toEqual([...all.addresses].sort());
    expect(most).toBeLessThanOrEqual(8);
    expect(r.get('10.9.0.7')).toEqual({ kind: 'banner', banner: 'SSH-2.0-x' });
    await expect(probe(c, ['10.9.1.1'], { port: 22, timeoutMs: 100, concurrency: 8, perSecond: 100, connect })).rejects.toThrow(/outside it: 10\.9\.1\.1/);
    expect(asked).not.toContain('10.9.1.1');
  });
  it('paces the starts: 20 connections at 100 per second take at least 190 ms', async () => {
    const c = cidr('10.9.0.0/27');
    const all = expandCidr(c, false);
    if (!all.ok) throw new Error(all.error);
    const started = Date.now();
    await probe(c, all.addresses.slice(0, 20), { port: 22, timeoutMs: 100, concurrency: 64, perSecond: 100, connect: async () => ({ kind: 'silent' }) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(185);
  });
  it('reads a real banner on loopback, and tells a refused port and a silent one apart', async () => {
    const banner = net.createServer((s) => s.end('SSH-2.0-OpenSSH_9.2p1 Raspbian-2+deb12u3\r\n'));
    const mute = net.createServer(() => undefined);
    const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));
    const gone = net.createServer();
    const [p1, p2, p3] = [await listen(banner), await listen(mute), await listen(gone)];
    await new Promise((r) => gone.close(r));
    try {
      expect(await tcpKnock('127.0.0.1', p1, 1000)).toEqual({ kind: 'banner', banner: 'SSH-2.0-OpenSSH_9.2p1 Raspbian-2+deb12u3' });
      expect(await tcpKnock('127.0.0.1', p2, 200)).toEqual({ kind: 'open' });
      expect(await tcpKnock('127.0.0.1', p3, 1000)).toEqual({ kind: 'refused' });
    } finally {
      banner.close();
      mute.close();
    }
  });
});
