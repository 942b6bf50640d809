// image-build: the seed's "Building custom Flink image", for every platform in the inventory, pushed as one
// multi-arch manifest list. Facts are the build's inputs (a fingerprint) and what the registry holds; the
// plan is ok when the registry already has what these inputs were last built into, else one change that
// builds, smoke-tests and pushes (tasks/lib/image/build.ts).

import { createHash } from 'node:crypto';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import { BUILT_IMAGE, recordPublishedImage } from '../deploy/image-ref.ts';
import type { Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import type { Step } from '../engine/types.ts';
import { DEFAULT_CACHE_DIR, distributionPaths } from '../flink/distribution.ts';
import { jreBaseTag, jreRecipeHash } from '../image/base.ts';
import { buildImage, DEFAULT_DROP_JARS, imageRepo, imageTags, type ImageBuildOptions, type ImageBuildResult } from '../image/build.ts';
import { gitRevision } from '../image/inputs.ts';
import { contextHash } from '../image/context.ts';
import { inspectImage, remoteManifest } from '../image/docker.ts';
import { platformInfo, SUPPORTED_PLATFORMS } from '../image/platforms.ts';
import { LOCALHOST } from '../inventory/local-host.ts';
import type { Inventory } from '../inventory/types.ts';
import { PROJECT_ROOT } from '../paths.ts';

export const IMAGE_RESULT_KEY = 'image.result';

interface Published {
  fingerprint: string;
  tags: string[];
  entries: Array<{ digest: string; platform: string }>;
}

interface ImageFacts {
  fingerprint: string;
  repo: string;
  tags: string[];
  /** Tags whose manifest list in the registry is not what these inputs were last pushed as. */
  stale: string[];
  missingBases: string[];
  distribution: 'cached' | 'absent';
}

const publishedFile = (cacheDir: string): string => path.join(cacheDir, 'image-published.json');

export function imageOptions(inv: Inventory, args: Run['args'], check: boolean): ImageBuildOptions {
  const platforms = typeof args.platforms === 'string' ? args.platforms.split(',').map((p) => p.trim()).filter(Boolean) : inv.cluster.platforms;
  return {
    version: inv.cluster.flink.version,
    platforms,
    registry: inv.cluster.registry,
    stateDir: inv.cluster.flink.stateDir,
    check,
    repoDir: PROJECT_ROOT,
    smoke: args['no-smoke'] !== true,
  };
}

/** Every input that decides the image's content and tags; reading only. */
async function fingerprint(opts: ImageBuildOptions, sha: string, cacheDir: string): Promise<{ value: string; missingBases: string[]; distribution: ImageFacts['distribution'] }> {
  const h = createHash('sha256');
  const dist = distributionPaths(opts.version, cacheDir);
  const sum = await readFile(dist.sumFile, 'utf8').catch(() => 'absent');
  const missingBases: string[] = [];
  h.update(JSON.stringify({ v: opts.version, p: opts.platforms, r: imageRepo(opts.registry), sha, drop: opts.dropJars ?? DEFAULT_DROP_JARS, sum }));
  h.update(await contextHash(opts.version, opts.stateDir));
  for (const p of opts.platforms) {
    const info = platformInfo(p);
    if (!info) continue;
    const base = await inspectImage(jreBaseTag(info));
    if (!base) missingBases.push(jreBaseTag(info));
    h.update(`${jreRecipeHash(info)}:${base?.id ?? 'absent'}`);
  }
  return { value: h.digest('hex').slice(0, 24), missingBases, distribution: sum === 'absent' ? 'absent' : 'cached' };
}

function imageStep(run: Run, opts: ImageBuildOptions, cacheDir: string): Step<ImageFacts> {
  return {
    name: 'flink image',
    async gather() {
      const { sha, tags } = await imageTags(opts);
      const repo = imageRepo(opts.registry);
      const fp = await fingerprint(opts, sha, cacheDir);
      let published: Published | undefined;
      try {
        published = JSON.parse(await readFile(publishedFile(cacheDir), 'utf8')) as Published;
      } catch {
        published = undefined;
      }
      const stale: string[] = [];
      for (const tag of tags) {
        const have = await remoteManifest(`${repo}:${tag}`, opts.registry.insecure);
        const same = published?.fingerprint === fp.value && have.kind === 'list' && JSON.stringify(sortEntries(have.entries)) === JSON.stringify(sortEntries(published.entries));
        if (!same) stale.push(tag);
      }
      return { fingerprint: fp.value, repo, tags, stale, missingBases: fp.missingBases, distribution: fp.distribution };
    },
    plan(facts) {
      for (const p of opts.platforms) if (!platformInfo(p)) return { kind: 'fail', msg: `platform ${p} is not supported (linux/amd64, linux/arm64, linux/arm/v7)` };
      if (facts.stale.length === 0) return { kind: 'ok', msg: `${facts.repo}:${opts.version} up to date [${opts.platforms.join(', ')}]` };
      const summaries = [
        ...(facts.distribution === 'absent' ? [`assemble Flink ${opts.version} from PyPI`] : []),
        ...facts.missingBases.map((b) => `build base ${b}`),
        `build ${opts.platforms.join(', ')} and smoke-test each`,
        `push ${facts.stale.map((t) => `${facts.repo}:${t}`).join(', ')}`,
      ];
      return {
        kind: 'change',
        changes: [
          {
            summary: summaries.join('; '),
            actions: [
              {
                kind: 'call',
                label: 'build, smoke-test and push',
                fn: async () => {
                  const result = await buildImage({ ...opts, cacheDir, log: (line) => run.message('info', line, LOCALHOST.name) });
                  // Recorded from the inputs as they are now: the build may have made a base or the distribution.
                  const { sha } = await imageTags(opts);
                  await publish(run, opts, result, (await fingerprint(opts, sha, cacheDir)).value, cacheDir);
                  return result.status === 'failed' ? { ok: false, msg: result.msg } : { ok: true, output: `${result.msg}\n${result.actions.join('\n')}` };
                },
              },
            ],
          },
        ],
      };
    },
  };
}

function sortEntries(e: Array<{ digest: string; platform: string }>): Array<{ digest: string; platform: string }> {
  return [...e].map((x) => ({ digest: x.digest, platform: x.platform === 'linux/arm64/v8' ? 'linux/arm64' : x.platform })).sort((a, b) => a.platform.localeCompare(b.platform));
}

async function publish(run: Run, opts: ImageBuildOptions, result: ImageBuildResult, fp: string, cacheDir: string): Promise<void> {
  run.data[IMAGE_RESULT_KEY] = result;
  if (result.status === 'failed') return;
  const entries = result.platforms.flatMap((p) => (p.digest ? [{ digest: p.digest, platform: p.platform }] : []));
  const { tags } = await imageTags(opts);
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(publishedFile(cacheDir), `${JSON.stringify({ fingerprint: fp, tags, entries } satisfies Published, null, 2)}\n`);
  for (const p of result.platforms) {
    const mb = (b: number | undefined): string => (b === undefined ? '?' : `${Math.round(b / 1e6)} MB`);
    run.outputs[`image ${p.platform}`] = `${mb(p.compressedBytes)} compressed, ${mb(p.uncompressedBytes)} on disk`;
  }
}

export const phase: Phase = {
  name: 'image-build',
  description: 'Build the Flink image for every platform in the inventory, smoke-test it, push one multi-arch manifest list.',
  options: {
    platforms: { type: 'string', placeholder: 'P,P', description: 'build these platforms instead of fridge_platforms', check: { kind: 'list', choices: SUPPORTED_PLATFORMS } },
    'no-smoke': { type: 'boolean', description: 'skip the smoke tests (flink --version, jobmanager /overview)' },
  },
  async run(run) {
    const base = imageOptions(run.inventory, run.args, run.check);
    const opts: ImageBuildOptions = { ...base, revision: await gitRevision(base.repoDir ?? process.cwd()) };
    const [outcome] = await run.play({ name: 'image-build', hosts: [LOCALHOST], steps: [imageStep(run, opts, DEFAULT_CACHE_DIR) as Step<unknown>] });
    const status = outcome?.results[0]?.status;
    if (status !== 'ok' && status !== 'changed') return;
    // The nodes pull by the commit's tag, through the address they reach the registry at.
    const { sha } = await imageTags(opts);
    const ref = `${opts.registry.pullHost ?? opts.registry.host}/${opts.registry.repository}:${sha}`;
    // Check mode: stack-deploy plans with the image a real run would push, and knows it is not pushed yet.
    run.record(BUILT_IMAGE, LOCALHOST, { ref, planned: run.check && status === 'changed' });
    if (run.check) return;
    run.outputs.image = ref;
    recordPublishedImage({ ref, builtAt: new Date().toISOString() });
  },
};
