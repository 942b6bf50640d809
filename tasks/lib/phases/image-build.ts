// image-build: the seed's "Building custom Flink image", for every platform in the inventory, pushed as one
// multi-arch manifest list. A play of steps on this machine (tasks/lib/steps/image/): the gate compares the
// build's inputs (a fingerprint) and the registry with what was pushed last, and the later steps then have
// nothing to do, or build, smoke-test and push. The last step's output (BUILT_IMAGE) names the image the nodes
// pull and whether it is only planned (check mode), for stack-deploy.

import { BUILT_IMAGE } from '../deploy/image-ref.ts';
import type { Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import { buildImage, type ImageBuildOptions } from '../image/build.ts';
import { SUPPORTED_PLATFORMS } from '../image/platforms.ts';
import { LOCALHOST } from '../inventory/local-host.ts';
import type { Inventory } from '../inventory/types.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { PUBLISHED } from '../steps/image/published.ts';

export const IMAGE_RESULT_KEY = 'image.result';

export function imageOptions(inv: Inventory, args: Run['args']): ImageBuildOptions {
  const platforms = typeof args.platforms === 'string' ? args.platforms.split(',').map((p) => p.trim()).filter(Boolean) : inv.cluster.platforms;
  return {
    version: inv.cluster.flink.version,
    platforms,
    registry: inv.cluster.registry,
    stateDir: inv.cluster.flink.stateDir,
    repoDir: PROJECT_ROOT,
    smoke: args['no-smoke'] !== true,
  };
}

const mb = (b: number | undefined): string => (b === undefined ? '?' : `${Math.round(b / 1e6)} MB`);

export const phase: Phase = {
  name: 'image-build',
  description: 'Build the Flink image for every platform in the inventory, smoke-test it, push one multi-arch manifest list.',
  options: {
    platforms: { type: 'string', placeholder: 'P,P', description: 'build these platforms instead of fridge_platforms', check: { kind: 'list', choices: SUPPORTED_PLATFORMS } },
    'no-smoke': { type: 'boolean', description: 'skip the smoke tests (flink --version, jobmanager /overview)' },
  },
  async run(run) {
    const result = await buildImage(run, imageOptions(run.inventory, run.args));
    // Recorded by the last step only when this run published something (a real run that pushed).
    const sizes = run.output(PUBLISHED, LOCALHOST);
    if (sizes || result.status === 'failed') run.data[IMAGE_RESULT_KEY] = result;
    for (const p of sizes ?? []) run.outputs[`image ${p.platform}`] = `${mb(p.compressedBytes)} compressed, ${mb(p.uncompressedBytes)} on disk`;
    // The nodes pull by the commit's tag, through the address they reach the registry at.
    const built = run.output(BUILT_IMAGE, LOCALHOST);
    if (built && !built.planned) run.outputs.image = built.ref;
  },
};
