// sd-card (issue #13 item 1) end to end on raw image files standing in for cards: a partition table and a FAT
// partition holding Bookworm's or Trixie's boot files, prepared through the CLI, read back with mtools, run
// again (changed=0), flashed from an .img.xz, and each refusal the operator can meet. No docker, no network.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../tasks/lib/cli/main.ts';
import { capture } from '../unit/cli-capture.ts';

const FX = path.join(import.meta.dirname, '..', 'unit', 'fixtures', 'boot');
const PASSWORD = 'first boot secret';
const tools = ['sfdisk', 'mkfs.vfat', 'mcopy', 'mtype', 'xz', 'openssl'].every((t) => {
  try {
    execFileSync('sh', ['-c', `command -v ${t}`]);
    return true;
  } catch {
    return false;
  }
});
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const OFFSET = 2048 * 512;
let dir = '';
let inv = '';

function makeCard(file: string, os_: 'bookworm' | 'trixie'): void {
  fs.writeFileSync(file, '');
  fs.truncateSync(file, 48 * 1024 * 1024);
  execFileSync('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, size=40960, type=c\nstart=43008, type=83\n' });
  execFileSync('mkfs.vfat', ['--offset', '2048', '-n', 'BOOTFS', file, String(40960 / 2)], { stdio: 'ignore' });
  const files = os_ === 'trixie' ? ['cmdline.txt', 'issue.txt', 'user-data', 'meta-data', 'network-config'] : ['cmdline.txt', 'issue.txt'];
  for (const f of files) {
    const local = path.join(dir, f);
    fs.copyFileSync(path.join(FX, `${os_}-${f}`), local);
    execFileSync('mcopy', ['-o', '-i', `${file}@@${OFFSET}`, local, `::/${f}`], { env });
  }
}
const readBack = (file: string, name: string) => execFileSync('mtype', ['-i', `${file}@@${OFFSET}`, `::/${name}`], { env, encoding: 'utf8' });

interface Doc {
  exitCode: number;
  results: { host: string; step: string; status: string; msg?: string }[];
}
async function sdCard(...args: string[]): Promise<{ code: number; doc: Doc; all: string }> {
  const seen = await capture(() => main('sd-card', ['-i', inv, '--json', ...args]), { SDCARD_TEST_PASSWORD: PASSWORD, FRIDGE_SSH_CONFIG: 'none' });
  return { code: seen.code, doc: JSON.parse(seen.stdout) as Doc, all: seen.stdout + seen.stderr };
}
const statuses = (d: Doc) => d.results.map((r) => `${r.step}:${r.status}`);

describe.skipIf(!tools)('sd-card on raw image files', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-sdcard-it-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'op@test', '-f', path.join(dir, 'op')]);
    inv = path.join(dir, 'inv.yaml');
    fs.writeFileSync(
      inv,
      [
        'all:',
        '  vars:',
        '    ansible_user: fridge',
        '    ansible_ssh_private_key_file: ./op',
        '    fridge_authorized_key_file: ./op.pub',
        '    fridge_ssh_password_env: SDCARD_TEST_PASSWORD',
        '    fridge_model: "3B"',
        '    fridge_registry: docker.io',
        '    fridge_image: x/flink',
        '    fridge_network: {prefix: 24, router: 192.168.0.1, dns: [192.168.0.1], interface: eth0}',
        '  children:',
        '    managers:',
        '      hosts:',
        '        pi1: {ansible_host: 192.168.0.104, fridge_static_ip: 192.168.0.104}',
        '    workers:',
        '      hosts:',
        '        pi3: {ansible_host: raspberrypi.local, fridge_static_ip: 192.168.0.106}',
        '',
      ].join('\n'),
    );
  });

  it('Bookworm: writes ssh, userconf.txt, firstrun.sh, cmdline.txt; a second run changes nothing', async () => {
    const img = path.join(dir, 'bookworm.img');
    makeCard(img, 'bookworm');
    const first = await sdCard('--host', 'pi3', '--image', img);
    expect(first.code).toBe(0);
    expect(statuses(first.doc)).toEqual(['first-boot files:changed']);
    expect(readBack(img, 'userconf.txt')).toMatch(/^fridge:\$6\$[^$]+\$[./0-9A-Za-z]{86}\n$/);
    expect(readBack(img, 'firstrun.sh')).toContain('imager_custom set_hostname pi3');
    expect(readBack(img, 'cmdline.txt')).toMatch(/rootwait quiet init=\/usr\/lib\/raspberrypi-sys-mods\/firstboot systemd\.run=\/boot\/firmware\/firstrun\.sh systemd\.run_success_action=reboot systemd\.unit=kernel-command-line\.target\n$/);
    expect(first.all).not.toContain(PASSWORD);
    const second = await sdCard('--host', 'pi3', '--image', img);
    expect(statuses(second.doc)).toEqual(['first-boot files:ok']);
  });

  it('Trixie: cloud-init user-data / network-config / meta-data, static first contact for pi1; --check then a real run then changed=0', async () => {
    const img = path.join(dir, 'trixie.img');
    makeCard(img, 'trixie');
    const dry = await sdCard('--host', 'pi1', '--image', img, '--check');
    expect(statuses(dry.doc)).toEqual(['first-boot files:changed']);
    expect(readBack(img, 'meta-data')).toBe('instance-id: rpios-image\n');
    expect((await sdCard('--host', 'pi1', '--image', img)).code).toBe(0);
    const user = parse(readBack(img, 'user-data')) as { hostname: string; user: { name: string; ssh_authorized_keys: string[] }; ssh_pwauth: boolean };
    expect(user).toMatchObject({ hostname: 'pi1', user: { name: 'fridge' }, ssh_pwauth: false });
    expect(user.user.ssh_authorized_keys[0]).toMatch(/^ssh-ed25519 \S+ op@test$/);
    expect(parse(readBack(img, 'network-config'))).toMatchObject({ network: { ethernets: { eth0: { addresses: ['192.168.0.104/24'] } } } });
    const id = /instance-id: (\S+)/.exec(readBack(img, 'meta-data'))?.[1] ?? 'none';
    expect(readBack(img, 'cmdline.txt')).toContain(` ds=nocloud;i=${id}\n`);
    expect(statuses((await sdCard('--host', 'pi1', '--image', img)).doc)).toEqual(['first-boot files:ok']);
  });

  it('flashes an .img.xz onto a file standing in for a card, checks --sha256, then prepares it; the second run is ok', async () => {
    const src = path.join(dir, 'raspios.img');
    makeCard(src, 'bookworm');
    execFileSync('xz', ['-0', '-f', '-k', src]);
    const sha = createHash('sha256').update(fs.readFileSync(`${src}.xz`)).digest('hex');
    const target = path.join(dir, 'card-sdz.img');
    const first = await sdCard('--host', 'pi3', '--image', `${src}.xz`, '--device', target, '--sha256', sha);
    expect(first.code).toBe(0);
    expect(statuses(first.doc)).toEqual(['card flashed:changed', 'first-boot files:changed']);
    expect(readBack(target, 'userconf.txt')).toMatch(/^fridge:\$6\$/);
    const second = await sdCard('--host', 'pi3', '--image', `${src}.xz`, '--device', target, '--sha256', sha);
    expect(statuses(second.doc)).toEqual(['card flashed:ok', 'first-boot files:ok']);
  });

  it('refuses an image whose checksum does not match --sha256', async () => {
    const src = path.join(dir, 'raspios.img');
    const r = await sdCard('--host', 'pi3', '--image', src, '--device', path.join(dir, 'other.img'), '--sha256', '0'.repeat(64));
    expect(r.code).toBe(2);
    expect(r.doc.results[0]).toMatchObject({ step: 'card flashed', status: 'failed', msg: expect.stringContaining('checksum mismatch') });
    expect(fs.existsSync(path.join(dir, 'other.img'))).toBe(false);
  });

  it('refuses a "device" larger than an SD card unless --force', async () => {
    const big = path.join(dir, 'big.img');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 300 * 1024 ** 3); // sparse: nothing is written
    const r = await sdCard('--host', 'pi3', '--image', path.join(dir, 'raspios.img'), '--device', big);
    expect(r.doc.results[0]).toMatchObject({ status: 'failed', msg: `${big} holds 300 GiB, more than an SD card would (256 GiB): --force if it really is the card` });
    expect(fs.statSync(big).size).toBe(300 * 1024 ** 3);
  });

  it('says where the password comes from when it is not set, never asking for it on the command line', async () => {
    const img = path.join(dir, 'bookworm.img');
    const seen = await capture(() => main('sd-card', ['-i', inv, '--json', '--host', 'pi3', '--image', img]), { SDCARD_TEST_PASSWORD: undefined, FRIDGE_SSH_CONFIG: 'none' });
    const doc = JSON.parse(seen.stdout) as Doc;
    expect(doc.results[0]?.msg).toBe('no first-login password for fridge: set the environment variable SDCARD_TEST_PASSWORD (named by fridge_ssh_password_env)');
  });
});
