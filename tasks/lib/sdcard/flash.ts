// Writing an image onto a card (or a raw image file standing in for one), and the refusals that come first.
// The refusals are pure functions over /proc/mounts and lsblk's JSON, so they are tested from captured text.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A card bigger than this is more likely a data disk than an SD card: --force to write it anyway. */
export const MAX_CARD_BYTES = 256 * 1024 ** 3;

export interface MountLine {
  source: string;
  target: string;
}

export function parseMounts(procMounts: string): MountLine[] {
  return procMounts
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[0] !== '')
    // /proc/mounts escapes spaces as \040.
    .map((f) => ({ source: (f[0] ?? '').replace(/\\040/g, ' '), target: (f[1] ?? '').replace(/\\040/g, ' ') }));
}

/** sdb1 → sdb, mmcblk0p1 → mmcblk0, nvme0n1p2 → nvme0n1, loop0p1 → loop0. */
export function diskOf(dev: string): string {
  const name = dev.replace(/^\/dev\//, '');
  const m = /^((?:mmcblk|nvme\d+n|loop)\d+)p\d+$/.exec(name) ?? /^([a-z]+)\d+$/.exec(name);
  return `/dev/${m?.[1] ?? name}`;
}

/** Mount points of the device or any of its partitions. */
export function mountsOf(device: string, mounts: MountLine[]): string[] {
  const disk = diskOf(device);
  return mounts.filter((m) => m.source.startsWith('/dev/') && diskOf(m.source) === disk).map((m) => m.target);
}

interface LsblkDevice {
  name: string;
  type?: string;
  mountpoint?: string | null;
  mountpoints?: (string | null)[];
  children?: LsblkDevice[];
}

const SYSTEM_MOUNTS = ['/', '/boot', '/boot/firmware', '/boot/efi', '/usr', '/var', '/home', '[SWAP]'];

/** The whole disks the running system lives on: from /proc/mounts, and from `lsblk -J` (which also sees swap and LVM/crypt stacks). */
export function systemDisks(mounts: MountLine[], lsblkJson: string | undefined): string[] {
  const disks = new Set(mounts.filter((m) => SYSTEM_MOUNTS.includes(m.target) && m.source.startsWith('/dev/')).map((m) => diskOf(m.source)));
  if (lsblkJson) {
    let parsed: { blockdevices?: LsblkDevice[] } = {};
    try {
      parsed = JSON.parse(lsblkJson) as typeof parsed;
    } catch {
      parsed = {};
    }
    const holds = (d: LsblkDevice): boolean =>
      [d.mountpoint, ...(d.mountpoints ?? [])].some((m) => typeof m === 'string' && SYSTEM_MOUNTS.includes(m)) || (d.children ?? []).some(holds);
    for (const d of parsed.blockdevices ?? []) if (holds(d)) disks.add(`/dev/${d.name}`);
  }
  return [...disks];
}

export interface TargetFacts {
  /** The path as given and as resolved (a /dev/disk/by-id link points at /dev/sdX). */
  path: string;
  real: string;
  blockDevice: boolean;
  exists: boolean;
  size: number;
  mounts: MountLine[];
  lsblk: string | undefined;
}

/** Why this target must not be written, or undefined. */
export function refuseTarget(t: TargetFacts, force: boolean): string | undefined {
  if (t.blockDevice && systemDisks(t.mounts, t.lsblk).includes(diskOf(t.real))) {
    return `${t.path} is the disk this system runs from: refusing to write it`;
  }
  const mounted = mountsOf(t.real, t.mounts);
  if (t.blockDevice && mounted.length > 0) return `${t.path} is mounted (${mounted.join(', ')}): unmount it first (umount ${mounted.map((m) => m).join(' ')})`;
  if (t.size > MAX_CARD_BYTES && !force) {
    return `${t.path} holds ${(t.size / 1024 ** 3).toFixed(0)} GiB, more than an SD card would (${MAX_CARD_BYTES / 1024 ** 3} GiB): --force if it really is the card`;
  }
  return undefined;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/** The expected digest as the operator may paste it: bare hex, or a `sha256sum` line, any case. */
export function normaliseSha256(text: string): string | undefined {
  const hex = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export type Progress = (text: string) => void;

function rate(bytes: number, ms: number): string {
  const mbs = bytes / 1e6 / Math.max(ms / 1000, 0.001);
  return `${(bytes / 1e6).toFixed(0)} MB written, ${mbs.toFixed(1)} MB/s`;
}

/**
 * Writes the image (raw, or .xz through `xz -dc`) onto the target and flushes it; progress with bytes/s at most
 * every half second. Returns the figure the closing note asks for.
 */
export async function writeImage(image: string, target: string, progress: Progress): Promise<{ ok: true; bytes: number; ms: number } | { ok: false; msg: string }> {
  const started = Date.now();
  let bytes = 0;
  let said = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      const now = Date.now();
      if (now - said > 500) {
        said = now;
        progress(`writing ${path.basename(image)}: ${rate(bytes, now - started)}`);
      }
      cb(null, chunk);
    },
  });
  const xz = image.endsWith('.xz');
  const child = xz ? spawn('xz', ['-dc', image], { stdio: ['ignore', 'pipe', 'pipe'] }) : undefined;
  let xzErr = '';
  child?.stderr?.on('data', (b: Buffer) => (xzErr += b.toString()));
  const exited = child ? new Promise<number>((r) => child.on('close', (c) => r(c ?? 1))) : Promise.resolve(0);
  try {
    // A block device is opened without truncation; a file standing in for a card is rewritten whole.
    const source = child?.stdout ?? createReadStream(image, { highWaterMark: 4 * 1024 * 1024 });
    await pipeline(source, count, createWriteStream(target, { flags: (await isBlockDevice(target)) ? 'r+' : 'w' }));
  } catch (err) {
    return { ok: false, msg: `writing ${target}: ${err instanceof Error ? err.message : String(err)}` };
  }
  if ((await exited) !== 0) return { ok: false, msg: `xz -dc ${image}: ${xzErr.trim() || 'failed'}` };
  const fh = await fs.open(target, 'r+');
  await fh.sync();
  await fh.close();
  const ms = Date.now() - started;
  progress(`wrote ${path.basename(image)}: ${rate(bytes, ms)}`);
  return { ok: true, bytes, ms };
}

export async function isBlockDevice(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isBlockDevice(), () => false);
}
