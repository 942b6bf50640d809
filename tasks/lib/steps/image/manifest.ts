// One manifest list per tag (the commit, the Flink version, latest) naming every platform's digest: what the
// nodes pull. A tag whose list already names the same digests is left alone.
import type { OutputSource } from '../../engine/outputs.ts';
import type { Change, HostContext, Step } from '../../engine/types.ts';
import { remoteManifest } from '../../image/docker.ts';
import { sameEntries, type ManifestEntry } from '../../image/options.ts';
import { pushManifestList } from '../../image/platform-build.ts';
import type { PlatformInfo } from '../../image/platforms.ts';
import { change, ok, unmetThen } from '../common.ts';
import { INPUTS, registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { ENTRIES, pushedKey, tagRefs, type ImageJob, type PushedImage, type WantedEntries } from './job.ts';

export type ManifestFacts = WantedEntries & {
  upToDate: boolean;
  /** Tags whose list is not `entries`. */
  differ: string[];
};

export function manifestListStep(job: ImageJob, pushes: Array<{ p: PlatformInfo; step: OutputSource<PushedImage | undefined> }>): Step<ManifestFacts, WantedEntries> {
  const insecure = job.opts.registry.insecure;
  const platforms = job.opts.platforms.join(', ');
  return {
    name: 'manifest list',
    key: ENTRIES,
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true, entries: ctx.output(INPUTS)?.published?.entries ?? [], missing: [], differ: [] };
      const entries: ManifestEntry[] = [];
      const missing: string[] = [];
      for (const { p, step } of pushes) {
        const pushed = ctx.output(pushedKey(p)) ?? ctx.output(step);
        if (pushed) entries.push({ digest: pushed.digest, platform: p.platform });
        else missing.push(p.platform);
      }
      const differ: string[] = [];
      for (const tag of job.tags) {
        const have = await remoteManifest(`${job.repo}:${tag}`, insecure);
        if (missing.length > 0 || have.kind !== 'list' || !sameEntries(have.entries, entries)) differ.push(tag);
      }
      return { upToDate: false, entries, missing, differ };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      if (facts.differ.length === 0) return ok(`${tagRefs(job).join(', ')} [${platforms}]`);
      const lists: Change = {
        summary: `push manifest list ${facts.differ.map((t) => `${job.repo}:${t}`).join(', ')} [${platforms}]`,
        actions: facts.differ.map((tag) => ({
          kind: 'call' as const,
          label: `docker manifest push ${job.repo}:${tag}`,
          fn: async (ctx: HostContext) => {
            ctx.progress?.(`manifest list ${job.repo}:${tag}`);
            const r = await pushManifestList(job.repo, `${job.repo}:${tag}`, facts.entries, insecure);
            return r.ok ? { ok: true as const, output: `pushed ${job.repo}:${tag} [${facts.entries.map((e) => e.platform).join(', ')}]` } : r;
          },
        })),
      };
      if (facts.missing.length > 0) return unmetThen(`no digest for ${facts.missing.join(', ')}: not pushed`, lists);
      return change(lists);
    },
    output: ({ entries, missing }) => ({ entries, missing }),
  };
}
