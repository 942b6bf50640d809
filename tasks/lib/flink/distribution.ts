// The Flink binary distribution, assembled without archive.apache.org: PyPI's `apache-flink` wheel carries
// bin/ scripts and conf/, `apache-flink-libraries` carries lib/, plugins/ and bin/bash-java-utils.jar.
// The result is laid out like the official flink-V/ directory, slimmed down, packed reproducibly into
// flink-V-bin.tgz with its SHA-512 stored next to it. The image build checks that checksum and, as for
// Apache's release, a GPG signature by a pinned key: here the project-local key of flink/signing.ts, since
// no Apache release manager signed what was assembled on this machine.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { STATE_DIR } from '../paths.ts';

export const DEFAULT_FLINK_VERSION = '2.3.0';
export const DEFAULT_CACHE_DIR = path.join(STATE_DIR, 'cache');

export interface FlinkDistribution {
  /** The unpacked flink-V/ directory (FLINK_HOME). */
  dir: string;
  /** flink-V-bin.tgz, the single artefact the image build consumes. */
  tarball: string;
  /** Hex SHA-512 of the tarball, computed once when it was packed. */
  sha512: string;
}

/** Plugins kept in the slim distribution; the Prometheus reporter feeds the stack's Prometheus. */
const KEPT_PLUGINS = ['metrics-prometheus'];
/** Scripts of the Python wheel that belong to PyFlink, not to the distribution. */
const DROPPED_BIN = /^(pyflink-.*|.*\.bat|find-flink-home\.sh)$/;
const COMPLETE_MARKER = '.fridge-complete';

export function distributionPaths(version: string, cacheDir = DEFAULT_CACHE_DIR): FlinkDistribution & { sumFile: string } {
  const tarball = path.join(cacheDir, `flink-${version}-bin.tgz`);
  return { dir: path.join(cacheDir, `flink-${version}`), tarball, sumFile: `${tarball}.sha512`, sha512: '' };
}

/** Returns the cached distribution, assembling it from PyPI on first use. */
export async function ensureFlinkDistribution(
  version: string = DEFAULT_FLINK_VERSION,
  cacheDir: string = DEFAULT_CACHE_DIR,
): Promise<FlinkDistribution> {
  const p = distributionPaths(version, cacheDir);
  const cached = await readCached(p.dir, p.sumFile);
  if (cached) return { dir: p.dir, tarball: p.tarball, sha512: cached };

  await mkdir(cacheDir, { recursive: true });
  // Built beside the cache and renamed into place, so a concurrent or interrupted run never sees half a tree.
  const work = await mkdtemp(path.join(cacheDir, `.flink-${version}-`));
  try {
    const wheels = path.join(work, 'wheels');
    await downloadWheels(version, wheels);
    const root = path.join(work, `flink-${version}`);
    await assemble(wheels, root, version);
    const tgz = path.join(work, path.basename(p.tarball));
    await pack(root, tgz);
    const sha512 = await sha512File(tgz);
    await writeFile(path.join(root, COMPLETE_MARKER), `${sha512}\n`);

    const again = await readCached(p.dir, p.sumFile);
    if (again) return { dir: p.dir, tarball: p.tarball, sha512: again };
    await rm(p.dir, { recursive: true, force: true });
    await rename(tgz, p.tarball);
    await writeFile(p.sumFile, `${sha512}  ${path.basename(p.tarball)}\n`);
    await rename(root, p.dir);
    return { dir: p.dir, tarball: p.tarball, sha512 };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readCached(dir: string, sumFile: string): Promise<string | undefined> {
  try {
    const [sum, marker] = await Promise.all([readFile(sumFile, 'utf8'), readFile(path.join(dir, COMPLETE_MARKER), 'utf8')]);
    const hex = sum.split(/\s+/)[0] ?? '';
    return /^[0-9a-f]{128}$/.test(hex) && marker.trim() === hex ? hex : undefined;
  } catch {
    return undefined;
  }
}

async function downloadWheels(version: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const quiet = $({ quiet: true });
  // apache-flink's wheels are per CPython/platform but its bin/ and conf/ are the same text in each: pin one
  // wheel so the result does not depend on the Python that happens to run pip.
  await quiet`python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp -d ${dest} ${`apache-flink==${version}`}`;
  // apache-flink-libraries is a wheel from 2.2 on; 1.x is only served as an sdist (same files under deps/).
  const wheel = await quiet`python3 -m pip download --quiet --no-deps --only-binary=:all: -d ${dest} ${`apache-flink-libraries==${version}`}`.nothrow();
  if (wheel.exitCode !== 0) await quiet`python3 -m pip download --quiet --no-deps --no-binary=:all: -d ${dest} ${`apache-flink-libraries==${version}`}`;
}

async function assemble(wheels: string, root: string, version: string): Promise<void> {
  const files = await readdir(wheels);
  const scripts = files.find((f) => f.startsWith('apache_flink-') && f.endsWith('.whl'));
  const libs = files.find((f) => /^apache[-_]flink[-_]libraries-/.test(f));
  if (!scripts || !libs) throw new Error(`pip did not deliver both Flink ${version} wheels (got: ${files.join(', ')})`);

  const unpackScripts = path.join(wheels, 'scripts');
  const unpackLibs = path.join(wheels, 'libs');
  const quiet = $({ quiet: true });
  await quiet`python3 -m zipfile -e ${path.join(wheels, scripts)} ${unpackScripts}`;
  const fromScripts = path.join(unpackScripts, 'pyflink');
  let fromLibs: string;
  let licenses: string;
  if (libs.endsWith('.whl')) {
    await quiet`python3 -m zipfile -e ${path.join(wheels, libs)} ${unpackLibs}`;
    fromLibs = path.join(unpackLibs, 'pyflink');
    licenses = path.join(unpackLibs, `apache_flink_libraries-${version}.dist-info`, 'licenses');
  } else {
    await mkdir(unpackLibs);
    await quiet`tar -xzf ${path.join(wheels, libs)} -C ${unpackLibs}`;
    fromLibs = path.join(unpackLibs, `apache-flink-libraries-${version}`, 'deps');
    licenses = path.join(unpackLibs, `apache-flink-libraries-${version}`);
  }

  await mkdir(path.join(root, 'bin'), { recursive: true });
  for (const f of await readdir(path.join(fromScripts, 'bin'))) {
    if (DROPPED_BIN.test(f)) continue;
    await cp(path.join(fromScripts, 'bin', f), path.join(root, 'bin', f));
    // zipfile drops the mode bits: the launcher scripts must be executable, the sourced helpers need not be.
    await chmod(path.join(root, 'bin', f), 0o755);
  }
  await cp(path.join(fromLibs, 'bin', 'bash-java-utils.jar'), path.join(root, 'bin', 'bash-java-utils.jar'));
  await cp(path.join(fromScripts, 'conf'), path.join(root, 'conf'), { recursive: true });
  await cp(path.join(fromLibs, 'lib'), path.join(root, 'lib'), { recursive: true });
  for (const plugin of KEPT_PLUGINS) {
    const src = path.join(fromLibs, 'plugins', plugin);
    const alt = await findJar(path.join(fromLibs, 'opt'), `flink-${plugin}`);
    await mkdir(path.join(root, 'plugins', plugin), { recursive: true });
    if (await exists(src)) await cp(src, path.join(root, 'plugins', plugin), { recursive: true });
    else if (alt) await cp(alt, path.join(root, 'plugins', plugin, path.basename(alt)));
    else throw new Error(`Flink ${version}: plugin ${plugin} is neither in plugins/ nor in opt/`);
  }
  await mkdir(path.join(root, 'log'), { recursive: true });
  await mkdir(path.join(root, 'opt'), { recursive: true });
  for (const f of ['LICENSE', 'NOTICE']) {
    if (await exists(path.join(licenses, f))) await cp(path.join(licenses, f), path.join(root, f));
  }
  if (await exists(path.join(fromLibs, 'licenses'))) await cp(path.join(fromLibs, 'licenses'), path.join(root, 'licenses'), { recursive: true });
}

async function findJar(dir: string, prefix: string): Promise<string | undefined> {
  if (!(await exists(dir))) return undefined;
  const f = (await readdir(dir)).find((n) => n.startsWith(prefix) && n.endsWith('.jar'));
  return f ? path.join(dir, f) : undefined;
}

/** Reproducible: same version → same bytes → same SHA-512 on every machine. */
async function pack(root: string, tgz: string): Promise<void> {
  const parent = path.dirname(root);
  const name = path.basename(root);
  await $({ quiet: true })`tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --exclude=${COMPLETE_MARKER} -C ${parent} -cf - ${name} | gzip -n > ${tgz}`;
}

export async function sha512File(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
