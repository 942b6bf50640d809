// The Flink distribution the build fetches, assembled here from PyPI once and cached with its SHA-512
// (flink/distribution.ts). Only in a play without a given source (Apache's release in the workflow).
import type { Step } from '../../engine/types.ts';
import { distributionPaths, ensureFlinkDistribution } from '../../flink/distribution.ts';
import { readCachedSha512 } from '../../image/distribution-facts.ts';
import { change, ok } from '../common.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { attempt, type ImageJob } from './job.ts';

export type DistributionFacts = { upToDate: true } | { upToDate: false; sha512: string | undefined };

export function distributionStep(job: ImageJob): Step<DistributionFacts> {
  const { version } = job.opts;
  return {
    name: 'flink distribution',
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true };
      return { upToDate: false, sha512: await readCachedSha512(version, job.cacheDir) };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      const { tarball } = distributionPaths(version, job.cacheDir);
      if (facts.sha512) return ok(`Flink ${version} distribution ${tarball}`);
      return change({
        summary: `assemble Flink ${version} from PyPI`,
        actions: [
          {
            kind: 'call',
            label: `assemble Flink ${version}`,
            fn: async (ctx) => {
              ctx.progress?.(`assembling Flink ${version} from PyPI`);
              return attempt(async () => {
                const d = await ensureFlinkDistribution(version, job.cacheDir);
                return { ok: true, output: `${d.tarball} (sha512 ${d.sha512.slice(0, 16)}…)` };
              });
            },
          },
        ],
      });
    },
  };
}
