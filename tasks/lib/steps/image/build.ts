// One platform's image, `docker build --platform` on its base, tagged <repo>:<sha>-<slug>. Built when the
// inputs it was last built from (image/records.ts) differ from today's, or the local image is not that one.
import type { Change, HostContext, Plan, Step } from '../../engine/types.ts';
import { contextHash } from '../../image/context.ts';
import { inspectImage } from '../../image/docker.ts';
import { readCachedSha512 } from '../../image/distribution-facts.ts';
import { DEFAULT_DROP_JARS } from '../../image/inputs.ts';
import { baseImageOf, buildPlatformImage, platformInputs } from '../../image/platform-build.ts';
import type { PlatformInfo } from '../../image/platforms.ts';
import { readBuilt, writeBuilt } from '../../image/records.ts';
import { change, ok, unmetThen } from '../common.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { attempt, builtKey, platformRef, say, type ImageJob } from './job.ts';

export type BuildFacts =
  | { upToDate: true }
  | {
      upToDate: false;
      /** What the build needs and an earlier step makes: the base image, the distribution. */
      lacking: string[];
      /** The inputs hash of today's build; undefined while something is lacking. */
      inputs: string | undefined;
      recorded: { inputs: string; imageId: string } | undefined;
      local: { imageId: string; contentKey: string; sizeBytes: number } | undefined;
    };

/** The local image is what today's inputs build: nothing to do (pure). */
export function buildIsCurrent(facts: BuildFacts | undefined): boolean {
  if (!facts || facts.upToDate) return facts !== undefined;
  return facts.inputs !== undefined && facts.recorded?.inputs === facts.inputs && facts.local?.imageId === facts.recorded.imageId;
}

export function platformBuildStep(job: ImageJob, p: PlatformInfo): Step<BuildFacts> {
  const { opts } = job;
  const ref = platformRef(job, p);
  const base = baseImageOf(opts, p);
  // The local JRE base must exist (an earlier step builds it); a given base (a registry's) docker build pulls.
  const baseIdentity = async (b: string): Promise<string | undefined> => (await inspectImage(b))?.id ?? (opts.baseImage ? b : undefined);
  return {
    name: `build ${p.platform}`,
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true };
      const baseId = await baseIdentity(base);
      const sha512 = opts.source?.sha512 ?? (await readCachedSha512(opts.version, job.cacheDir));
      const lacking = [...(baseId ? [] : [`base ${base}`]), ...(sha512 ? [] : [`Flink ${opts.version} distribution`])];
      const revision = opts.revision;
      const inputs =
        baseId && sha512
          ? platformInputs({ version: opts.version, platform: p.platform, baseId, sha512, context: await contextHash(opts.version, opts.stateDir), dropJars: opts.dropJars ?? DEFAULT_DROP_JARS, sha: job.sha, created: revision?.created ?? '' })
          : undefined;
      const img = await inspectImage(ref);
      return { upToDate: false, lacking, inputs, recorded: await readBuilt(job.cacheDir, ref), local: img ? { imageId: img.id, contentKey: img.contentKey, sizeBytes: img.sizeBytes } : undefined };
    },
    plan(facts): Plan {
      if (facts.upToDate) return ok(UP_TO_DATE);
      if (buildIsCurrent(facts)) return ok(`${ref} (${p.platform}) built from these inputs`);
      const build: Change = {
        summary: `build ${ref} for ${p.platform} on ${base}${facts.lacking.some((l) => l.startsWith('base ')) ? ' (base to be built first)' : ''}`,
        actions: [
          {
            kind: 'call',
            label: `docker build ${p.platform}`,
            fn: (ctx: HostContext) =>
              attempt(async () => {
                say(ctx, job, `docker build --platform ${p.platform} on ${base}`);
                // The inputs are read again: the earlier steps of this run may have made the base or the distribution.
                const baseId = (await baseIdentity(base)) ?? '';
                const sha512 = opts.source?.sha512 ?? (await readCachedSha512(opts.version, job.cacheDir)) ?? '';
                const b = await buildPlatformImage(opts, p, ref, job.sha, job.cacheDir);
                if (!b.ok) return b;
                const inputs = platformInputs({ version: opts.version, platform: p.platform, baseId, sha512, context: await contextHash(opts.version, opts.stateDir), dropJars: opts.dropJars ?? DEFAULT_DROP_JARS, sha: job.sha, created: opts.revision?.created ?? '' });
                await writeBuilt(job.cacheDir, ref, { inputs, imageId: b.image.id });
                const built = facts.local?.contentKey !== b.image.contentKey;
                ctx.record(builtKey(p), { imageId: b.image.id, contentKey: b.image.contentKey, sizeBytes: b.image.sizeBytes, built, buildSeconds: b.seconds });
                const line = built ? `built ${ref} (${p.platform}) in ${b.seconds} s` : facts.local?.imageId !== b.image.id ? `tagged ${ref} (${p.platform}): same layers, new labels` : `${ref} (${p.platform}) unchanged`;
                return { ok: true, output: line };
              }),
          },
        ],
      };
      if (facts.lacking.length > 0) return unmetThen(`${ref} needs ${facts.lacking.join(' and ')}, which an earlier step did not make`, build);
      return change(build);
    },
  };
}
