// sd-card: prepares a card (or a raw image file) for a headless first boot, per inventory host.
// Facts (what the card holds now) → a pure plan (writers.ts: the files to write) → apply (write, read back).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { isIPv4 } from 'node:net';
import type { OptionArgs, Phase, PhaseOption } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import type { Change, HostContext, Plan, Step } from '../engine/types.ts';
import type { HostSpec } from '../inventory/types.ts';
import { change, fail, ok, skip, unmet } from '../steps/common.ts';
import { passwordFor } from '../transport/credentials.ts';
import { hashMatches, newSalt, sha512Crypt } from './crypt.ts';
import { detectBootOs, type BootOs } from './detect.ts';
import { isBlockDevice, normaliseSha256, parseMounts, refuseTarget, sha256File, writeImage, type TargetFacts } from './flash.ts';
import { DirVolume, FatVolume, readPartitionTable, type BootVolume } from './volume.ts';
import { existingHash, planBootFiles, READ_FILES, type CardSettings, type FileWrite, type FirstNetwork } from './writers.ts';

const options: Record<string, PhaseOption> = {
  host: { type: 'string', description: 'the inventory host this card is for', placeholder: 'NAME' },
  all: { type: 'boolean', description: 'every host, one card after another (asks to swap cards unless --yes)' },
  yes: { type: 'boolean', description: 'no questions (scripts)' },
  boot: { type: 'string', description: 'a mounted boot partition to write the first-boot files into', placeholder: 'DIR' },
  image: { type: 'string', description: 'a raw image to prepare in place, or with --device the image (.img or .img.xz) to flash', placeholder: 'FILE' },
  device: { type: 'string', description: 'the card (/dev/sdX) or a file standing in for it: flashed with --image, then prepared', placeholder: 'DEV' },
  sha256: { type: 'string', description: 'the image\'s published SHA-256: refuse to flash on a mismatch', placeholder: 'HEX' },
  force: { type: 'boolean', description: `write a device larger than an SD card would be` },
};

/** Where the card's files come from and go to, decided once from the options. */
export type Target = { kind: 'dir'; dir: string } | { kind: 'fat'; file: string; flashFrom: string | undefined };

export function targetOf(args: OptionArgs): { ok: true; target: Target } | { ok: false; error: string } {
  const s = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  const [boot, image, device] = [s('boot'), s('image'), s('device')];
  if (boot && (image || device)) return { ok: false, error: '--boot writes into a mounted partition: give it alone, or --image/--device without it' };
  if (boot) return { ok: true, target: { kind: 'dir', dir: boot } };
  if (device) return { ok: true, target: { kind: 'fat', file: device, flashFrom: image } };
  if (image) {
    if (image.endsWith('.xz')) return { ok: false, error: `${image} is compressed: flash it with --device TARGET (a card, or a file to become the raw image)` };
    return { ok: true, target: { kind: 'fat', file: image, flashFrom: undefined } };
  }
  return { ok: false, error: 'say where the card is: --boot DIR (mounted), --device /dev/sdX, or --image FILE.img' };
}

function sh(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((r) => execFile(cmd, args, { encoding: 'utf8' }, (err, out) => r(err ? undefined : out)));
}

async function volumeOf(t: Target): Promise<{ ok: true; volume: BootVolume } | { ok: false; error: string }> {
  if (t.kind === 'dir') {
    const st = await fs.stat(t.dir).catch(() => undefined);
    return st?.isDirectory() ? { ok: true, volume: new DirVolume(t.dir) } : { ok: false, error: `--boot ${t.dir} is not a directory` };
  }
  const table = await readPartitionTable(t.file);
  return table.ok ? { ok: true, volume: new FatVolume(t.file, table.offset) } : { ok: false, error: `${t.file}: ${table.error}` };
}

// ---- flashing ----------------------------------------------------------------------------------------------

/** Kept on the card so that a second run knows it already holds this image (the boot files differ from it by design). */
const MARKER = 'fridge-image.txt';

interface FlashFacts {
  image: string;
  imageSha256: string;
  expected: string | undefined;
  badExpected: boolean;
  target: TargetFacts;
  marker: string | undefined;
}

function flashStep(t: Extract<Target, { kind: 'fat' }>, image: string, args: OptionArgs): Step<FlashFacts> {
  const expectedRaw = typeof args.sha256 === 'string' ? args.sha256 : undefined;
  return {
    name: 'card flashed',
    async gather() {
      const st = await fs.stat(t.file).catch(() => undefined);
      const real = await fs.realpath(t.file).catch(() => t.file);
      const target: TargetFacts = {
        path: t.file,
        real,
        blockDevice: await isBlockDevice(real),
        exists: st !== undefined,
        size: st?.isBlockDevice() ? Number((await sh('blockdev', ['--getsize64', real]))?.trim() ?? 0) : (st?.size ?? 0),
        mounts: parseMounts(await fs.readFile('/proc/mounts', 'utf8').catch(() => '')),
        lsblk: await sh('lsblk', ['-J', '-o', 'NAME,TYPE,MOUNTPOINTS']),
      };
      const vol = st ? await volumeOf(t) : undefined;
      const marker = vol?.ok ? await vol.volume.read(MARKER).catch(() => undefined) : undefined;
      return { image, imageSha256: await sha256File(image), expected: expectedRaw ? normaliseSha256(expectedRaw) : undefined, badExpected: expectedRaw !== undefined && normaliseSha256(expectedRaw) === undefined, target, marker };
    },
    plan(f) {
      if (f.badExpected) return fail('--sha256 must be 64 hexadecimal digits (as in the image\'s .sha256 file)');
      if (f.expected && f.expected !== f.imageSha256) return fail(`${f.image}: checksum mismatch (sha256 ${f.imageSha256}, expected ${f.expected}): download it again`);
      const refused = refuseTarget(f.target, args.force === true);
      if (refused) return fail(refused);
      if (f.marker?.includes(`sha256=${f.imageSha256}`)) return ok(`${f.target.path} already holds ${f.image}`);
      return change({
        summary: `flash ${f.image} onto ${f.target.path}`,
        actions: [
          {
            kind: 'call',
            label: 'flash',
            fn: async (c: HostContext) => {
              const w = await writeImage(f.image, t.file, c.progress ?? (() => undefined));
              if (!w.ok) return w;
              const vol = await volumeOf(t);
              if (!vol.ok) return { ok: false, msg: `after flashing: ${vol.error}` };
              await vol.volume.write(MARKER, `# written by Fridge's sd-card task\nimage=${f.image.split('/').pop() ?? ''}\nsha256=${f.imageSha256}\n`);
              return { ok: true, output: `${(w.bytes / 1e6).toFixed(0)} MB in ${(w.ms / 1000).toFixed(1)} s (${(w.bytes / 1e6 / Math.max(w.ms / 1000, 0.001)).toFixed(1)} MB/s)` };
            },
          },
        ],
      });
    },
  };
}

// ---- boot files --------------------------------------------------------------------------------------------

type BootFacts =
  | { ok: false; error: string }
  | { ok: true; volume: BootVolume; os: BootOs; evidence: string; current: Map<string, string>; settings: CardSettings };

function firstNetwork(host: HostSpec, ctx: HostContext): FirstNetwork {
  const n = ctx.inventory.cluster.network;
  // The Pi must answer where the inventory first looks for it: at its static address when ansible_host is that
  // address, else on a DHCP lease that discover finds (pi-setup moves it to fridge_static_ip afterwards).
  if (host.staticIp && isIPv4(host.address) && host.address === host.staticIp) {
    return { kind: 'static', iface: n.interface, address: host.staticIp, prefix: n.prefix, router: n.router, dns: n.dns };
  }
  return { kind: 'dhcp', iface: n.interface };
}

function authorizedKeys(file: string | undefined): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  } catch {
    return [];
  }
}

function bootStep(t: Target): Step<BootFacts> {
  return {
    name: 'first-boot files',
    async gather(ctx) {
      const vol = await volumeOf(t);
      if (!vol.ok) return vol;
      const names = await vol.volume.list();
      const current = new Map<string, string>();
      for (const name of READ_FILES) {
        const actual = names.find((n) => n.toLowerCase() === name);
        const text = actual ? await vol.volume.read(actual) : undefined;
        if (text !== undefined) current.set(name, text);
      }
      const detected = detectBootOs(names, current.get('issue.txt'));
      if (!detected.ok) return { ok: false, error: `${vol.volume.label}: ${detected.error}` };
      const host = ctx.host;
      const password = passwordFor(host);
      if (password === undefined) {
        const where = host.passwordEnv ? `the environment variable ${host.passwordEnv} (named by fridge_ssh_password_env)` : 'fridge_ssh_password_env or fridge_ssh_password_file in the inventory';
        return { ok: false, error: `no first-login password for ${host.user}: set ${where}` };
      }
      const have = existingHash(detected.os, current, host.user);
      let hash = have !== undefined && hashMatches(password, have) ? have : undefined;
      if (hash === undefined) {
        const made = sha512Crypt(password, newSalt());
        if (!made.ok) return { ok: false, error: made.error };
        hash = made.hash;
      }
      const settings: CardSettings = { hostname: host.name, user: host.user, passwordHash: hash, authorizedKeys: authorizedKeys(ctx.inventory.cluster.authorizedKeyFile), network: firstNetwork(host, ctx) };
      return { ok: true, volume: vol.volume, os: detected.os, evidence: detected.evidence, current, settings };
    },
    plan(f): Plan {
      if (!f.ok) {
        // In check mode the card is not flashed yet: there is nothing to read before the flash would happen.
        if (t.kind === 'fat' && t.flashFrom) return unmet(f.error, `written after flashing (${f.error})`);
        return fail(f.error);
      }
      const writes = planBootFiles(f.os, f.current, f.settings);
      const what = `${f.os} (${f.evidence})`;
      if (writes.length === 0) return ok(`${f.volume.label}: ${what}, first-boot files up to date for ${f.settings.hostname}`);
      const hidden = (s: string | undefined) => s?.split(f.settings.passwordHash).join('<sha512-crypt hash>');
      return change(
        ...writes.map(
          (w, i): Change => ({
            summary: `${i === 0 ? `${what}: ` : ''}${w.before === undefined ? 'write' : 'update'} ${w.name}`,
            actions: [{ kind: 'call', label: `write ${w.name}`, fn: () => writeAndVerify(f.volume, w) }],
            diff: { path: `${f.volume.label}:/${w.name}`, before: hidden(w.before) ?? '', after: hidden(w.after) ?? '' },
          }),
        ),
      );
    },
  };
}

async function writeAndVerify(v: BootVolume, w: FileWrite): Promise<{ ok: true } | { ok: false; msg: string }> {
  try {
    await v.write(w.name, w.after);
    const back = await v.read(w.name);
    return back === w.after ? { ok: true } : { ok: false, msg: `read back ${w.name} from ${v.label}: the content differs from what was written` };
  } catch (err) {
    return { ok: false, msg: err instanceof Error ? err.message : String(err) };
  }
}

// ---- the phase ---------------------------------------------------------------------------------------------

async function askSwap(host: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Insert the card for ${host} and press Enter (q to stop): `);
    return answer.trim().toLowerCase() !== 'q';
  } finally {
    rl.close();
  }
}

export const phase: Phase = {
  name: 'sd-card',
  offline: true,
  description: 'Prepares a card or a raw image for a headless first boot of an inventory host.',
  options,
  async run(run: Run) {
    const args = run.args;
    const target = targetOf(args);
    const name = typeof args.host === 'string' ? args.host : undefined;
    if (!target.ok) return run.fail('localhost', 'sd-card', target.error);
    if (!name === !args.all) return run.fail('localhost', 'sd-card', 'give --host NAME (one card) or --all (one card after another)');
    const hosts = name ? run.inventory.hosts.filter((h) => h.name === name) : run.hosts;
    if (hosts.length === 0) return run.fail('localhost', 'sd-card', `no host ${name ?? ''} in ${run.inventory.file}: ${run.inventory.hosts.map((h) => h.name).join(', ')}`);
    if (hosts.length > 1 && target.target.kind === 'fat' && !target.target.file.startsWith('/dev/')) {
      return run.fail('localhost', 'sd-card', '--all writes one card after another: give a card (--device /dev/sdX or --boot DIR), not a single image file');
    }
    for (const [i, host] of hosts.entries()) {
      if (i > 0 && args.yes !== true && !(await askSwap(host.name))) {
        run.message('warning', `stopped before ${host.name}: ${process.stdin.isTTY ? 'asked to' : 'no terminal to ask on; --yes to go on without asking'}`);
        return;
      }
      // The card is written here, on this machine: the host's own SSH details play no part yet.
      const local: HostSpec = { ...host, connection: 'local' };
      const t = target.target;
      const steps: Step<unknown>[] = [];
      if (t.kind === 'fat' && t.flashFrom) steps.push(flashStep(t, t.flashFrom, args) as Step<unknown>);
      steps.push(bootStep(t) as Step<unknown>);
      await run.play({ name: `sd-card ${host.name}`, hosts: [local], steps });
    }
  },
};
