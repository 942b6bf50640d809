// The buildx path (GitHub's runners; this machine's Debian docker has no buildx): one BuildKit build for every
// platform pushed under the commit and the version, each platform smoke-tested from the registry, then
// `latest` moved. One step: buildx builds and pushes in a single command, nothing to split before the push.
import type { Step } from '../../engine/types.ts';
import { docker, remoteManifest, tail } from '../../image/docker.ts';
import { buildxPush } from '../../image/platform-build.ts';
import { smokeTest } from '../../image/smoke.ts';
import { change, ok } from '../common.ts';
import { registryUpToDate, UP_TO_DATE } from './inputs.ts';
import { attempt, ENTRIES, say, smokedKey, tagRefs, type ImageJob } from './job.ts';

export function buildxStep(job: ImageJob): Step<{ upToDate: boolean }> {
  const { opts, repo, sha } = job;
  return {
    name: `buildx build`,
    async gather(ctx) {
      return { upToDate: registryUpToDate(ctx) };
    },
    plan(facts) {
      if (facts.upToDate) return ok(UP_TO_DATE);
      return change({
        summary: `buildx build ${opts.platforms.join(', ')}${opts.smoke === false ? '' : ', smoke-test each'} and push ${tagRefs(job).join(', ')}`,
        actions: [
          {
            kind: 'call',
            label: 'buildx build and push',
            fn: (ctx) =>
              attempt(async () => {
                say(ctx, job, `buildx build ${opts.platforms.join(',')}`);
                const bx = await buildxPush(opts, job.platforms, repo, sha, job.cacheDir);
                if (!bx.ok) return bx;
                // Untested here (no buildx on this machine): smoke each platform from the registry, then move latest.
                for (const p of opts.smoke === false ? [] : job.platforms) {
                  say(ctx, job, `smoke test ${p.platform}`);
                  const s = await smokeTest(`${repo}:${sha}`, p.platform, opts.version, `fridge-image-smoke-${p.slug}-${process.pid}`);
                  if (!s.ok) return s;
                  ctx.record(smokedKey(p), { version: s.version, overviewSeconds: s.overviewSeconds, cached: false });
                }
                const latest = await docker(['buildx', 'imagetools', 'create', '-t', `${repo}:latest`, `${repo}:${sha}`]);
                if (!latest.ok) return { ok: false, msg: `moving ${repo}:latest failed: ${tail(latest.stderr)}` };
                const list = await remoteManifest(`${repo}:${sha}`, opts.registry.insecure);
                ctx.record(ENTRIES, { entries: list.kind === 'list' ? list.entries : [], missing: [] });
                return { ok: true, output: `buildx built and pushed ${repo}:${sha}, :${opts.version} and :latest` };
              }),
          },
        ],
      });
    },
  };
}
