// The smoke test of one platform's image before it is pushed: `flink --version` and a jobmanager answering
// /overview (image/smoke.ts). A layer chain that passed once is not tested again (image/records.ts).
import type { Change, Step } from '../../engine/types.ts';
import { inspectImage } from '../../image/docker.ts';
import type { PlatformInfo } from '../../image/platforms.ts';
import { addSmokePassed, smokePassed } from '../../image/records.ts';
import { smokeTest } from '../../image/smoke.ts';
import { change, ok, unmetThen } from '../common.ts';
import { buildIsCurrent, type BuildFacts } from './build.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { builtKey, platformRef, say, smokedKey, type ImageJob, type SmokeOutcome } from './job.ts';
import type { OutputSource } from '../../engine/outputs.ts';

export type SmokeFacts = { upToDate: true } | { upToDate: false; contentKey: string | undefined; passed: boolean };

/** Only in a play that smoke-tests (no --no-smoke). `build`: this platform's build step. */
export function smokeStep(job: ImageJob, p: PlatformInfo, build: OutputSource<BuildFacts>): Step<SmokeFacts, SmokeOutcome | undefined> {
  const ref = platformRef(job, p);
  const { version } = job.opts;
  return {
    name: `smoke test ${p.platform}`,
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true };
      // The image to test is the one this run built, or the local one when the build found it current;
      // else (check mode) the build was only planned.
      const made = ctx.output(builtKey(p));
      const contentKey = made?.contentKey ?? (buildIsCurrent(ctx.output(build)) ? (await inspectImage(ref))?.contentKey : undefined);
      return { upToDate: false, contentKey, passed: contentKey !== undefined && (await smokePassed(job.cacheDir, contentKey)) };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      if (facts.passed) return ok(`${p.platform}: passed before (same layers)`);
      const test: Change = {
        summary: `smoke-test ${p.platform} (flink --version, jobmanager /overview)`,
        actions: [
          {
            kind: 'call',
            label: `smoke test ${p.platform}`,
            fn: async (ctx) => {
              say(ctx, job, `smoke test ${p.platform}`);
              const s = await smokeTest(ref, p.platform, version, `fridge-image-smoke-${p.slug}-${process.pid}`);
              if (!s.ok) return s;
              const contentKey = (await inspectImage(ref))?.contentKey;
              if (contentKey) await addSmokePassed(job.cacheDir, contentKey);
              ctx.record(smokedKey(p), { version: s.version, overviewSeconds: s.overviewSeconds, cached: false });
              return { ok: true, output: `smoke-tested ${p.platform}: flink ${s.version}, /overview after ${s.overviewSeconds} s` };
            },
          },
        ],
      };
      if (facts.contentKey === undefined) return unmetThen(`${ref} was not built`, test);
      return change(test);
    },
    output: (facts) => (!facts.upToDate && facts.passed ? { version, overviewSeconds: 0, cached: true } : undefined),
  };
}
