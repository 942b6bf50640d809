// The image build's steps (tasks/lib/steps/image/): facts in → plan out, through the refusing fixture, for
// a build that is needed, one that is done (the re-run that changes nothing) and check mode's unmet needs.
import { describe, expect, it } from 'vitest';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import type { Plan, Step } from '../../tasks/lib/engine/types.ts';
import { jreRecipeHash } from '../../tasks/lib/image/base.ts';
import { platformInfo, type PlatformInfo } from '../../tasks/lib/image/platforms.ts';
import { jreBaseStep } from '../../tasks/lib/steps/image/base.ts';
import { platformBuildStep, buildIsCurrent, type BuildFacts } from '../../tasks/lib/steps/image/build.ts';
import { buildxStep } from '../../tasks/lib/steps/image/buildx.ts';
import { distributionStep } from '../../tasks/lib/steps/image/distribution.ts';
import { imageInputsStep, INPUTS, UP_TO_DATE } from '../../tasks/lib/steps/image/inputs.ts';
import type { ImageJob } from '../../tasks/lib/steps/image/job.ts';
import { imageRegistryLoginStep } from '../../tasks/lib/steps/image/login.ts';
import { manifestListStep } from '../../tasks/lib/steps/image/manifest.ts';
import { imageSteps } from '../../tasks/lib/steps/image/plan.ts';
import { publishedStep, type PublishedFacts } from '../../tasks/lib/steps/image/published.ts';
import { pushStep } from '../../tasks/lib/steps/image/push.ts';
import { smokeStep } from '../../tasks/lib/steps/image/smoke.ts';
import { commands, ctxFor } from './steps-fixture.ts';

const AMD64 = platformInfo('linux/amd64') as PlatformInfo;
const ARM = platformInfo('linux/arm/v7') as PlatformInfo;
const REPO = '127.0.0.1:5000/fridge/flink';

function job(over: Partial<ImageJob['opts']> = {}): ImageJob {
  const opts = { version: '2.3.0', platforms: ['linux/amd64', 'linux/arm/v7'], registry: { host: '127.0.0.1:5000', pullHost: '10.77.0.1:5000', repository: 'fridge/flink', insecure: true, usernameEnv: undefined, passwordEnv: undefined }, stateDir: '/srv/flink', revision: { sha: 'abc1234', created: '' }, ...over };
  return { opts, cacheDir: '/nonexistent/cache', repo: REPO, sha: 'abc1234', tags: ['abc1234', '2.3.0', 'latest'], platforms: [AMD64, ARM], log: () => undefined };
}
const ctx = (o: { check?: boolean; outputs?: Outputs } = {}) => ctxFor('pi1', o);
const summaries = (p: Plan): string[] => (p.kind === 'change' ? p.changes.map((c) => c.summary) : p.kind === 'unmet' && 'changes' in p.inCheck ? p.inCheck.changes.map((c) => c.summary) : []);

describe('flink image: the gate', () => {
  const step = imageInputsStep(job());
  it('is ok when every tag lists what these inputs were pushed as', () => {
    expect(step.plan({ fingerprint: 'f', stale: [], published: undefined }, ctx())).toEqual({ kind: 'ok', msg: `${REPO}:2.3.0 up to date [linux/amd64, linux/arm/v7]` });
  });
  it('only reads: the later steps build and push what is stale', () => {
    expect(step.plan({ fingerprint: 'f', stale: ['latest'], published: undefined }, ctx())).toEqual({ kind: 'ok', msg: `to build and push: ${REPO}:latest [linux/amd64, linux/arm/v7]` });
  });
  it('refuses a platform it cannot build', () => {
    const s = imageInputsStep(job({ platforms: ['linux/s390x'] }));
    expect(s.plan({ fingerprint: 'f', stale: [], published: undefined }, ctx())).toEqual({ kind: 'fail', msg: 'platform linux/s390x is not supported (linux/amd64, linux/arm64, linux/arm/v7)' });
  });
});

describe('every later step has nothing to do when the gate found the registry up to date', () => {
  const outputs = new Outputs();
  outputs.set(INPUTS, 'pi1', { fingerprint: 'f', stale: [], published: { fingerprint: 'f', tags: [], entries: [] } });
  const j = job();
  const build = platformBuildStep(j, AMD64);
  const push = pushStep(j, AMD64, build);
  // Their gather returns before touching docker or the cache (which do not exist here).
  const planned = async <F, O>(step: Step<F, O>): Promise<Plan> => {
    const c = ctx({ outputs });
    return step.plan(await step.gather(c), c);
  };
  it('each of them', async () => {
    for (const p of [await planned(distributionStep(j)), await planned(jreBaseStep(j, AMD64)), await planned(build), await planned(smokeStep(j, AMD64, build)), await planned(push), await planned(buildxStep(j))]) {
      expect(p).toEqual({ kind: 'ok', msg: UP_TO_DATE });
    }
  });
});

describe('registry login', () => {
  const step = imageRegistryLoginStep(job({ registry: { host: 'docker.io', repository: 'fridge/flink', insecure: false, usernameEnv: 'DH_USER', passwordEnv: 'DH_TOKEN' } }));
  it('names the missing variables, never a value', () => {
    expect(step.plan({ upToDate: false, missing: ['DH_TOKEN'], due: { login: false } }, ctx())).toEqual({ kind: 'fail', msg: 'registry docker.io needs credentials: set DH_TOKEN in the environment' });
  });
  it('logs in when the credentials changed, and only then', () => {
    const p = step.plan({ upToDate: false, missing: [], due: { login: true, why: 'credentials changed since the last login', mark: 'm' } }, ctx());
    expect(summaries(p)).toEqual(['docker login docker.io as $DH_USER (credentials changed since the last login)']);
    expect(commands(p)).toEqual(['call docker login docker.io']);
    expect(step.plan({ upToDate: false, missing: [], due: { login: false } }, ctx()).kind).toBe('ok');
  });
});

describe('flink distribution and the JRE base', () => {
  it('assembles the distribution when it is not cached', () => {
    const s = distributionStep(job());
    expect(summaries(s.plan({ upToDate: false, sha512: undefined }, ctx()))).toEqual(['assemble Flink 2.3.0 from PyPI']);
    expect(s.plan({ upToDate: false, sha512: 'ab'.repeat(64) }, ctx()).kind).toBe('ok');
  });
  it('builds the base when its recipe changed', () => {
    const s = jreBaseStep(job(), ARM);
    expect(summaries(s.plan({ upToDate: false, label: 'old' }, ctx()))).toEqual(['build base fridge/jre:17-bookworm-arm-v7']);
    expect(s.plan({ upToDate: false, label: jreRecipeHash(ARM) }, ctx())).toEqual({ kind: 'ok', msg: 'fridge/jre:17-bookworm-arm-v7' });
  });
});

describe('per-platform build, smoke test, push', () => {
  const j = job();
  const build = platformBuildStep(j, AMD64);
  const current: BuildFacts = { upToDate: false, lacking: [], inputs: 'i', recorded: { inputs: 'i', imageId: 'sha256:1' }, local: { imageId: 'sha256:1', contentKey: 'k', sizeBytes: 1 } };
  it('is ok when the local image was built from these inputs', () => {
    expect(buildIsCurrent(current)).toBe(true);
    expect(build.plan(current, ctx())).toEqual({ kind: 'ok', msg: `${REPO}:abc1234-amd64 (linux/amd64) built from these inputs` });
  });
  it('builds when an input changed', () => {
    const p = build.plan({ ...current, inputs: 'j' }, ctx());
    expect(summaries(p)).toEqual([`build ${REPO}:abc1234-amd64 for linux/amd64 on fridge/jre:17-bookworm-amd64`]);
    expect(commands(p)).toEqual(['call docker build linux/amd64']);
  });
  it('needs the base an earlier step builds: a real run fails, check mode shows the build', () => {
    const p = build.plan({ ...current, lacking: ['base fridge/jre:17-bookworm-amd64'], inputs: undefined }, ctx({ check: true }));
    expect(p.kind).toBe('unmet');
    expect(summaries(p)).toEqual([`build ${REPO}:abc1234-amd64 for linux/amd64 on fridge/jre:17-bookworm-amd64 (base to be built first)`]);
  });
  it('smoke-tests a new layer chain once; an image not built yet is unmet', () => {
    const s = smokeStep(j, AMD64, build);
    expect(summaries(s.plan({ upToDate: false, contentKey: 'k', passed: false }, ctx()))).toEqual(['smoke-test linux/amd64 (flink --version, jobmanager /overview)']);
    expect(s.plan({ upToDate: false, contentKey: 'k', passed: true }, ctx()).kind).toBe('ok');
    expect(s.plan({ upToDate: false, contentKey: undefined, passed: false }, ctx()).kind).toBe('unmet');
  });
  it('pushes unless the registry holds the local image digest', () => {
    const s = pushStep(j, AMD64, build);
    expect(summaries(s.plan({ upToDate: false, built: true, inRegistry: undefined }, ctx()))).toEqual([`push ${REPO}:abc1234-amd64`]);
    expect(s.plan({ upToDate: false, built: true, inRegistry: { digest: 'sha256:d' } }, ctx()).kind).toBe('ok');
    expect(s.plan({ upToDate: false, built: false, inRegistry: undefined }, ctx()).kind).toBe('unmet');
  });
});

describe('manifest lists and the published record', () => {
  const j = job();
  const entries = [{ digest: 'sha256:a', platform: 'linux/amd64' }, { digest: 'sha256:b', platform: 'linux/arm/v7' }];
  it('pushes one list per tag that differs', () => {
    const s = manifestListStep(j, []);
    const p = s.plan({ upToDate: false, entries, missing: [], differ: ['2.3.0', 'latest'] }, ctx());
    expect(summaries(p)).toEqual([`push manifest list ${REPO}:2.3.0, ${REPO}:latest [linux/amd64, linux/arm/v7]`]);
    expect(commands(p)).toEqual([`call docker manifest push ${REPO}:2.3.0`, `call docker manifest push ${REPO}:latest`]);
    expect(s.plan({ upToDate: false, entries, missing: [], differ: [] }, ctx()).kind).toBe('ok');
    expect(s.plan({ upToDate: false, entries: [], missing: ['linux/amd64'], differ: ['latest'] }, ctx()).kind).toBe('unmet');
  });
  const facts: PublishedFacts = { ref: '10.77.0.1:5000/fridge/flink:abc1234', planned: false, record: { fingerprint: 'f', tags: j.tags, entries }, recorded: { fingerprint: 'f', tags: j.tags, entries }, stateRef: '10.77.0.1:5000/fridge/flink:abc1234', sizes: [] };
  const s = publishedStep(j, '/nonexistent/image.json');
  it('is ok when what the registry lists is on record; records what changed', () => {
    expect(s.plan(facts, ctx())).toEqual({ kind: 'ok', msg: facts.ref });
    expect(summaries(s.plan({ ...facts, record: { ...facts.record, fingerprint: 'g' } }, ctx()))).toEqual([`record ${facts.ref} as published`]);
  });
  it('says what stack-deploy pulls and whether it is only planned (check mode pushed nothing)', () => {
    expect(s.plan({ ...facts, planned: true }, ctx({ check: true })).kind).toBe('unmet');
    expect(s.output?.({ ...facts, planned: true })).toEqual({ ref: facts.ref, planned: true });
    expect(s.output?.(facts)).toEqual({ ref: facts.ref, planned: false });
  });
});

describe('the play', () => {
  it('runs the gate, the distribution, per platform base, build, smoke test and push, then lists and the record', () => {
    expect(imageSteps(job(), { buildx: false }).map((s) => s.name)).toEqual([
      'flink image', 'flink distribution',
      'jre base linux/amd64', 'build linux/amd64', 'smoke test linux/amd64', 'push linux/amd64',
      'jre base linux/arm/v7', 'build linux/arm/v7', 'smoke test linux/arm/v7', 'push linux/arm/v7',
      'manifest list', 'published image',
    ]);
  });
  it('logs in when the inventory names credentials; no smoke tests with --no-smoke; buildx in one step', () => {
    const j = job({ smoke: false, registry: { host: 'docker.io', repository: 'fridge/flink', insecure: false, usernameEnv: 'U', passwordEnv: 'T' } });
    expect(imageSteps({ ...j, platforms: [AMD64] }, { buildx: false }).map((s) => s.name)).toEqual(['flink image', 'registry login', 'flink distribution', 'jre base linux/amd64', 'build linux/amd64', 'push linux/amd64', 'manifest list', 'published image']);
    expect(imageSteps(j, { buildx: true }).map((s) => s.name)).toEqual(['flink image', 'registry login', 'flink distribution', 'buildx build', 'published image']);
  });
});
