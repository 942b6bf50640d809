// sd-card (issue #13 item 1): the pure parts. Detection and writers from fixtures of real boot partitions'
// file lists, the userconf hash format, cloud-init YAML, idempotence of the plan, and each flashing refusal
// from captured /proc/mounts and lsblk text.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashMatches, saltOf, sha512Crypt } from '../../tasks/lib/sdcard/crypt.ts';
import { detectBootOs } from '../../tasks/lib/sdcard/detect.ts';
import { diskOf, MAX_CARD_BYTES, mountsOf, normaliseSha256, parseMounts, refuseTarget, systemDisks, type TargetFacts } from '../../tasks/lib/sdcard/flash.ts';
import { targetOf } from '../../tasks/lib/sdcard/phase.ts';
import { fatPartitionOffset } from '../../tasks/lib/sdcard/volume.ts';
import { existingHash, FIRSTRUN_CMDLINE, planBootFiles, type CardSettings } from '../../tasks/lib/sdcard/writers.ts';

const fx = (f: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', 'boot', f), 'utf8');
const list = (f: string) => fx(f).split('\n').filter((l) => l && !l.startsWith('#'));
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFridgeFridgeFridgeFridgeFridgeFridgeFridge1 op@laptop';
const hashed = sha512Crypt('correct horse', 'fridgesalt');
const HASH = hashed.ok ? hashed.hash : '';

function card(os: 'bookworm' | 'trixie'): Map<string, string> {
  const m = new Map([['cmdline.txt', fx(`${os}-cmdline.txt`)], ['issue.txt', fx(`${os}-issue.txt`)]]);
  if (os === 'trixie') for (const f of ['user-data', 'meta-data', 'network-config']) m.set(f, fx(`trixie-${f}`));
  return m;
}
const settings = (over: Partial<CardSettings> = {}): CardSettings => ({
  hostname: 'pi3',
  user: 'fridge',
  passwordHash: HASH,
  authorizedKeys: [KEY],
  network: { kind: 'dhcp', iface: 'eth0' },
  ...over,
});
const apply = (m: Map<string, string>, os: 'bookworm' | 'trixie', s: CardSettings) => {
  for (const w of planBootFiles(os, m, s)) m.set(w.name, w.after);
  return m;
};

describe('which OS the card holds', () => {
  it('Bookworm: no cloud-init seed on the boot partition', () => {
    expect(detectBootOs(list('bookworm-2024-11-19.files'), fx('bookworm-issue.txt'))).toEqual({ ok: true, os: 'bookworm', evidence: 'no cloud-init seed; issue.txt: reference 2024-11-19' });
  });
  it('Trixie: pi-gen puts meta-data, user-data, network-config there', () => {
    expect(detectBootOs(list('trixie-2025-10-01.files'), fx('trixie-issue.txt'))).toMatchObject({ ok: true, os: 'trixie', evidence: 'cloud-init seed (meta-data, user-data, network-config)' });
  });
  it('no cmdline.txt: not a Raspberry Pi OS card', () => {
    expect(detectBootOs(['EFI', 'README'], undefined)).toMatchObject({ ok: false, error: expect.stringContaining('no cmdline.txt') });
  });
});

describe('Bookworm writers', () => {
  const w = planBootFiles('bookworm', card('bookworm'), settings());
  const by = new Map(w.map((x) => [x.name, x.after]));
  it('writes ssh, userconf.txt (user:SHA-512 crypt), firstrun.sh and cmdline.txt', () => {
    expect(w.map((x) => x.name)).toEqual(['ssh', 'userconf.txt', 'firstrun.sh', 'cmdline.txt']);
    expect(by.get('userconf.txt')).toMatch(/^fridge:\$6\$fridgesalt\$[./0-9A-Za-z]{86}\n$/);
    expect(by.get('ssh')).toBe('');
  });
  it('firstrun.sh sets the hostname, installs the key, turns password login off, removes itself', () => {
    const s = by.get('firstrun.sh') ?? '';
    expect(s).toContain('imager_custom set_hostname pi3');
    expect(s).toContain(`enable_ssh -k '${KEY}'`);
    expect(s).toContain("echo 'PasswordAuthentication no' >/etc/ssh/sshd_config.d/10-fridge-no-password.conf");
    expect(s.trimEnd().split('\n').slice(-3)).toEqual(['rm -f /boot/firmware/firstrun.sh', "sed -i 's| systemd.run.*||g' /boot/firmware/cmdline.txt", 'exit 0']);
  });
  it('without a key password login stays on', () => {
    const s = planBootFiles('bookworm', card('bookworm'), settings({ authorizedKeys: [] })).find((x) => x.name === 'firstrun.sh')?.after ?? '';
    expect(s).not.toContain('PasswordAuthentication no');
    expect(s).toContain('imager_custom enable_ssh\n');
  });
  it('cmdline.txt gets systemd.run= once, on its single line', () => {
    expect(by.get('cmdline.txt')).toBe(`${fx('bookworm-cmdline.txt').trim()}${FIRSTRUN_CMDLINE}\n`);
  });
  it('a static first contact writes a NetworkManager keyfile from firstrun.sh', () => {
    const s = planBootFiles('bookworm', card('bookworm'), settings({ network: { kind: 'static', iface: 'eth0', address: '192.168.0.104', prefix: 24, router: '192.168.0.1', dns: ['192.168.0.1'] } }));
    expect(s.find((x) => x.name === 'firstrun.sh')?.after).toContain('address1=192.168.0.104/24,192.168.0.1');
  });
  it('a second plan over the written card is empty, and the hash on the card is found again', () => {
    const m = apply(card('bookworm'), 'bookworm', settings());
    expect(planBootFiles('bookworm', m, settings())).toEqual([]);
    expect(existingHash('bookworm', m, 'fridge')).toBe(HASH);
  });
});

describe('Trixie writers (cloud-init, as Imager 2.x)', () => {
  const w = planBootFiles('trixie', card('trixie'), settings());
  const by = new Map(w.map((x) => [x.name, x.after]));
  it('user-data is valid #cloud-config with the user, hash, key, hostname and password login off', () => {
    const text = by.get('user-data') ?? '';
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(text)).toMatchObject({
      hostname: 'pi3',
      manage_etc_hosts: true,
      user: { name: 'fridge', passwd: HASH, lock_passwd: false, ssh_authorized_keys: [KEY] },
      ssh_pwauth: false,
      runcmd: [['systemctl', 'enable', '--now', 'ssh']],
    });
  });
  it('network-config: DHCP on eth0 for a first contact that discover finds', () => {
    expect(parse(by.get('network-config') ?? '')).toEqual({ network: { version: 2, ethernets: { eth0: { dhcp4: true, optional: true } } } });
  });
  it('meta-data and cmdline.txt carry the same stable instance id', () => {
    const id = /^instance-id: (fridge-[0-9a-f]{16})\n$/.exec(by.get('meta-data') ?? '')?.[1];
    expect(id).toBeDefined();
    expect(by.get('cmdline.txt')).toBe(`${fx('trixie-cmdline.txt').trim()} ds=nocloud;i=${id}\n`);
  });
  it('a second plan is empty; a changed hostname changes the instance id (cloud-init runs again)', () => {
    const m = apply(card('trixie'), 'trixie', settings());
    expect(planBootFiles('trixie', m, settings())).toEqual([]);
    expect(existingHash('trixie', m, 'fridge')).toBe(HASH);
    const again = planBootFiles('trixie', m, settings({ hostname: 'pi4' }));
    expect(again.map((x) => x.name)).toEqual(['user-data', 'meta-data', 'cmdline.txt']);
    expect((again.find((x) => x.name === 'cmdline.txt')?.after ?? '').match(/ds=nocloud/g)).toHaveLength(1);
  });
});

describe('userconf hash', () => {
  it('is SHA-512 crypt and verifies against its password only', () => {
    expect(saltOf(HASH)).toBe('fridgesalt');
    expect(hashMatches('correct horse', HASH)).toBe(true);
    expect(hashMatches('wrong', HASH)).toBe(false);
  });
});

describe('partition table', () => {
  it('finds the FAT partition\'s byte offset in sfdisk --json', () => {
    const json = JSON.stringify({ partitiontable: { label: 'dos', sectorsize: 512, partitions: [{ node: 'c.img1', start: 8192, size: 1048576, type: 'c' }, { node: 'c.img2', start: 1056768, size: 4194304, type: '83' }] } });
    expect(fatPartitionOffset(json)).toEqual({ ok: true, offset: 8192 * 512, size: 1048576 * 512 });
    expect(fatPartitionOffset(JSON.stringify({ partitiontable: { partitions: [{ start: 1, size: 2, type: '83' }] } }))).toMatchObject({ ok: false, error: expect.stringContaining('no FAT partition') });
  });
});

const PROC_MOUNTS = `/dev/nvme0n1p2 / ext4 rw,relatime 0 0
/dev/nvme0n1p1 /boot/efi vfat rw 0 0
proc /proc proc rw 0 0
/dev/sdb1 /media/op/bootfs vfat rw,nosuid,nodev 0 0
/dev/sdb2 /media/op/rootfs ext4 rw,nosuid,nodev 0 0
`;
const LSBLK = JSON.stringify({
  blockdevices: [
    { name: 'nvme0n1', type: 'disk', mountpoints: [null], children: [{ name: 'nvme0n1p1', type: 'part', mountpoints: ['/boot/efi'] }, { name: 'nvme0n1p2', type: 'part', mountpoints: ['/'] }] },
    { name: 'sda', type: 'disk', mountpoints: [null], children: [{ name: 'sda1', type: 'part', mountpoints: ['[SWAP]'] }] },
    { name: 'sdb', type: 'disk', mountpoints: [null], children: [{ name: 'sdb1', type: 'part', mountpoints: ['/media/op/bootfs'] }] },
    { name: 'sdc', type: 'disk', mountpoints: [null] },
  ],
});
const dev = (p: string, size = 32 * 1024 ** 3): TargetFacts => ({ path: p, real: p, blockDevice: true, exists: true, size, mounts: parseMounts(PROC_MOUNTS), lsblk: LSBLK });

describe('flashing refusals', () => {
  it('names disks as the kernel does', () => {
    expect(['/dev/sdb1', '/dev/mmcblk0p2', '/dev/nvme0n1p1', '/dev/loop3p1', '/dev/sdc'].map(diskOf)).toEqual(['/dev/sdb', '/dev/mmcblk0', '/dev/nvme0n1', '/dev/loop3', '/dev/sdc']);
  });
  it('the system disk: from /proc/mounts (/) and from lsblk (swap)', () => {
    expect(systemDisks(parseMounts(PROC_MOUNTS), LSBLK).sort()).toEqual(['/dev/nvme0n1', '/dev/sda']);
    expect(refuseTarget(dev('/dev/nvme0n1'), true)).toBe('/dev/nvme0n1 is the disk this system runs from: refusing to write it');
    expect(refuseTarget(dev('/dev/sda'), true)).toContain('the disk this system runs from');
  });
  it('a mounted card, with the umount to run', () => {
    expect(mountsOf('/dev/sdb', parseMounts(PROC_MOUNTS))).toEqual(['/media/op/bootfs', '/media/op/rootfs']);
    expect(refuseTarget(dev('/dev/sdb'), false)).toBe('/dev/sdb is mounted (/media/op/bootfs, /media/op/rootfs): unmount it first (umount /media/op/bootfs /media/op/rootfs)');
  });
  it('larger than an SD card unless --force', () => {
    expect(refuseTarget(dev('/dev/sdc', 2 * 1024 ** 4), false)).toBe('/dev/sdc holds 2048 GiB, more than an SD card would (256 GiB): --force if it really is the card');
    expect(refuseTarget(dev('/dev/sdc', 2 * 1024 ** 4), true)).toBeUndefined();
    expect(refuseTarget(dev('/dev/sdc', MAX_CARD_BYTES), false)).toBeUndefined();
  });
  it('--sha256 takes bare hex or a sha256sum line', () => {
    const hex = 'a'.repeat(64);
    expect(normaliseSha256(`${hex.toUpperCase()}  2025-10-01-raspios-trixie-arm64-lite.img.xz\n`)).toBe(hex);
    expect(normaliseSha256('abc')).toBeUndefined();
  });
});

describe('where the card is', () => {
  it.each([
    [{ boot: '/media/bootfs' }, { ok: true, target: { kind: 'dir', dir: '/media/bootfs' } }],
    [{ image: 'card.img' }, { ok: true, target: { kind: 'fat', file: 'card.img', flashFrom: undefined } }],
    [{ image: 'os.img.xz', device: '/dev/sdc' }, { ok: true, target: { kind: 'fat', file: '/dev/sdc', flashFrom: 'os.img.xz' } }],
    [{ image: 'os.img.xz' }, { ok: false, error: 'os.img.xz is compressed: flash it with --device TARGET (a card, or a file to become the raw image)' }],
    [{ boot: '/b', device: '/dev/sdc' }, { ok: false, error: expect.stringContaining('--boot writes into a mounted partition') }],
    [{}, { ok: false, error: expect.stringContaining('say where the card is') }],
  ])('%j', (args, expected) => {
    expect(targetOf(args)).toEqual(expected);
  });
});
