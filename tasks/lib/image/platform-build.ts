// The docker work of the image build, each returning data: one platform's `docker build`, a manifest list
// pushed for one tag, and the buildx path (one BuildKit build for every platform, pushed at once).
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ensureFlinkDistribution } from '../flink/distribution.ts';
import { ensureSigningKey, signFile } from '../flink/signing.ts';
import { jreBaseTag } from './base.ts';
import { writeContext } from './context.ts';
import { docker, inspectImage, tail, type LocalImage } from './docker.ts';
import { serveFiles, type FileServer } from './file-server.ts';
import { DEFAULT_DROP_JARS, gitRevision, imageBuildArgs } from './inputs.ts';
import { normalisePlatform, type ImageBuildOptions, type ManifestEntry } from './options.ts';
import { platformInfo, type PlatformInfo } from './platforms.ts';

export function baseImageOf(opts: Pick<ImageBuildOptions, 'baseImage'>, p: PlatformInfo): string {
  return opts.baseImage?.(p) ?? jreBaseTag(p);
}

/** Everything that decides one platform's image, hashed (the loopback URL of the distribution is not an input). */
export function platformInputs(i: { version: string; platform: string; baseId: string; sha512: string; context: string; dropJars: readonly string[]; sha: string; created: string }): string {
  return createHash('sha256').update(JSON.stringify(i)).digest('hex').slice(0, 24);
}

/** The distribution the build fetches: the given source, or the one assembled here, signed with the local key. */
async function distributionSource(opts: ImageBuildOptions, cacheDir: string): Promise<{ source: NonNullable<ImageBuildOptions['source']>; server?: FileServer }> {
  if (opts.source) return { source: opts.source };
  // Assembled here, so signed here: the virtual fridge's trust root is the local key (flink/signing.ts).
  const dist = await ensureFlinkDistribution(opts.version, cacheDir);
  const signed = await signFile(dist.tarball, await ensureSigningKey(opts.signingHome));
  const server = await serveFiles([dist.tarball, signed.signature, signed.keys]);
  const url = (f: string): string => server.urls[f] ?? '';
  return { source: { url: url(dist.tarball), sha512: dist.sha512, signature: { url: url(signed.signature), keysUrl: url(signed.keys), fingerprint: signed.fingerprint } }, server };
}

/** The --build-arg flags for one platform. */
async function buildArgs(opts: ImageBuildOptions, p: PlatformInfo, source: NonNullable<ImageBuildOptions['source']>, confFile: string, sha: string): Promise<string[]> {
  // The build arguments are defined once, in inputs.ts, for this task and the GitHub workflow alike.
  const revision = opts.revision ?? (await gitRevision(opts.repoDir ?? process.cwd()));
  return imageBuildArgs({ baseImage: baseImageOf(opts, p), version: opts.version, distribution: source, confFile, dropJars: opts.dropJars ?? DEFAULT_DROP_JARS, revision: { ...revision, sha } }).flatMap((a) => ['--build-arg', a]);
}

export type PlatformBuilt = { ok: true; image: LocalImage; seconds: number } | { ok: false; msg: string };

/** `docker build --platform` of one platform's image, tagged `ref`. */
export async function buildPlatformImage(opts: ImageBuildOptions, p: PlatformInfo, ref: string, sha: string, cacheDir: string): Promise<PlatformBuilt> {
  const { source, server } = await distributionSource(opts, cacheDir);
  try {
    const context = await writeContext(path.join(cacheDir, `image-context-${opts.version}`), opts.version, opts.stateDir);
    const t0 = Date.now();
    const b = await docker(['build', ...(opts.noCache ? ['--no-cache'] : []), '--platform', p.platform, ...(await buildArgs(opts, p, source, context.confFile, sha)), '-t', ref, context.dir]);
    if (!b.ok) return { ok: false, msg: `docker build for ${p.platform} failed: ${tail(b.stderr || b.stdout)}` };
    const image = await inspectImage(ref);
    if (!image) return { ok: false, msg: `bug: ${ref} missing after a successful build` };
    return { ok: true, image, seconds: Math.round((Date.now() - t0) / 100) / 10 };
  } finally {
    await server?.close();
  }
}

/** Replaces the manifest list under `target` with `entries` (digests in `repo`). */
export async function pushManifestList(repo: string, target: string, entries: readonly ManifestEntry[], insecure: boolean): Promise<{ ok: true } | { ok: false; msg: string }> {
  const flag = insecure ? ['--insecure'] : [];
  await docker(['manifest', 'rm', target]);
  const c = await docker(['manifest', 'create', ...flag, target, ...entries.map((w) => `${repo}@${w.digest}`)]);
  if (!c.ok) return { ok: false, msg: `docker manifest create ${target} failed: ${tail(c.stderr)}` };
  for (const w of entries) {
    const [os, arch, variant] = normalisePlatform(w.platform).split('/');
    const a = await docker(['manifest', 'annotate', target, `${repo}@${w.digest}`, '--os', os ?? 'linux', '--arch', arch ?? '', ...(variant ? ['--variant', variant] : [])]);
    if (!a.ok) return { ok: false, msg: `docker manifest annotate ${target} ${platformInfo(w.platform)?.slug ?? w.platform} failed: ${tail(a.stderr)}` };
  }
  const pm = await docker(['manifest', 'push', ...flag, '--purge', target]);
  if (!pm.ok) return { ok: false, msg: `docker manifest push ${target} failed: ${tail(pm.stderr)}` };
  return { ok: true };
}

/** One BuildKit build for every platform, pushed under the commit and the version (buildx; GitHub's runners). */
export async function buildxPush(opts: ImageBuildOptions, platforms: PlatformInfo[], repo: string, sha: string, cacheDir: string): Promise<{ ok: true } | { ok: false; msg: string }> {
  const first = platforms[0];
  if (!first) return { ok: false, msg: 'no platforms to build' };
  const { source, server } = await distributionSource(opts, cacheDir);
  try {
    const context = await writeContext(path.join(cacheDir, `image-context-${opts.version}`), opts.version, opts.stateDir);
    const bx = await docker(['buildx', 'build', '--platform', opts.platforms.join(','), ...(await buildArgs(opts, first, source, context.confFile, sha)), '--push', '-t', `${repo}:${sha}`, '-t', `${repo}:${opts.version}`, context.dir]);
    return bx.ok ? { ok: true } : { ok: false, msg: `buildx build failed: ${tail(bx.stderr)}` };
  } finally {
    await server?.close();
  }
}
