// The first boot of a freshly flashed Pi (issue #13 item 4), on the virtual fridge: nodes booted from their cards
// (`sim up --first-boot`: systemd as init, NetworkManager on eth0, a DHCP lease from the sim's router, Raspberry
// Pi MACs). A blank card lets nobody in; a card written by `sd-card --boot DIR` gives key login at the Pi's lease,
// its hostname and no password login, through the mechanisms Raspberry Pi OS Bookworm uses (firstrun.sh from
// cmdline.txt's systemd.run=, then a reboot; userconf.txt; `ssh`). discover then finds exactly these Pis, this time
// by their MAC vendor; pi-setup moves each from its lease to its static address (NetworkManager, for real), and
// deploy runs the job there. Last in the suite: it replaces the shared virtual fridge's nodes with first-boot ones.
//
// Where the sim differs from a Pi (tasks/lib/sim/README.md): userconf-pi, sshswitch and imager_custom are small
// stand-ins (raspberrypi-sys-mods and userconf-pi are not packaged by Debian), and docker.service's open-files limit
// is 20000, not infinity (no CAP_SYS_RESOURCE for a node here).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { MOVED_FILE } from '../../tasks/lib/inventory/moved.ts';
import { flashBlankCard } from '../../tasks/lib/sim/cards.ts';
import { SIM, SIM_PATHS, cardDir, nodeAddress, nodeMac, nodeName } from '../../tasks/lib/sim/config.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { sshReady } from '../../tasks/lib/sim/wait.ts';
import type { Lease } from '../../tasks/lib/sim/services.ts';
import { explain, runTask } from '../support/run-task.ts';

const execFileP = promisify(execFile);
const NODES = 5;
const names = Array.from({ length: NODES }, (_, k) => nodeName(k + 1));
const figures: Record<string, string> = {};
let dir = '';
let leases: Record<string, Lease> = {};
let atLeases = '';
let firstBootAt = 0;

async function inNode(node: string, command: string): Promise<string> {
  return (await execFileP('docker', ['exec', containerName(node), 'sh', '-c', command])).stdout.trim();
}

async function bootFirstTime(): Promise<Record<string, Lease>> {
  const t0 = Date.now();
  const up = await simUp({ nodes: NODES, firstBoot: true, fresh: true });
  if (!up.ok) throw new Error(`sim up --first-boot failed: ${up.error}`);
  figures['sim up --first-boot (5 nodes, to a lease each)'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  return up.leases ?? {};
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-first-boot-'));
  for (const n of names) flashBlankCard(n);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`first-boot figures: ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
});

describe('first boot from a card, as Raspberry Pi OS Bookworm (systemd, NetworkManager, DHCP, b8:27:eb MACs)', () => {
  it('blank cards: every Pi gets a lease from the dynamic range under its Raspberry Pi MAC, and nobody can log in', { timeout: 300_000 }, async () => {
    leases = await bootFirstTime();
    expect(Object.keys(leases).sort()).toEqual([...names].sort());
    for (const [k, n] of names.entries()) {
      const lease = leases[n];
      expect(lease?.mac).toBe(nodeMac(k + 1));
      expect(lease?.mac.startsWith('b8:27:eb:')).toBe(true);
      const last = Number(lease?.address.split('.')[3]);
      expect(last, `${n}'s lease ${lease?.address}`).toBeGreaterThanOrEqual(100);
      expect(last).toBeLessThanOrEqual(199);
      // No sshd on a blank card (neither at the lease nor at the address the sim reserved for its static one).
      expect(await sshReady(lease?.address ?? '')).toBe(false);
      expect(await inNode(n, 'systemctl is-enabled ssh.service || true')).toBe('disabled');
      expect(await inNode(n, 'cat /etc/hostname')).toBe(SIM.freshHostname);
      expect(await inNode(n, 'ps -p 1 -o comm=')).toBe('systemd');
      // eth0 is NetworkManager's, on DHCP, and holds only its lease.
      expect(await inNode(n, 'ip -4 -o addr show dev eth0 | awk \'{print $4}\'')).toBe(`${lease?.address}/24`);
      expect(await inNode(n, 'nmcli -t -f GENERAL.STATE,IP4.ADDRESS device show eth0 | head -1')).toMatch(/^GENERAL\.STATE:100/);
    }
  });

  it('cards written by sd-card: firstrun.sh runs once and the Pi reboots into key-only login at its lease, named as the inventory says', { timeout: 600_000 }, async () => {
    const inventory = SIM_PATHS.firstBootInventory;
    for (const n of names) {
      const r = await runTask('sd-card', ['-i', inventory, '--host', n, '--boot', cardDir(n), '--yes']);
      expect(r.code, explain(r)).toBe(0);
      expect(fs.readFileSync(path.join(cardDir(n), 'cmdline.txt'), 'utf8')).toContain('systemd.run=/boot/firmware/firstrun.sh');
    }
    const t0 = Date.now();
    leases = await bootFirstTime();
    // The inventory an operator writes after reading the router's client list: each host at its lease.
    const data = parse(fs.readFileSync(inventory, 'utf8')) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } };
    for (const g of Object.values(data.all.children)) for (const [n, vars] of Object.entries(g.hosts)) vars.ansible_host = leases[n]?.address;
    atLeases = path.join(dir, 'at-leases.yaml');
    firstBootAt = t0;
    fs.writeFileSync(atLeases, stringify(data, { lineWidth: 0 }));
    let ready = false;
    while (!ready && Date.now() - t0 < 120_000) ready = (await Promise.all(names.map((n) => sshReady(leases[n]?.address ?? '')))).every(Boolean);
    figures['first boot with a prepared card → SSH at the lease'] = `${((Date.now() - t0) / 1000).toFixed(1)} s (5 nodes at once)`;
    // Booted: the card was used up as on a Pi. The script removed itself and its cmdline.txt parameters;
    // userconf.txt and ssh were consumed by their services.
    for (const n of names) {
      expect(await inNode(n, 'systemctl is-system-running --wait || true')).toBe('running');
      expect(fs.readdirSync(cardDir(n)).sort()).toEqual(['cmdline.txt', 'config.txt', 'issue.txt']);
      expect(fs.readFileSync(path.join(cardDir(n), 'cmdline.txt'), 'utf8')).not.toContain('systemd.run');
    }
    const ping = await runTask('ping', ['-i', atLeases]);
    expect(ping.code, explain(ping)).toBe(0);
    for (const [k, n] of names.entries()) {
      expect(leases[n]?.hostname).toBe(n);
      expect(await inNode(n, 'cat /etc/hostname')).toBe(n);
      expect(await inNode(n, 'grep "^127.0.1.1" /etc/hosts')).toMatch(new RegExp(`^127\\.0\\.1\\.1\\s+${n}$`));
      expect(await inNode(n, 'systemctl is-enabled ssh.service')).toBe('enabled');
      expect(await inNode(n, 'sshd -T 2>/dev/null | grep -i "^passwordauthentication"')).toBe('passwordauthentication no');
      // The sim reserved the static address for this node, but nothing answers there yet: pi-setup's job.
      expect(await inNode(n, 'ip -4 -o addr show dev eth0 | awk \'{print $4}\'')).toBe(`${leases[n]?.address}/24`);
      expect(await sshReady(nodeAddress(k + 1))).toBe(false);
    }
  });

  it('discover finds exactly these Pis at their leases, by their Raspberry Pi MACs, and nothing else of the network', { timeout: 120_000 }, async () => {
    const r = await runTask('discover', ['-i', SIM_PATHS.firstBootInventory, '--cidr', SIM.subnet, '--json']);
    figures[`discover ${SIM.subnet} (first boot)`] = `${(r.ms / 1000).toFixed(1)} s`;
    expect(r.code, explain(r)).toBe(0);
    const doc = JSON.parse(r.stdout) as { phases: { data: { discover?: { hosts: { address: string; mac?: string; vendor?: string; ssh: string; piEvidence: string[] }[] } } }[] };
    const found = doc.phases[0]?.data.discover?.hosts ?? [];
    const withSsh = found.filter((h) => h.ssh === 'banner');
    const want = names.map((n) => leases[n]?.address ?? '').sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]));
    expect(withSsh.map((h) => h.address)).toEqual(want);
    for (const h of withSsh) {
      expect(h.mac?.startsWith('b8:27:eb')).toBe(true);
      expect(h.vendor ?? '').toMatch(/Raspberry/);
    }
    expect(found.map((h) => h.address)).not.toContain(SIM.gateway);
  });

  it('pi-setup moves every Pi from its lease to its static address with NetworkManager, and the next run connects there with changed=0', { timeout: 900_000 }, async () => {
    const first = await runTask('pi-setup', ['-i', atLeases]);
    expect(first.code, explain(first)).toBe(0);
    for (const [k, n] of names.entries()) {
      const to = nodeAddress(k + 1);
      expect(first.stdout).toContain(`${n} is at its static address ${to} now (moved from ${leases[n]?.address})`);
      // eth0 holds the static address only, from the profile pi-setup wrote, and the lease is gone.
      expect(await inNode(n, 'ip -4 -o addr show dev eth0 | awk \'{print $4}\'')).toBe(`${to}/24`);
      expect(await inNode(n, 'nmcli -t -f GENERAL.CONNECTION device show eth0')).toBe('GENERAL.CONNECTION:fridge-eth0');
      expect(await sshReady(leases[n]?.address ?? '')).toBe(false);
    }
    const book = JSON.parse(fs.readFileSync(MOVED_FILE, 'utf8')) as Record<string, Record<string, { from: string; to: string }>>;
    expect(Object.fromEntries(Object.entries(book[atLeases] ?? {}).map(([n, m]) => [n, `${m.from}→${m.to}`]))).toEqual(
      Object.fromEntries(names.map((n, k) => [n, `${leases[n]?.address}→${nodeAddress(k + 1)}`])),
    );
    const again = await runTask('pi-setup', ['-i', atLeases]);
    expect(again.code, explain(again)).toBe(0);
    for (const n of names) expect(again.stdout).toMatch(new RegExp(`${n}\\s+: ok=\\d+ changed=0 unreachable=0 failed=0`));
  });

  it('a rebooted Pi comes back at its static address (the profile outranks the DHCP one)', { timeout: 180_000 }, async () => {
    const n = nodeName(3);
    await execFileP('docker', ['restart', '--time', '10', containerName(n)]);
    let back = false;
    const t0 = Date.now();
    while (!back && Date.now() - t0 < 90_000) back = await sshReady(nodeAddress(3));
    expect(back).toBe(true);
    expect(await inNode(n, 'ip -4 -o addr show dev eth0 | awk \'{print $4}\'')).toBe(`${nodeAddress(3)}/24`);
    const ping = await runTask('ping', ['-i', atLeases, '--limit', n]);
    expect(ping.code, explain(ping)).toBe(0);
  });

  it('deploy on the moved Pis: the swarm forms at the static addresses and the job runs', { timeout: 1_800_000 }, async () => {
    const r = await runTask('deploy', ['-i', atLeases]);
    expect(r.code, explain(r)).toBe(0);
    figures['first boot → RUNNING (5 nodes, image already in the registry)'] = `${((Date.now() - firstBootAt) / 60_000).toFixed(1)} min`;
    const nodes = await inNode(nodeName(1), "docker node ls --format '{{.Hostname}} {{.Status}}'");
    expect(nodes.split('\n').sort()).toEqual(names.map((n) => `${n} Ready`));
    const addrs = await inNode(nodeName(1), "docker node inspect --format '{{.Status.Addr}}' $(docker node ls -q)");
    expect(addrs.split('\n').sort()).toEqual(names.map((_, k) => nodeAddress(k + 1)).sort());
    expect(r.stdout).toMatch(/job: sensor-window@\w+ \(RUNNING\)/);
  });

  it('a re-flashed Pi: its changed key is refused with the command to accept it, then pi-setup moves it again', { timeout: 900_000 }, async () => {
    const n = nodeName(3);
    const lease = leases[n]?.address ?? '';
    flashBlankCard(n);
    const card = await runTask('sd-card', ['-i', SIM_PATHS.firstBootInventory, '--host', n, '--boot', cardDir(n), '--yes']);
    expect(card.code, explain(card)).toBe(0);
    const up = await simUp({ nodes: NODES, firstBoot: true, renew: [n] });
    if (!up.ok) throw new Error(`sim up --renew failed: ${up.error}`);
    // The same MAC gets the same lease back from the router.
    expect(up.leases?.[n]?.address).toBe(lease);
    let t0 = Date.now();
    while (!(await sshReady(lease)) && Date.now() - t0 < 90_000);
    // Not at its static address any more; at its lease, a host key that is not the one first trusted there.
    const refused = await runTask('ping', ['-i', atLeases, '--limit', n]);
    expect(refused.code).not.toBe(0);
    const out = `${refused.stdout}${refused.stderr}`;
    expect(out).toContain(`nor at its first-contact address ${lease} (ansible_host)`);
    const accept = /ssh-keygen -R '[^']+' -f \S+/.exec(out)?.[0];
    expect(accept, out).toContain(`ssh-keygen -R '${lease}'`);
    await execFileP('sh', ['-c', accept ?? 'false']);
    t0 = Date.now();
    // With the state storage's server (pi1): it must authorize the new card's storage key.
    const again = await runTask('pi-setup', ['-i', atLeases, '--limit', `${nodeName(1)},${n}`]);
    expect(again.code, explain(again)).toBe(0);
    figures['re-flashed Pi → pi-setup done at its static address'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    expect(again.stdout).toContain(`move from ${lease} to ${nodeAddress(3)}`);
    expect(again.stdout).toMatch(new RegExp(`${nodeName(1)}\\s+: ok=\\d+ changed=\\d+ unreachable=0 failed=0`));
    expect(await inNode(n, 'mount | grep -c " /mnt/fridge-state type fuse.sshfs"')).toBe('1');
    expect(await inNode(n, 'ip -4 -o addr show dev eth0 | awk \'{print $4}\'')).toBe(`${nodeAddress(3)}/24`);
  });
});
