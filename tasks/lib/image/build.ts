// The image build: one image per platform, smoke-tested, pushed as ONE manifest list under the git short
// sha, the Flink version and `latest`. With buildx (GitHub's runners) a single `buildx build --push`
// does it; without (Debian's docker 20.10 here) per-platform `docker build --platform` + `docker manifest`.
// The work is a play of steps on this machine (tasks/lib/steps/image/): the runner applies them, decides
// ok/changed and honours check mode; this module makes the job, runs the play and sums up its results.

import type { Run } from '../engine/runner.ts';
import type { StepResult } from '../engine/types.ts';
import { DEFAULT_CACHE_DIR } from '../flink/distribution.ts';
import { LOCALHOST } from '../inventory/local-host.ts';
import { INPUTS } from '../steps/image/inputs.ts';
import { builtKey, inRegistryKey, pushedKey, smokedKey, platformRef, type ImageJob } from '../steps/image/job.ts';
import { imageSteps } from '../steps/image/plan.ts';
import { hasBuildx } from './docker.ts';
import { DEFAULT_DROP_JARS, gitRevision } from './inputs.ts';
import { imageRepo, imageTags, type ImageBuildOptions } from './options.ts';
import { platformInfo, type PlatformInfo } from './platforms.ts';

export { DEFAULT_DROP_JARS, imageRepo, imageTags, type ImageBuildOptions };

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

/** The play's results summed up for code that reads them (the phase's --json data, tests, the bench). */
export interface ImageBuildResult {
  /** The runner's verdicts summed up: failed if a step failed, changed if one changed, else ok. */
  status: StepResult['status'];
  msg: string;
  /** What was (or, in check mode, would be) done: the changes of the steps, one line each. */
  actions: string[];
  tags: string[];
  platforms: PlatformOutcome[];
  seconds: number;
}

/** Reads what the job needs once (HEAD, the tags): a commit made during a long build must not split them. */
export async function imageJob(opts: ImageBuildOptions, log: (line: string) => void): Promise<ImageJob> {
  const revision = opts.revision ?? (await gitRevision(opts.repoDir ?? process.cwd()));
  const withRevision = { ...opts, revision };
  const { sha, tags } = await imageTags(withRevision);
  const platforms = opts.platforms.map(platformInfo).filter((p): p is PlatformInfo => p !== undefined);
  return { opts: withRevision, cacheDir: opts.cacheDir ?? DEFAULT_CACHE_DIR, repo: imageRepo(opts.registry), sha, tags, platforms, log };
}

function overall(results: StepResult[]): StepResult['status'] {
  if (results.some((r) => r.status === 'failed')) return 'failed';
  return results.some((r) => r.status === 'changed') ? 'changed' : 'ok';
}

/** Runs the image build's play on this machine in `run` (its check mode, its reporter) and sums it up. */
export async function buildImage(run: Run, opts: ImageBuildOptions, stateFile?: string): Promise<ImageBuildResult> {
  const t0 = Date.now();
  const job = await imageJob(opts, opts.log ?? ((line) => run.message('info', line, LOCALHOST.name)));
  const buildx = opts.useBuildx !== false && (await hasBuildx());
  const [outcome] = await run.play({ name: 'image-build', hosts: [LOCALHOST], steps: imageSteps(job, { buildx, ...(stateFile ? { stateFile } : {}) }) });
  const results = outcome?.results ?? [];
  const status = overall(results);
  const failed = results.find((r) => r.status === 'failed');
  const gate = results[0];
  const published = run.output(INPUTS, LOCALHOST)?.published?.entries ?? [];
  const platforms = job.platforms.map((p): PlatformOutcome => {
    const built = run.output(builtKey(p), LOCALHOST);
    const pushed = run.output(pushedKey(p), LOCALHOST) ?? run.output(inRegistryKey(p), LOCALHOST);
    const smoke = run.output(smokedKey(p), LOCALHOST);
    const digest = pushed?.digest ?? published.find((e) => e.platform === p.platform)?.digest;
    return {
      platform: p.platform,
      ref: platformRef(job, p),
      built: built?.built ?? false,
      buildSeconds: built?.buildSeconds ?? 0,
      ...(built ? { imageId: built.imageId, uncompressedBytes: built.sizeBytes } : {}),
      ...(digest ? { digest } : {}),
      ...(pushed?.compressedBytes !== undefined ? { compressedBytes: pushed.compressedBytes } : {}),
      ...(smoke ? { smoke } : {}),
    };
  });
  const msg = failed?.msg ?? (status === 'ok' && gate?.msg ? gate.msg : `${job.repo}:${opts.version} [${opts.platforms.join(', ')}]`);
  return {
    status,
    msg,
    actions: results.flatMap((r) => (r.status === 'changed' ? (r.changes ?? []) : [])),
    tags: job.tags.map((t) => `${job.repo}:${t}`),
    platforms,
    seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
}
