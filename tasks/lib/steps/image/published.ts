// The last step: the registry lists what this run made under every tag, and that is recorded for the next
// run (image-published.json: the inputs' fingerprint and the digests) and for stack-deploy (.fridge/image.json,
// BUILT_IMAGE). Its output says which image the nodes pull and whether it is only planned: in check mode the
// earlier steps pushed nothing, so the registry does not list it yet.
import fs from 'node:fs/promises';
import { BUILT_IMAGE, IMAGE_STATE_FILE, recordPublishedImage, type BuiltImage } from '../../deploy/image-ref.ts';
import { outputKey } from '../../engine/outputs.ts';
import type { Change, Step } from '../../engine/types.ts';
import { inspectImage, remoteManifest } from '../../image/docker.ts';
import { sameEntries, type ManifestEntry } from '../../image/options.ts';
import { readPublished, writePublished, type Published } from '../../image/records.ts';
import { change, ok, unmetThen } from '../common.ts';
import { INPUTS, inputsFingerprint, registryUpToDate } from './inputs.ts';
import { ENTRIES, platformRef, type ImageJob } from './job.ts';

export interface PublishedSizes {
  platform: string;
  compressedBytes?: number;
  uncompressedBytes?: number;
}
/** Recorded when this run published (a real run that changed something): the sizes for the recap. */
export const PUBLISHED = outputKey<PublishedSizes[]>('image.published');

export interface PublishedFacts {
  /** The reference the nodes pull (the commit's tag, at the address they reach the registry by). */
  ref: string;
  /** The registry does not list what this run makes yet (check mode: the pushes were only planned). */
  planned: boolean;
  record: Published;
  recorded: Published | undefined;
  /** The reference .fridge/image.json names now. */
  stateRef: string | undefined;
  sizes: PublishedSizes[];
}

async function stateRef(file: string): Promise<string | undefined> {
  try {
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as { ref?: unknown };
    return typeof data.ref === 'string' ? data.ref : undefined;
  } catch {
    return undefined;
  }
}

export function publishedStep(job: ImageJob, stateFile = IMAGE_STATE_FILE): Step<PublishedFacts, BuiltImage> {
  const r = job.opts.registry;
  const ref = `${r.pullHost ?? r.host}/${r.repository}:${job.sha}`;
  return {
    name: 'published image',
    key: BUILT_IMAGE,
    async gather(ctx) {
      const gate = ctx.output(INPUTS);
      const upToDate = registryUpToDate(ctx);
      const wanted = upToDate ? { entries: gate?.published?.entries ?? [], missing: [] } : ctx.output(ENTRIES);
      const entries: ManifestEntry[] = wanted?.entries ?? [];
      let listed = upToDate;
      if (!upToDate && wanted && wanted.missing.length === 0 && entries.length > 0) {
        listed = true;
        for (const tag of job.tags) {
          const have = await remoteManifest(`${job.repo}:${tag}`, r.insecure);
          if (have.kind !== 'list' || !sameEntries(have.entries, entries)) listed = false;
        }
      }
      const sizes: PublishedSizes[] = [];
      if (listed && !upToDate) {
        for (const p of job.platforms) {
          const digest = entries.find((e) => e.platform === p.platform)?.digest;
          const m = digest ? await remoteManifest(`${job.repo}@${digest}`, r.insecure) : undefined;
          const local = await inspectImage(platformRef(job, p));
          sizes.push({ platform: p.platform, ...(m?.kind === 'image' ? { compressedBytes: m.compressedBytes } : {}), ...(local ? { uncompressedBytes: local.sizeBytes } : {}) });
        }
      }
      // Recorded from the inputs as they are now: this run may have made a base or the distribution.
      const fingerprint = upToDate && gate ? gate.fingerprint : await inputsFingerprint(job);
      return { ref, planned: !listed, record: { fingerprint, tags: job.tags, entries }, recorded: await readPublished(job.cacheDir), stateRef: await stateRef(stateFile), sizes };
    },
    plan(facts) {
      const same = facts.recorded !== undefined && facts.recorded.fingerprint === facts.record.fingerprint && sameEntries(facts.recorded.entries, facts.record.entries) && facts.stateRef === facts.ref;
      if (!facts.planned && same) return ok(facts.ref);
      const record: Change = {
        summary: `record ${facts.ref} as published`,
        actions: [
          {
            kind: 'call',
            label: 'record the published image',
            fn: async (ctx) => {
              await writePublished(job.cacheDir, facts.record);
              recordPublishedImage({ ref: facts.ref, builtAt: new Date().toISOString() }, stateFile);
              if (facts.sizes.length > 0) ctx.record(PUBLISHED, facts.sizes);
              return { ok: true };
            },
          },
        ],
      };
      if (facts.planned) return unmetThen(`${job.repo} does not list the pushed image under ${job.tags.join(', ')}`, record);
      return change(record);
    },
    output: (facts) => ({ ref: facts.ref, planned: facts.planned }),
  };
}
