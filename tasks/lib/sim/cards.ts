// The virtual fridge's SD cards (`up --first-boot`): one directory per node standing for the boot partition of a
// freshly flashed Raspberry Pi OS Lite (Bookworm) card. `npx zx tasks/sd-card.mjs --boot DIR` writes the
// first-boot files into it as into a mounted card; the node mounts it at /boot/firmware.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cardDir } from './config.ts';

const NODE_IMAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-image');

/** pi-gen's issue.txt names the release the card was made from (sdcard/detect.ts reads it). */
export const BLANK_ISSUE = 'Raspberry Pi reference 2025-05-13\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen, bookworm\n';

/** The boot partition's files as flashed: no ssh, no userconf.txt, no firstrun.sh (nobody can log in). */
export function blankCardFiles(): Map<string, string> {
  return new Map([
    ['cmdline.txt', fs.readFileSync(path.join(NODE_IMAGE_DIR, 'cmdline.txt'), 'utf8')],
    ['config.txt', fs.readFileSync(path.join(NODE_IMAGE_DIR, 'config.txt'), 'utf8')],
    ['issue.txt', BLANK_ISSUE],
  ]);
}

export function hasCard(name: string): boolean {
  return fs.existsSync(path.join(cardDir(name), 'cmdline.txt'));
}

/** "Flashes" a blank card: whatever was on it is gone, as after writing an image. Returns its directory. */
export function flashBlankCard(name: string): string {
  const dir = cardDir(name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of blankCardFiles()) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}
