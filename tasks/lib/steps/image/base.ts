// The local JRE base of one platform (image/base.ts), rebuilt only when its recipe changes: the image carries
// the recipe's hash as a label. Only in a play that builds on the local bases (no baseImage given).
import type { Step } from '../../engine/types.ts';
import { buildJreBase, jreBaseLabel, jreBaseTag, jreRecipeHash } from '../../image/base.ts';
import type { PlatformInfo } from '../../image/platforms.ts';
import { change, ok } from '../common.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { say, type ImageJob } from './job.ts';

export type BaseFacts = { upToDate: true } | { upToDate: false; label: string | undefined };

export function jreBaseStep(job: ImageJob, p: PlatformInfo): Step<BaseFacts> {
  const tag = jreBaseTag(p);
  return {
    name: `jre base ${p.platform}`,
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true };
      return { upToDate: false, label: await jreBaseLabel(p) };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      if (facts.label === jreRecipeHash(p)) return ok(tag);
      return change({
        summary: `build base ${tag}`,
        actions: [
          {
            kind: 'call',
            label: `build ${tag}`,
            fn: async (ctx) => {
              say(ctx, job, `building ${tag} (debootstrap ${p.debArch}${p.debArch === 'amd64' ? '' : ' under QEMU'})`);
              const b = await buildJreBase(p);
              return b.ok ? { ok: true, output: `built base ${tag} in ${b.seconds} s` } : b;
            },
          },
        ],
      });
    },
  };
}
