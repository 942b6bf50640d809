// What one image build is asked to make, and the names it pushes under: shared by the image steps
// (tasks/lib/steps/image/), the phase and the programmatic driver (build.ts).
import type { RegistrySettings } from '../inventory/types.ts';
import { gitRevision, imageTagNames, type DistributionSignature, type Revision } from './inputs.ts';
import type { PlatformInfo } from './platforms.ts';

export interface ImageBuildOptions {
  version: string;
  platforms: string[];
  registry: Pick<RegistrySettings, 'host' | 'repository' | 'insecure' | 'usernameEnv' | 'passwordEnv'> & { pullHost?: string };
  /** fridge_flink_state_dir, written into the image's default configuration. */
  stateDir: string;
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
  /** Progress lines of long builds, besides the running step's progress. */
  log?: (line: string) => void;
  /** Environment to read credentials from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where the digest of the registry credentials used last is kept (default .fridge/registry). */
  loginMarkDir?: string;
}

export function imageRepo(registry: ImageBuildOptions['registry']): string {
  return `${registry.host}/${registry.repository}`;
}

export async function imageTags(opts: Pick<ImageBuildOptions, 'version' | 'repoDir' | 'revision'>): Promise<{ sha: string; tags: string[] }> {
  const { sha } = opts.revision ?? (await gitRevision(opts.repoDir ?? process.cwd()));
  return { sha, tags: imageTagNames({ sha }, opts.version) };
}

/** The registry writes arm64 without a variant and arm with v7: compare in that form. */
export function normalisePlatform(p: string): string {
  return p === 'linux/arm64/v8' ? 'linux/arm64' : p;
}

export interface ManifestEntry {
  digest: string;
  platform: string;
}

/** Entries in a comparable order and form. */
export function sortEntries(e: readonly ManifestEntry[]): ManifestEntry[] {
  return e.map((x) => ({ digest: x.digest, platform: normalisePlatform(x.platform) })).sort((a, b) => a.platform.localeCompare(b.platform));
}

export function sameEntries(a: readonly ManifestEntry[], b: readonly ManifestEntry[]): boolean {
  return JSON.stringify(sortEntries(a)) === JSON.stringify(sortEntries(b));
}
