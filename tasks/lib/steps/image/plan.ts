// The image build as steps, in the order they run on this machine: the gate (what the registry lacks), the
// registry login, the distribution, then per platform its base, build, smoke test and push, the manifest
// lists, and the record of what was published.
import type { AnyStep } from '../../engine/types.ts';
import { buildxStep } from './buildx.ts';
import { distributionStep } from './distribution.ts';
import { imageInputsStep } from './inputs.ts';
import { jreBaseStep } from './base.ts';
import { platformBuildStep } from './build.ts';
import type { ImageJob } from './job.ts';
import { imageRegistryLoginStep } from './login.ts';
import { manifestListStep } from './manifest.ts';
import { publishedStep } from './published.ts';
import { pushStep } from './push.ts';
import { smokeStep } from './smoke.ts';

export function imageSteps(job: ImageJob, how: { buildx: boolean; stateFile?: string }): AnyStep[] {
  const { opts } = job;
  const r = opts.registry;
  const steps: AnyStep[] = [imageInputsStep(job)];
  if (r.usernameEnv || r.passwordEnv) steps.push(imageRegistryLoginStep(job));
  if (!opts.source) steps.push(distributionStep(job));
  if (how.buildx) steps.push(buildxStep(job));
  else {
    const pushes = [];
    for (const p of job.platforms) {
      if (!opts.baseImage) steps.push(jreBaseStep(job, p));
      const build = platformBuildStep(job, p);
      const push = pushStep(job, p, build);
      steps.push(build, ...(opts.smoke === false ? [] : [smokeStep(job, p, build)]), push);
      pushes.push({ p, step: push });
    }
    steps.push(manifestListStep(job, pushes));
  }
  steps.push(publishedStep(job, how.stateFile));
  return steps;
}
