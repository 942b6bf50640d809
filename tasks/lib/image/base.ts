// The local JRE base (fridge/jre:17-bookworm-<arch>): the stand-in for eclipse-temurin:17-jre where Docker
// Hub is out of reach. Built by docker/jre-base/build.sh (debootstrap + Debian's OpenJDK 17) and rebuilt
// only when that recipe changes: the image carries the recipe's hash as a label.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import type { PlatformInfo } from './platforms.ts';

export const DOCKER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docker');
const RECIPE = path.join(DOCKER_DIR, 'jre-base', 'build.sh');
const RECIPE_FILES = ['Dockerfile', 'load-rootfs.sh'].map((f) => path.join(DOCKER_DIR, 'jre-base', f));
export const JRE_BASE_REPO = 'fridge/jre';
const RECIPE_LABEL = 'fridge.jre.recipe';

export function jreBaseTag(p: PlatformInfo): string {
  return `${JRE_BASE_REPO}:17-bookworm-${p.slug}`;
}

export function jreRecipeHash(p: PlatformInfo): string {
  const h = createHash('sha256').update(readFileSync(RECIPE));
  for (const f of RECIPE_FILES) h.update('\0').update(readFileSync(f));
  return h.update(`\0${p.debArch}\0${p.platform}`).digest('hex').slice(0, 16);
}

/** The recipe hash the local base carries; undefined when there is no such image. */
export async function jreBaseLabel(p: PlatformInfo): Promise<string | undefined> {
  const have = await $({ quiet: true, nothrow: true })`docker image inspect --format ${`{{index .Config.Labels "${RECIPE_LABEL}"}}`} ${jreBaseTag(p)}`;
  return have.exitCode === 0 ? have.stdout.trim() : undefined;
}

/** Builds the base for one platform from the recipe (debootstrap, under QEMU for ARM): minutes. */
export async function buildJreBase(p: PlatformInfo): Promise<{ ok: true; seconds: number } | { ok: false; msg: string }> {
  const tag = jreBaseTag(p);
  const t0 = Date.now();
  const r = await $({ quiet: true, nothrow: true })`${RECIPE} ${p.debArch} ${p.platform} ${tag} ${`${RECIPE_LABEL}=${jreRecipeHash(p)} org.opencontainers.image.title=fridge-jre`}`;
  if (r.exitCode !== 0) return { ok: false, msg: `${RECIPE} ${p.debArch} failed: ${(r.stderr + r.stdout).trim().split('\n').slice(-8).join(' | ')}` };
  return { ok: true, seconds: Math.round((Date.now() - t0) / 100) / 10 };
}
