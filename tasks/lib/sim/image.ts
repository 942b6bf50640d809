// The node image: a debootstrap'd Debian rootfs (cached as its own image) plus the Pi-like layer from
// node-image/. Each image carries a hash of its recipe and is rebuilt only when the recipe changes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shq } from '../transport/types.ts';
import { SIM, SIM_PATHS } from './config.ts';
import { docker, must, run } from './run.ts';

const RECIPE_LABEL = `${SIM.label}.recipe`;
const NODE_IMAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-image');
const FIRST_BOOT_IMAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-image-first-boot');

/**
 * A Pi's userland as far as pi-setup needs it: sshd, sudo, service management without systemd
 * (init-system-helpers' `service`, sysvinit-utils' init-functions) and what Debian's docker.io needs at
 * runtime that minbase lacks (iptables, kmod, procps). docker.io itself is NOT here: pi-setup installs it.
 */
export const BASE_PACKAGES = [
  'openssh-server',
  'sudo',
  'iproute2',
  'iputils-ping',
  'procps',
  'ca-certificates',
  'gnupg',
  'curl',
  'iptables',
  'kmod',
  'init-system-helpers',
  'sysvinit-utils',
  'tini',
  'netbase',
  'less',
  'xz-utils',
] as const;

function sha(parts: string[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

export function baseRecipeHash(): string {
  return sha(['debootstrap', 'minbase', SIM.suite, SIM.mirror, ...BASE_PACKAGES]);
}

function dirParts(dir: string): string[] {
  return fs.readdirSync(dir).sort().flatMap((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]);
}

export function nodeRecipeHash(): string {
  return sha([baseRecipeHash(), ...dirParts(NODE_IMAGE_DIR)]);
}

export function firstBootRecipeHash(): string {
  return sha([nodeRecipeHash(), ...dirParts(FIRST_BOOT_IMAGE_DIR)]);
}

async function imageRecipe(image: string): Promise<{ id: string; recipe: string } | undefined> {
  const r = await docker(['image', 'inspect', '--format', `{{.Id}} {{index .Config.Labels "${RECIPE_LABEL}"}}`, image]);
  if (r.code !== 0) return undefined;
  const [id = '', recipe = ''] = r.stdout.trim().split(' ');
  return { id, recipe };
}

async function dropOld(old: { id: string } | undefined, image: string): Promise<void> {
  const now = await imageRecipe(image);
  if (old && now && old.id !== now.id) await docker(['image', 'rm', old.id]);
}

async function buildBase(log: (l: string) => void): Promise<boolean> {
  const hash = baseRecipeHash();
  const old = await imageRecipe(SIM.baseImage);
  if (old?.recipe === hash) return false;
  log(`debootstrap ${SIM.suite} (minbase + ${BASE_PACKAGES.length} packages) into ${SIM.baseImage}`);
  const rootfs = path.join(SIM_PATHS.build, `rootfs-${hash}`);
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.mkdirSync(SIM_PATHS.build, { recursive: true });
  try {
    must(
      'debootstrap',
      await run('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, SIM.suite, rootfs, SIM.mirror]),
    );
    // A container's /etc/hostname, /etc/hosts and /etc/resolv.conf are docker's; the build host's must not leak in.
    for (const f of ['etc/hostname', 'etc/resolv.conf']) fs.rmSync(path.join(rootfs, f), { force: true });
    must(
      'docker import',
      await run('sh', [
        '-c',
        `tar -C ${shq(rootfs)} -c . | docker import --change ${shq(`LABEL ${SIM.label}=1 ${RECIPE_LABEL}=${hash}`)} - ${shq(SIM.baseImage)}`,
      ]),
    );
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
  }
  await dropOld(old, SIM.baseImage);
  return true;
}

async function buildLayer(image: string, base: string, dir: string, hash: string, log: (l: string) => void): Promise<boolean> {
  const old = await imageRecipe(image);
  if (old?.recipe === hash) return false;
  log(`building ${image}`);
  must(
    'docker build',
    await docker(
      // The first-boot layer installs packages through the sim's apt cache, which listens on the sim network only.
      ['build', '-q', '--network', SIM.network, '--build-arg', `BASE=${base}`, '--label', `${SIM.label}=1`, '--label', `${RECIPE_LABEL}=${hash}`, '-t', image, dir],
      // Debian's docker has no buildx; the classic builder is enough for this Dockerfile.
      { env: { DOCKER_BUILDKIT: '0' } },
    ),
  );
  await dropOld(old, image);
  return true;
}

/**
 * Makes sure the node image (and with `firstBoot` the first-boot image on top of it) matches its recipe; returns
 * true when something was built. The sim network and its apt cache must be up for the first-boot image.
 */
export async function ensureNodeImage(log: (l: string) => void, firstBoot = false): Promise<boolean> {
  const base = await buildBase(log);
  const node = await buildLayer(SIM.nodeImage, SIM.baseImage, NODE_IMAGE_DIR, nodeRecipeHash(), log);
  const first = firstBoot && (await buildLayer(SIM.firstBootImage, SIM.nodeImage, FIRST_BOOT_IMAGE_DIR, firstBootRecipeHash(), log));
  return base || node || first;
}

export async function removeImages(): Promise<void> {
  await docker(['image', 'rm', SIM.firstBootImage]);
  await docker(['image', 'rm', SIM.nodeImage]);
  await docker(['image', 'rm', SIM.baseImage]);
}
