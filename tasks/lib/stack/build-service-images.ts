// Builds the optional services' images (docker/services/<name>/) on this machine and pushes them to the
// inventory's registry. The only module of tasks/lib/stack/ with side effects. Every step checks first:
// a second run with nothing changed builds nothing and pushes nothing.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import type { Inventory, RegistrySettings } from '../inventory/types.ts';
import { PROJECT_ROOT, STATE_DIR } from '../paths.ts';
import { BUILT_SERVICES, isBuiltService, serviceImage, type BuiltService } from './service-images.ts';
import type { ServiceName } from './types.ts';

export const SERVICES_DIR = path.join(PROJECT_ROOT, 'docker', 'services');
export const DEBIAN_BASE = 'fridge/debian:bookworm';
const RECIPE_LABEL = 'org.fridge.stack.recipe';
const MIRROR = 'http://deb.debian.org/debian';
/** Packages installed later in the recipes leave out documentation and translations as well (licences stay). */
const DPKG_EXCLUDES = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/info/*',
  '',
].join('\n');

export interface BuildOptions {
  /** Base userland for the recipes' BASE_IMAGE; made with debootstrap when it is DEBIAN_BASE and missing. */
  baseImage?: string;
  /** False: build (or reuse) locally only, e.g. for tests that run the images as plain containers. */
  push?: boolean;
  log?: (line: string) => void;
}

export type BuildStatus = 'built' | 'present' | 'pushed' | 'skipped' | 'failed';

export interface ServiceBuildResult {
  service: ServiceName;
  status: BuildStatus;
  image?: string;
  msg?: string;
}

interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cmd(argv: string[], env: Record<string, string> = {}, input?: string): Promise<CmdResult> {
  const [bin, ...args] = argv;
  const out = await $({ quiet: true, nothrow: true, env: { ...process.env, ...env }, input })`${bin} ${args}`;
  return { code: out.exitCode ?? 1, stdout: out.stdout, stderr: out.stderr };
}

function lastLine(r: CmdResult): string {
  return r.stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.code}`;
}

/** Hash of a recipe directory's files: an edited Dockerfile or config gives a different hash. */
export function recipeHash(service: BuiltService): string {
  const dir = path.join(SERVICES_DIR, service);
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update('\0').update(readFileSync(path.join(dir, f))).update('\0');
  return h.digest('hex').slice(0, 16);
}

async function imageLabel(image: string): Promise<{ id: string; recipe: string } | undefined> {
  const r = await cmd(['docker', 'image', 'inspect', '--format', `{{.Id}} {{index .Config.Labels "${RECIPE_LABEL}"}}`, image]);
  if (r.code !== 0) return undefined;
  const [id = '', recipe = ''] = r.stdout.trim().split(' ');
  return { id, recipe: recipe === '<no value>' ? '' : recipe };
}

/** Debian bookworm minbase, imported once and cached by tag. */
export async function ensureDebianBase(log: (l: string) => void = () => {}): Promise<{ ok: true; built: boolean } | { ok: false; msg: string }> {
  const recipe = createHash('sha256').update(`debootstrap minbase bookworm ${MIRROR} keep-copyright\0${DPKG_EXCLUDES}`).digest('hex').slice(0, 16);
  const old = await imageLabel(DEBIAN_BASE);
  if (old?.recipe === recipe) return { ok: true, built: false };
  const rootfs = path.join(STATE_DIR, 'stack', `rootfs-${recipe}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(path.dirname(rootfs), { recursive: true });
  log(`debootstrap --variant=minbase bookworm → ${DEBIAN_BASE}`);
  try {
    const boot = await cmd(['debootstrap', '--variant=minbase', 'bookworm', rootfs, MIRROR]);
    if (boot.code !== 0) return { ok: false, msg: `debootstrap: ${lastLine(boot)}` };
    // The build host's identity and resolver must not leak into the image; docker provides its own.
    for (const f of ['etc/hostname', 'etc/resolv.conf']) rmSync(path.join(rootfs, f), { force: true });
    // About 95 MB that a service image never reads: every recipe runs apt-get update itself.
    await cmd(['find', path.join(rootfs, 'usr/share/doc'), '-type', 'f', '!', '-name', 'copyright', '-delete']);
    for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/man', 'usr/share/locale', 'usr/share/info']) {
      rmSync(path.join(rootfs, dir), { recursive: true, force: true });
      mkdirSync(path.join(rootfs, dir), { recursive: true });
    }
    mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    mkdirSync(path.join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    writeFileSync(path.join(rootfs, 'etc/dpkg/dpkg.cfg.d/fridge-slim'), DPKG_EXCLUDES);
    const imported = await $({ quiet: true, nothrow: true })`tar -C ${rootfs} -c . | docker import --change ${`LABEL ${RECIPE_LABEL}=${recipe}`} --change ${'ENV LANG=C.UTF-8'} --change ${'CMD ["/bin/bash"]'} - ${DEBIAN_BASE}`;
    if (imported.exitCode !== 0) return { ok: false, msg: `docker import: ${imported.stderr.trim().split('\n').pop() ?? ''}` };
    // Fails harmlessly while images built on the old base still exist; they go when they are rebuilt.
    if (old) await cmd(['docker', 'image', 'rm', old.id]);
    return { ok: true, built: true };
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

export async function registryHas(ref: string, insecure: boolean): Promise<boolean> {
  // `docker manifest` is still "experimental" in the 20.10 CLI, but needs no daemon support.
  const r = await cmd(['docker', 'manifest', 'inspect', ...(insecure ? ['--insecure'] : []), ref], { DOCKER_CLI_EXPERIMENTAL: 'enabled' });
  return r.code === 0;
}

async function buildOne(service: BuiltService, base: string, ref: string): Promise<{ ok: true; built: boolean } | { ok: false; msg: string }> {
  const baseInfo = await imageLabel(base);
  if (!baseInfo) return { ok: false, msg: `base image ${base} is missing` };
  // The base's id is part of the recipe: a rebuilt base rebuilds the services on top of it.
  const recipe = createHash('sha256').update(`${recipeHash(service)} ${baseInfo.id}`).digest('hex').slice(0, 16);
  const old = await imageLabel(ref);
  if (old?.recipe === recipe) return { ok: true, built: false };
  const r = await cmd(['docker', 'build', '--pull=false', '--build-arg', `BASE_IMAGE=${base}`, '--label', `${RECIPE_LABEL}=${recipe}`, '-t', ref, path.join(SERVICES_DIR, service)]);
  if (r.code !== 0) return { ok: false, msg: `docker build ${service}: ${lastLine(r)}` };
  // The stale image lost its tag; removing it keeps rebuilds from filling the disk (it may still be in use: fine).
  if (old && old.id !== (await imageLabel(ref))?.id) await cmd(['docker', 'image', 'rm', old.id]);
  return { ok: true, built: true };
}

/**
 * Builds (when the local image is missing or stale) and pushes (when the registry lacks the tag) each
 * requested service that is built from Debian. Grafana and the visualizer are reported skipped, with why.
 */
export async function buildServiceImages(
  inv: Inventory,
  services: readonly ServiceName[],
  registry: RegistrySettings = inv.cluster.registry,
  opts: BuildOptions = {},
): Promise<ServiceBuildResult[]> {
  const log = opts.log ?? (() => {});
  const base = opts.baseImage ?? DEBIAN_BASE;
  const invWithRegistry: Inventory = { ...inv, cluster: { ...inv.cluster, registry } };
  const results: ServiceBuildResult[] = [];
  let baseReady: { ok: true } | { ok: false; msg: string } | undefined;

  for (const service of [...services].sort()) {
    const img = serviceImage(invWithRegistry, service);
    if (img.kind !== 'built' || !isBuiltService(service)) {
      const msg = img.kind === 'upstream' ? `uses ${img.ref}` : img.kind === 'unavailable' ? img.reason : 'not built here';
      results.push({ service, status: 'skipped', msg });
      continue;
    }
    if (opts.push !== false && (await registryHas(img.pushRef, registry.insecure))) {
      results.push({ service, status: 'present', image: img.pushRef });
      continue;
    }
    if (!baseReady) baseReady = base === DEBIAN_BASE ? await ensureDebianBase(log) : { ok: true };
    if (!baseReady.ok) {
      results.push({ service, status: 'failed', msg: baseReady.msg });
      continue;
    }
    log(`building ${img.pushRef} (${BUILT_SERVICES[service].tag}) on ${base}`);
    const built = await buildOne(service, base, img.pushRef);
    if (!built.ok) {
      results.push({ service, status: 'failed', image: img.pushRef, msg: built.msg });
      continue;
    }
    if (opts.push === false) {
      results.push({ service, status: built.built ? 'built' : 'present', image: img.pushRef });
      continue;
    }
    log(`pushing ${img.pushRef}`);
    const pushed = await cmd(['docker', 'push', img.pushRef]);
    results.push(
      pushed.code === 0
        ? { service, status: 'pushed', image: img.pushRef }
        : { service, status: 'failed', image: img.pushRef, msg: `docker push: ${lastLine(pushed)}` },
    );
  }
  return results;
}
