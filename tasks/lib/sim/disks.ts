// Each virtual Pi's own disk, as each Pi has its SD card: an ext4 file system in a sparse file on this machine,
// loop-mounted and bound into the node as /var/lib/docker (where its engine keeps images and containers).
// Made without ext4's dir_index: an indexed directory hands its readers 64-bit hash cookies as offsets, which a
// 32-bit program under qemu-user (the arm/v7 JVM of `sim up --arch armv7`) cannot take ("Value too large for
// defined data type" listing /opt/flink/plugins); a real Pi's kernel gives its 32-bit callers 32-bit cookies.
// A removed node's disk is thrown away with it: the next one is a fresh card.
import fs from 'node:fs';
import path from 'node:path';
import { SIM, SIM_PATHS } from './config.ts';
import { must, run } from './run.ts';

export function diskPaths(node: string): { image: string; mount: string } {
  return { image: path.join(SIM_PATHS.disks, `${node}.ext4`), mount: path.join(SIM_PATHS.disks, node) };
}

async function mounted(dir: string): Promise<boolean> {
  return (await run('mountpoint', ['-q', dir])).code === 0;
}

async function unmount(dir: string): Promise<void> {
  if (await mounted(dir)) must(`umount ${dir}`, await run('umount', [dir]));
}

/** A new, empty disk for `node` (an earlier one is unmounted and discarded). */
export async function newDisk(node: string): Promise<string> {
  const { image, mount } = diskPaths(node);
  await unmount(mount);
  fs.rmSync(image, { force: true });
  fs.mkdirSync(mount, { recursive: true });
  must(`truncate ${image}`, await run('truncate', ['-s', `${SIM.diskGiB}G`, image]));
  must(`mkfs.ext4 ${image}`, await run('mkfs.ext4', ['-q', '-F', '-O', '^dir_index', '-L', node, image]));
  must(`mount ${image}`, await run('mount', ['-o', 'loop', image, mount]));
  return mount;
}

/** Mounts `node`'s disk again (after this machine restarted), or makes one when it has none. */
export async function mountDisk(node: string): Promise<string> {
  const { image, mount } = diskPaths(node);
  if (await mounted(mount)) return mount;
  if (!fs.existsSync(image)) return newDisk(node);
  fs.mkdirSync(mount, { recursive: true });
  must(`mount ${image}`, await run('mount', ['-o', 'loop', image, mount]));
  return mount;
}

/** `mounted`: where the node had it (another checkout's disks directory, say); default: this checkout's. */
export async function dropDisk(node: string, mounted?: string): Promise<void> {
  const own = diskPaths(node);
  // Only a disk of ours: a mount point named for the node, its image beside it (never an arbitrary directory).
  const at = mounted && path.basename(mounted) === node && path.basename(path.dirname(mounted)) === 'disks' ? mounted : own.mount;
  await unmount(at);
  fs.rmSync(`${at}.ext4`, { force: true });
  fs.rmSync(at, { recursive: true, force: true });
}
