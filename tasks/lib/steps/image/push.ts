// One platform's image pushed to the registry by its tag; the digest the registry stored is what the
// manifest lists name. Nothing to push when the registry already holds this local image's digest.
import type { OutputSource } from '../../engine/outputs.ts';
import type { Change, Step } from '../../engine/types.ts';
import { inspectImage, push, remoteManifest } from '../../image/docker.ts';
import type { PlatformInfo } from '../../image/platforms.ts';
import { change, ok, unmetThen } from '../common.ts';
import { buildIsCurrent, type BuildFacts } from './build.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { builtKey, inRegistryKey, platformRef, pushedKey, type ImageJob, type PushedImage } from './job.ts';

export type PushFacts =
  | { upToDate: true }
  | { upToDate: false; built: boolean; inRegistry: PushedImage | undefined };

export function pushStep(job: ImageJob, p: PlatformInfo, build: OutputSource<BuildFacts>): Step<PushFacts, PushedImage | undefined> {
  const ref = platformRef(job, p);
  const insecure = job.opts.registry.insecure;
  return {
    name: `push ${p.platform}`,
    key: inRegistryKey(p),
    async gather(ctx) {
      if (registryUpToDate(ctx)) return { upToDate: true };
      const built = ctx.output(builtKey(p)) !== undefined || buildIsCurrent(ctx.output(build));
      const local = built ? await inspectImage(ref) : undefined;
      // A digest docker recorded for this repository when it last pushed this very image.
      const digest = local?.repoDigests.find((d) => d.startsWith(`${job.repo}@`))?.slice(job.repo.length + 1);
      const there = digest ? await remoteManifest(`${job.repo}@${digest}`, insecure) : undefined;
      return { upToDate: false, built, inRegistry: digest && there?.kind === 'image' ? { digest, compressedBytes: there.compressedBytes } : undefined };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      if (facts.inRegistry) return ok(`${job.repo}@${facts.inRegistry.digest} (${p.platform})`);
      const pushIt: Change = {
        summary: `push ${ref}`,
        actions: [
          {
            kind: 'call',
            label: `docker push ${ref}`,
            fn: async (ctx) => {
              ctx.progress?.(`docker push ${ref}`);
              const pushed = await push(ref);
              if (!pushed.ok) return pushed;
              const m = await remoteManifest(`${job.repo}@${pushed.digest}`, insecure);
              ctx.record(pushedKey(p), { digest: pushed.digest, ...(m.kind === 'image' ? { compressedBytes: m.compressedBytes } : {}) });
              return { ok: true, output: pushed.digest };
            },
          },
        ],
      };
      if (!facts.built) return unmetThen(`${ref} was not built`, pushIt);
      return change(pushIt);
    },
    output: (facts) => (facts.upToDate ? undefined : facts.inRegistry),
  };
}
