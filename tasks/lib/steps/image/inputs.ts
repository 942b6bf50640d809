// The gate of the image build: every input that decides the image's content and tags (a fingerprint), what
// they were last pushed as, and whether the registry still lists exactly that under every tag. Up to date:
// the later steps have nothing to do, whatever this machine's local images and caches hold.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { outputKey } from '../../engine/outputs.ts';
import type { HostContext, Step } from '../../engine/types.ts';
import { distributionPaths } from '../../flink/distribution.ts';
import { jreBaseTag, jreRecipeHash } from '../../image/base.ts';
import { contextHash } from '../../image/context.ts';
import { inspectImage, remoteManifest } from '../../image/docker.ts';
import { DEFAULT_DROP_JARS } from '../../image/inputs.ts';
import { sameEntries } from '../../image/options.ts';
import { platformInfo, SUPPORTED_PLATFORMS } from '../../image/platforms.ts';
import { readPublished, type Published } from '../../image/records.ts';
import { fail, ok } from '../common.ts';
import type { ImageJob } from './job.ts';

export interface ImageInputs {
  fingerprint: string;
  /** Tags whose manifest list in the registry is not what these inputs were last pushed as. */
  stale: string[];
  published: Published | undefined;
}

/** The fingerprint of the inputs as they are now (read-only). */
export async function inputsFingerprint(job: ImageJob): Promise<string> {
  const { opts } = job;
  const h = createHash('sha256');
  const sum = await readFile(distributionPaths(opts.version, job.cacheDir).sumFile, 'utf8').catch(() => 'absent');
  h.update(JSON.stringify({ v: opts.version, p: opts.platforms, r: job.repo, sha: job.sha, drop: opts.dropJars ?? DEFAULT_DROP_JARS, sum }));
  h.update(await contextHash(opts.version, opts.stateDir));
  for (const p of job.platforms) {
    const base = await inspectImage(jreBaseTag(p));
    h.update(`${jreRecipeHash(p)}:${base?.id ?? 'absent'}`);
  }
  return h.digest('hex').slice(0, 24);
}

export const INPUTS = outputKey<ImageInputs>('image.inputs');

/** The gate found the registry up to date: a later step has nothing to do (read when gathering). */
export function registryUpToDate(ctx: HostContext): boolean {
  const facts = ctx.output(INPUTS);
  return facts !== undefined && facts.stale.length === 0;
}

export const UP_TO_DATE = 'the registry is up to date';

export function imageInputsStep(job: ImageJob): Step<ImageInputs> {
  return {
    name: 'flink image',
    key: INPUTS,
    async gather() {
      const fingerprint = await inputsFingerprint(job);
      const published = await readPublished(job.cacheDir);
      const stale: string[] = [];
      for (const tag of job.tags) {
        const have = await remoteManifest(`${job.repo}:${tag}`, job.opts.registry.insecure);
        const same = published?.fingerprint === fingerprint && have.kind === 'list' && sameEntries(have.entries, published.entries);
        if (!same) stale.push(tag);
      }
      return { fingerprint, stale, published };
    },
    plan(facts) {
      const { opts } = job;
      for (const p of opts.platforms) if (!platformInfo(p)) return fail(`platform ${p} is not supported (${SUPPORTED_PLATFORMS.filter((s) => s !== 'linux/arm64/v8').join(', ')})`);
      if (facts.stale.length === 0) return ok(`${job.repo}:${opts.version} up to date [${opts.platforms.join(', ')}]`);
      return ok(`to build and push: ${facts.stale.map((t) => `${job.repo}:${t}`).join(', ')} [${opts.platforms.join(', ')}]`);
    },
  };
}
