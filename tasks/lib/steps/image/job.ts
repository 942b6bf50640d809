// One image build as the image steps see it: the options, the names it pushes under, and where long work
// reports progress. Made once by the driver (image/build.ts) before the play; every step reads it.
import { outputKey, type OutputKey } from '../../engine/outputs.ts';
import type { CallOutcome, HostContext } from '../../engine/types.ts';
import type { ImageBuildOptions, ManifestEntry } from '../../image/options.ts';
import type { PlatformInfo } from '../../image/platforms.ts';

export interface ImageJob {
  opts: ImageBuildOptions;
  cacheDir: string;
  /** registry host/repository */
  repo: string;
  sha: string;
  tags: string[];
  /** The supported ones among opts.platforms, in order. */
  platforms: PlatformInfo[];
  log: (line: string) => void;
}

/** Tells the operator what a long action does now: the running step's progress and a message line. */
export function say(ctx: HostContext, job: ImageJob, line: string): void {
  ctx.progress?.(line);
  job.log(line);
}

/** A call's work whose helpers throw on failure (downloads, gpg): the failure becomes the step's message. */
export async function attempt(work: () => Promise<CallOutcome>): Promise<CallOutcome> {
  try {
    return await work();
  } catch (err) {
    return { ok: false, msg: err instanceof Error ? err.message : String(err) };
  }
}

export const platformRef = (job: ImageJob, p: PlatformInfo): string => `${job.repo}:${job.sha}-${p.slug}`;
export const tagRefs = (job: ImageJob): string[] => job.tags.map((t) => `${job.repo}:${t}`);

/** What a platform's build made in this command (recorded by the build action). */
export interface PlatformImage {
  imageId: string;
  contentKey: string;
  sizeBytes: number;
  /** The layers changed (not only the labels). */
  built: boolean;
  buildSeconds: number;
}
export const builtKey = (p: PlatformInfo): OutputKey<PlatformImage> => outputKey<PlatformImage>(`image.built.${p.slug}`);

export interface SmokeOutcome {
  version: string;
  overviewSeconds: number;
  cached: boolean;
}
export const smokedKey = (p: PlatformInfo): OutputKey<SmokeOutcome> => outputKey<SmokeOutcome>(`image.smoke.${p.slug}`);

/** A platform's image in the registry. */
export interface PushedImage {
  digest: string;
  compressedBytes?: number;
}
/** Pushed by this run (recorded by the push action). */
export const pushedKey = (p: PlatformInfo): OutputKey<PushedImage> => outputKey<PushedImage>(`image.pushed.${p.slug}`);
/** Already in the registry when the push step looked (its output). */
export const inRegistryKey = (p: PlatformInfo): OutputKey<PushedImage | undefined> => outputKey<PushedImage | undefined>(`image.in-registry.${p.slug}`);

/** The entries the manifest lists must hold; `missing`: platforms not pushed yet (check mode). */
export interface WantedEntries {
  entries: ManifestEntry[];
  missing: string[];
}
export const ENTRIES = outputKey<WantedEntries>('image.entries');
