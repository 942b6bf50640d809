// The image build: one image per platform, smoke-tested, pushed as ONE manifest list under the git short
// sha, the Flink version and `latest`. With buildx (GitHub's runners) a single `buildx build --push`
// does it; without (Debian's docker 20.10 here) per-platform `docker build --platform` + `docker manifest`.
// A run with nothing changed builds from cache, finds the registry already holding the same digests and
// reports ok; --check reports what would be built and pushed without building.

import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { RegistrySettings } from '../inventory/types.ts';
import { registerSecret } from '../secrets.ts';
import { DEFAULT_CACHE_DIR, distributionPaths, ensureFlinkDistribution } from '../flink/distribution.ts';
import { ensureJreBase, jreBaseTag } from './base.ts';
import { writeContext } from './context.ts';
import { docker, hasBuildx, inspectImage, login as dockerLogin, push, remoteManifest, tail } from './docker.ts';
import { freshSalt, planLogin } from '../registry/login-mark.ts';
import { localLoginFacts, writeLocalLoginMark } from '../registry/local-login.ts';
import { DEFAULT_DROP_JARS, gitRevision, imageBuildArgs, imageTagNames, type DistributionSignature, type Revision } from './inputs.ts';
import { serveFiles } from './file-server.ts';
import { ensureSigningKey, signFile } from '../flink/signing.ts';
import { platformInfo, type PlatformInfo } from './platforms.ts';
import { smokeTest } from './smoke.ts';

export interface ImageBuildOptions {
  version: string;
  platforms: string[];
  registry: Pick<RegistrySettings, 'host' | 'repository' | 'insecure' | 'usernameEnv' | 'passwordEnv'> & { pullHost?: string };
  /** fridge_flink_state_dir, written into the image's default configuration. */
  stateDir: string;
  check: boolean;
  cacheDir?: string;
  /** Repository whose HEAD names the build (git short sha). */
  repoDir?: string;
  /** HEAD read once for the whole phase: a commit made during a long build must not split the tags it pushes. */
  revision?: Revision;
  /** Base image per platform; default the local Debian JRE base (fridge/jre:17-bookworm-<arch>). */
  baseImage?: (p: PlatformInfo) => string;
  /** Where the distribution comes from; default the PyPI-assembled tarball over a loopback server. */
  source?: { url: string; sha512: string; signature?: DistributionSignature };
  /** GNUPGHOME of the key that signs the locally assembled distribution (default .fridge/flink-signing). */
  signingHome?: string;
  /**
   * lib/ jars left out of the image (globs). Default: the Table/SQL stack and the Scala API, which
   * DataStream jobs do not use and which make up a fifth of the distribution; [] keeps everything.
   */
  dropJars?: string[];
  /** Build with buildx when the CLI has it (default true); false forces the per-platform path. */
  useBuildx?: boolean;
  smoke?: boolean;
  /** docker build --no-cache: the cold figure for the bench. */
  noCache?: boolean;
  log?: (line: string) => void;
  /** Environment to read credentials from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where the digest of the registry credentials used last is kept (default .fridge/registry). */
  loginMarkDir?: string;
}

export interface PlatformOutcome {
  platform: string;
  ref: string;
  imageId?: string;
  digest?: string;
  built: boolean;
  buildSeconds: number;
  uncompressedBytes?: number;
  compressedBytes?: number;
  smoke?: { version: string; overviewSeconds: number; cached: boolean };
}

export interface ImageBuildResult {
  status: 'ok' | 'changed' | 'failed';
  msg: string;
  /** What was (or, in check mode, would be) done, one line each. */
  actions: string[];
  tags: string[];
  platforms: PlatformOutcome[];
  seconds: number;
}

export { DEFAULT_DROP_JARS };

export function imageRepo(registry: ImageBuildOptions['registry']): string {
  return `${registry.host}/${registry.repository}`;
}

export async function imageTags(opts: Pick<ImageBuildOptions, 'version' | 'repoDir' | 'revision'>): Promise<{ sha: string; tags: string[] }> {
  const { sha } = opts.revision ?? (await gitRevision(opts.repoDir ?? process.cwd()));
  return { sha, tags: imageTagNames({ sha }, opts.version) };
}

/** Layer chains that already passed the smoke tests: a rebuild from cache or a new label does not repeat them. */
async function smokeCache(cacheDir: string): Promise<{ has: (id: string) => boolean; add: (id: string) => Promise<void> }> {
  const file = path.join(cacheDir, 'image-smoke-passed.json');
  let ids: string[] = [];
  try {
    ids = JSON.parse(await readFile(file, 'utf8')) as string[];
  } catch {
    ids = [];
  }
  return {
    has: (id) => ids.includes(id),
    add: async (id) => {
      ids = [...ids.filter((x) => x !== id), id].slice(-50);
      await mkdir(cacheDir, { recursive: true });
      await writeFile(file, JSON.stringify(ids));
    },
  };
}

export async function buildImage(opts: ImageBuildOptions): Promise<ImageBuildResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  const env = opts.env ?? process.env;
  const repo = imageRepo(opts.registry);
  const { sha, tags } = await imageTags(opts);
  const actions: string[] = [];
  const outcomes: PlatformOutcome[] = [];
  const done = (status: ImageBuildResult['status'], msg: string): ImageBuildResult => ({
    status,
    msg,
    actions,
    tags: tags.map((t) => `${repo}:${t}`),
    platforms: outcomes,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  });

  const platforms: PlatformInfo[] = [];
  for (const p of opts.platforms) {
    const info = platformInfo(p);
    if (!info) return done('failed', `platform ${p} is not supported (supported: linux/amd64, linux/arm64, linux/arm/v7)`);
    platforms.push(info);
  }
  const insecure = opts.registry.insecure ? ['--insecure'] : [];

  // Credentials: names from the inventory, values from the environment, never in argv or output.
  const user = opts.registry.usernameEnv ? env[opts.registry.usernameEnv] : undefined;
  const pass = opts.registry.passwordEnv ? env[opts.registry.passwordEnv] : undefined;
  registerSecret(pass);
  if ((opts.registry.usernameEnv || opts.registry.passwordEnv) && (!user || !pass)) {
    const missing = [opts.registry.usernameEnv, opts.registry.passwordEnv].filter((n): n is string => !!n && !env[n]);
    return done('failed', `registry ${opts.registry.host} needs credentials: set ${missing.join(' and ')} in the environment`);
  }

  // Log in only when docker has no login for the registry or the credentials differ from those used last.
  const login = user && pass ? planLogin(await localLoginFacts(opts.registry.host, env, opts.loginMarkDir), { host: opts.registry.host, user, token: pass }, freshSalt()) : { login: false as const };
  const loginLine = login.login ? `docker login ${opts.registry.host} as $${opts.registry.usernameEnv ?? ''} (${login.why})` : undefined;

  const current = await remoteManifest(`${repo}:${opts.version}`, opts.registry.insecure);

  if (opts.check) {
    const dist = distributionPaths(opts.version, cacheDir);
    if (loginLine) actions.push(loginLine);
    actions.push(`use Flink ${opts.version} distribution ${dist.tarball}`);
    for (const p of platforms) {
      const base = opts.baseImage?.(p) ?? jreBaseTag(p);
      const baseThere = (await inspectImage(base)) !== undefined;
      actions.push(`build ${repo}:${sha}-${p.slug} for ${p.platform} on ${base}${baseThere ? '' : ' (base to be built first)'}`);
    }
    actions.push(`smoke-test each platform (flink --version, jobmanager /overview)`);
    actions.push(`push manifest list ${tags.map((t) => `${repo}:${t}`).join(', ')} [${opts.platforms.join(', ')}]`);
    const now = current.kind === 'list' ? current.entries.map((e) => e.platform).join(', ') : 'nothing';
    return done('changed', `would build and push ${platforms.length} platform(s); registry has ${now} under ${opts.version}`);
  }

  if (login.login && user && pass) {
    const r = await dockerLogin(opts.registry.host, user, pass);
    if (!r.ok) return done('failed', `docker login ${opts.registry.host} failed: ${tail(r.stderr)}`);
    await writeLocalLoginMark(opts.registry.host, login.mark, opts.loginMarkDir);
    if (loginLine) actions.push(loginLine);
  }

  let source = opts.source;
  let server: Awaited<ReturnType<typeof serveFiles>> | undefined;
  try {
    if (!source) {
      // Assembled here, so signed here: the virtual fridge's trust root is the local key (flink/signing.ts).
      const dist = await ensureFlinkDistribution(opts.version, cacheDir);
      const signed = await signFile(dist.tarball, await ensureSigningKey(opts.signingHome));
      server = await serveFiles([dist.tarball, signed.signature, signed.keys]);
      const url = (f: string): string => server?.urls[f] ?? '';
      source = { url: url(dist.tarball), sha512: dist.sha512, signature: { url: url(signed.signature), keysUrl: url(signed.keys), fingerprint: signed.fingerprint } };
    }
    const context = await writeContext(path.join(cacheDir, `image-context-${opts.version}`), opts.version, opts.stateDir);
    // The build arguments are defined once, in inputs.ts, for this task and the GitHub workflow alike.
    const revision = opts.revision ?? (await gitRevision(opts.repoDir ?? process.cwd()));
    const buildArgs = (p: PlatformInfo): string[] =>
      imageBuildArgs({
        baseImage: opts.baseImage?.(p) ?? jreBaseTag(p),
        version: opts.version,
        distribution: { url: source?.url ?? '', sha512: source?.sha512 ?? '', ...(source?.signature ? { signature: source.signature } : {}) },
        confFile: context.confFile,
        dropJars: opts.dropJars,
        revision: { ...revision, sha },
      }).flatMap((a) => ['--build-arg', a]);

    if (opts.useBuildx !== false && (await hasBuildx())) {
      // One BuildKit build for every platform, pushed as a manifest list; `latest` follows after the smoke tests.
      log(`buildx build ${opts.platforms.join(',')}`);
      const first = platforms[0];
      if (!first) return done('failed', 'no platforms to build');
      const bx = await docker(['buildx', 'build', '--platform', opts.platforms.join(','), ...buildArgs(first), '--push', '-t', `${repo}:${sha}`, '-t', `${repo}:${opts.version}`, context.dir]);
      if (!bx.ok) return done('failed', `buildx build failed: ${tail(bx.stderr)}`);
      actions.push(`buildx built and pushed ${repo}:${sha} and :${opts.version}`);
      // Untested here (no buildx on this machine): smoke each platform from the registry, then move latest.
      for (const p of platforms) {
        if (opts.smoke === false) break;
        const s = await smokeTest(`${repo}:${sha}`, p.platform, opts.version, `fridge-image-smoke-${p.slug}-${process.pid}`);
        if (!s.ok) return done('failed', s.msg);
        outcomes.push({ platform: p.platform, ref: `${repo}:${sha}`, built: true, buildSeconds: 0, smoke: { version: s.version, overviewSeconds: s.overviewSeconds, cached: false } });
      }
      const latest = await docker(['buildx', 'imagetools', 'create', '-t', `${repo}:latest`, `${repo}:${sha}`]);
      if (!latest.ok) return done('failed', `moving ${repo}:latest failed: ${tail(latest.stderr)}`);
      actions.push(`pushed ${repo}:latest`);
      return done('changed', `${repo}:${opts.version} [${opts.platforms.join(', ')}]`);
    } else {
      const smoked = await smokeCache(cacheDir);
      for (const p of platforms) {
        const base = opts.baseImage?.(p) ?? jreBaseTag(p);
        if (!opts.baseImage) {
          const b = await ensureJreBase(p, log);
          if (b.status === 'failed') return done('failed', b.msg);
          if (b.status === 'changed') actions.push(`built base ${b.tag} in ${b.seconds} s`);
        }
        const ref = `${repo}:${sha}-${p.slug}`;
        const before = await inspectImage(ref);
        const bt = Date.now();
        log(`docker build --platform ${p.platform} on ${base}`);
        const b = await docker(['build', ...(opts.noCache ? ['--no-cache'] : []), '--platform', p.platform, ...buildArgs(p), '-t', ref, context.dir]);
        if (!b.ok) return done('failed', `docker build for ${p.platform} failed: ${tail(b.stderr || b.stdout)}`);
        const img = await inspectImage(ref);
        if (!img) return done('failed', `bug: ${ref} missing after a successful build`);
        const built = before?.contentKey !== img.contentKey;
        const outcome: PlatformOutcome = { platform: p.platform, ref, imageId: img.id, built, buildSeconds: Math.round((Date.now() - bt) / 100) / 10, uncompressedBytes: img.sizeBytes };
        outcomes.push(outcome);
        if (built) actions.push(`built ${ref} (${p.platform}) in ${outcome.buildSeconds} s`);
        else if (before?.id !== img.id) actions.push(`tagged ${ref} (${p.platform}): same layers, new labels`);

        if (opts.smoke !== false) {
          if (smoked.has(img.contentKey)) outcome.smoke = { version: opts.version, overviewSeconds: 0, cached: true };
          else {
            log(`smoke test ${p.platform}`);
            const s = await smokeTest(ref, p.platform, opts.version, `fridge-image-smoke-${p.slug}-${process.pid}`);
            if (!s.ok) return done('failed', s.msg);
            await smoked.add(img.contentKey);
            outcome.smoke = { version: s.version, overviewSeconds: s.overviewSeconds, cached: false };
            actions.push(`smoke-tested ${p.platform}: flink ${s.version}, /overview after ${s.overviewSeconds} s`);
          }
        }
        const pushed = await push(ref);
        if (!pushed.ok) return done('failed', pushed.msg);
        outcome.digest = pushed.digest;
        const m = await remoteManifest(`${repo}@${pushed.digest}`, opts.registry.insecure);
        if (m.kind === 'image') outcome.compressedBytes = m.compressedBytes;
      }
    }

    // One manifest list per tag; skipped when the registry already lists the same digests.
    const want = outcomes
      .filter((o): o is PlatformOutcome & { digest: string } => o.digest !== undefined)
      .map((o) => ({ digest: o.digest, platform: o.platform }))
      .sort((a, b) => a.platform.localeCompare(b.platform));
    for (const tag of want.length > 0 ? tags : []) {
      const target = `${repo}:${tag}`;
      const have = await remoteManifest(target, opts.registry.insecure);
      const same = have.kind === 'list' && JSON.stringify([...have.entries].sort((a, b) => a.platform.localeCompare(b.platform))) === JSON.stringify(want.map((w) => ({ digest: w.digest, platform: normalisePlatform(w.platform) })));
      if (same) continue;
      await docker(['manifest', 'rm', target]);
      const c = await docker(['manifest', 'create', ...insecure, target, ...want.map((w) => `${repo}@${w.digest}`)]);
      if (!c.ok) return done('failed', `docker manifest create ${target} failed: ${tail(c.stderr)}`);
      for (const w of want) {
        const info = platformInfo(w.platform);
        const [os, arch, variant] = normalisePlatform(w.platform).split('/');
        const a = await docker(['manifest', 'annotate', target, `${repo}@${w.digest}`, '--os', os ?? 'linux', '--arch', arch ?? '', ...(variant ? ['--variant', variant] : [])]);
        if (!a.ok) return done('failed', `docker manifest annotate ${target} ${info?.slug ?? w.platform} failed: ${tail(a.stderr)}`);
      }
      const pm = await docker(['manifest', 'push', ...insecure, '--purge', target]);
      if (!pm.ok) return done('failed', `docker manifest push ${target} failed: ${tail(pm.stderr)}`);
      actions.push(`pushed ${target} [${want.map((w) => w.platform).join(', ')}]`);
    }
  } finally {
    await server?.close();
  }
  const changed = actions.length > 0;
  return done(changed ? 'changed' : 'ok', changed ? `${repo}:${opts.version} [${opts.platforms.join(', ')}]` : `${repo}:${opts.version} up to date [${opts.platforms.join(', ')}]`);
}

/** The registry writes arm64 without a variant and arm with v7: compare in that form. */
function normalisePlatform(p: string): string {
  return p === 'linux/arm64/v8' ? 'linux/arm64' : p;
}
