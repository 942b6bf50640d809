// The GitHub workflows' shape, checked without GitHub, Docker or the virtual fridge: what scale.yml offers is
// what the scale task accepts, the image job builds with image-build's inputs, the deploy job gets a prebuilt
// jar (the self-hosted runner has no JDK or Maven), every action is pinned by commit, Dependabot watches them,
// and two image builds never race `latest`. (actionlint and the jobs' steps: test/integration/50-workflows.)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { buildExampleJob, PREBUILT_JAR_ENV, sourcesDigest, sourcesStampOf } from '../../tasks/lib/flink/example-job.ts';
import { checkValue } from '../../tasks/lib/engine/phase.ts';
import { formatOutputs, workflowOutputs } from '../../tasks/lib/github/image-inputs.ts';
import { imageRepo, imageTags, type ImageBuildOptions } from '../../tasks/lib/image/options.ts';
import { buildxPush } from '../../tasks/lib/image/platform-build.ts';
import { platformInfo } from '../../tasks/lib/image/platforms.ts';
import { apacheReleaseUrl, DEFAULT_DROP_JARS, gitRevision } from '../../tasks/lib/image/inputs.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { PROJECT_ROOT } from '../../tasks/lib/paths.ts';
import { phase as scalePhase } from '../../tasks/lib/phases/scale.ts';
import { parseCommandFile } from '../support/github-workflow-runner.ts';

// image-build's docker calls, recorded instead of run: what matters here is the arguments it passes.
const dockerCalls = vi.hoisted(() => [] as string[][]);
vi.mock('../../tasks/lib/image/docker.ts', () => ({
  tail: (t: string) => t,
  docker: async (args: string[]) => {
    dockerCalls.push(args);
    return { ok: true, code: 0, stdout: '', stderr: '' };
  },
  hasBuildx: async () => true,
  login: async () => ({ ok: true, code: 0, stdout: '', stderr: '' }),
  inspectImage: async () => undefined,
  remoteManifest: async () => ({ kind: 'absent' }),
  push: async () => ({ ok: false, msg: 'not in this test' }),
}));

type Obj = Record<string, unknown>;
const WF = path.join(PROJECT_ROOT, '.github', 'workflows');
const workflowFiles = readdirSync(WF).filter((f) => /\.ya?ml$/.test(f));
const yamlOf = (file: string): Obj => parse(readFileSync(path.join(WF, file), 'utf8')) as Obj;
const jobsOf = (file: string): Record<string, Obj> => yamlOf(file).jobs as Record<string, Obj>;
const stepsOf = (job: Obj): Obj[] => job.steps as Obj[];
const stepUsing = (job: Obj, action: string): Obj | undefined => stepsOf(job).find((s) => String(s.uses ?? '').startsWith(`${action}@`));
const SHA512 = 'ab'.repeat(64);

async function fridgeInventory(): Promise<Inventory> {
  const loaded = await loadInventory(path.join(PROJECT_ROOT, 'inventory', 'fridge.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('; '));
  return loaded.inventory;
}

const temps: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('scale.yml offers exactly what the scale task accepts (item 14)', () => {
  const inputs = ((yamlOf('scale.yml').on as Obj).workflow_dispatch as Obj).inputs as Record<string, Obj>;
  const offered = inputs.service!.options as string[];
  const serviceOption = scalePhase.options?.service;
  const check = serviceOption?.check;
  const accepted = check?.kind === 'choice' ? [...check.choices] : [];

  it('the choices are the services scale validates, and jobmanager is not one of them', () => {
    expect(accepted.length).toBeGreaterThan(0);
    expect([...offered].sort()).toEqual([...accepted].sort());
    expect(offered).not.toContain('jobmanager');
    expect(inputs.service!.default).toBe('taskmanager');
  });

  it('each offered choice passes the CLI check the scale task runs', () => {
    for (const s of offered) expect(checkValue('service', serviceOption!, s)).toMatchObject({ ok: true });
    expect(checkValue('service', serviceOption!, 'jobmanager')).toMatchObject({ ok: false });
  });

  it('docs/github.md names the same choices', () => {
    const docs = readFileSync(path.join(PROJECT_ROOT, 'docs', 'github.md'), 'utf8');
    const line = docs.split('\n').find((l) => l.includes('pick the service'));
    expect(line).toBeDefined();
    const named = [...(line ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
    expect(named.sort()).toEqual([...accepted].sort());
  });
});

describe('the image job builds what image-build builds (item 15)', () => {
  beforeEach(() => {
    dockerCalls.length = 0;
  });

  it('build-push-action takes its context, platforms, build args and tags from the shared definition only', () => {
    const image = jobsOf('deploy.yml').image!;
    const build = stepUsing(image, 'docker/build-push-action')!;
    expect(build.with).toMatchObject({
      context: '${{ steps.inputs.outputs.context }}',
      platforms: '${{ steps.inputs.outputs.platforms }}',
      'build-args': '${{ steps.args.outputs.build-args }}',
      tags: '${{ steps.inputs.outputs.tags }}',
    });
    const runs = stepsOf(image).map((s) => String(s.run ?? ''));
    expect(runs).toContain('npx tsx tasks/lib/github/image-inputs.ts inventory/fridge.yaml --context "$RUNNER_TEMP/image-context" >> "$GITHUB_OUTPUT"');
    expect(runs).toContain('npx tsx tasks/lib/github/image-inputs.ts inventory/fridge.yaml --flink-sha512 "$FLINK_SHA512" >> "$GITHUB_OUTPUT"');
    // No tag or label source of its own (metadata-action's labels would override the Dockerfile's).
    expect(stepUsing(image, 'docker/metadata-action')).toBeUndefined();
  });

  it('the build args, platforms and tags equal those image-build passes to docker for the same release', async () => {
    const inv = await fridgeInventory();
    const revision = await gitRevision(PROJECT_ROOT);
    const outputs = parseCommandFile(formatOutputs(workflowOutputs({ inv, revision, flinkSha512: SHA512 })));

    const cacheDir = tempDir('fridge-gh-image-');
    const opts: ImageBuildOptions = {
      version: inv.cluster.flink.version,
      platforms: inv.cluster.platforms,
      registry: inv.cluster.registry,
      stateDir: inv.cluster.flink.stateDir,
      cacheDir,
      repoDir: PROJECT_ROOT,
      revision,
      baseImage: () => 'local-jre-base',
      source: { url: apacheReleaseUrl(inv.cluster.flink.version), sha512: SHA512 },
    };
    const { sha, tags } = await imageTags(opts);
    const platforms = inv.cluster.platforms.flatMap((p) => platformInfo(p) ?? []);
    // The buildx step's own docker work (steps/image/buildx.ts): what it passes to docker.
    const result = await buildxPush(opts, platforms, imageRepo(opts.registry), sha, cacheDir);
    expect(result).toEqual({ ok: true });
    const bx = dockerCalls.find((a) => a[0] === 'buildx' && a[1] === 'build')!;
    const localArgs = bx.flatMap((a, i) => (bx[i - 1] === '--build-arg' ? [a] : []));
    // The one deliberate difference: image-build builds on its local Debian JRE bases, the workflow on the
    // Dockerfile's default (eclipse-temurin, published for every platform).
    expect(localArgs.filter((a) => !a.startsWith('BASE_IMAGE='))).toEqual(outputs['build-args']!.split('\n'));
    expect(outputs['build-args']).toContain(`FLINK_DROP_JARS=${DEFAULT_DROP_JARS.join(' ')}`);
    expect(bx[bx.indexOf('--platform') + 1]).toBe(outputs.platforms);
    expect(outputs.tags!.split('\n')).toEqual(tags.map((t) => `${imageRepo(opts.registry)}:${t}`));
  });

  it('every build arg the workflow passes is an ARG of the Dockerfile', async () => {
    const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'docker', 'Dockerfile'), 'utf8');
    const declared = new Set([...dockerfile.matchAll(/^ARG ([A-Z0-9_]+)/gm)].map((m) => m[1]));
    const outputs = workflowOutputs({ inv: await fridgeInventory(), revision: { sha: 'abc1234', created: '' }, flinkSha512: SHA512 });
    const args = outputs.find(([k]) => k === 'build-args')?.[1] ?? '';
    for (const a of args.split('\n')) expect(declared.has(a.split('=')[0]), a).toBe(true);
  });

  it('multi-line outputs survive $GITHUB_OUTPUT, whatever the values hold', () => {
    const text = formatOutputs([['a', 'x=1'], ['tags', 'r:1\nr:latest']]);
    expect(parseCommandFile(text)).toEqual({ a: 'x=1', tags: 'r:1\nr:latest' });
    expect(text).toMatch(/^tags<<FRIDGE_[0-9a-f-]{36}$/m);
  });
});

describe('the deploy job gets the job jar from a hosted job (item 16)', () => {
  const jobs = jobsOf('deploy.yml');
  const jar = jobs['job-jar']!;
  const deploy = jobs.deploy!;

  it('job-jar builds with a JDK and a Maven cache on a hosted runner and uploads the jar', () => {
    expect(jar['runs-on']).toBe('ubuntu-latest');
    expect(stepUsing(jar, 'actions/setup-java')!.with).toMatchObject({ distribution: 'temurin', 'java-version': 17, cache: 'maven' });
    expect(stepsOf(jar).map((s) => s.run)).toContain('npx tsx tasks/lib/github/example-job-jar.ts "$RUNNER_TEMP/job-jar"');
    expect(stepUsing(jar, 'actions/upload-artifact')!.with).toMatchObject({ name: 'sensor-window-jar', path: '${{ runner.temp }}/job-jar/', 'if-no-files-found': 'error' });
  });

  it('deploy downloads it and names it in FRIDGE_EXAMPLE_JOB_JAR; nothing there needs Java', () => {
    expect(deploy.needs).toEqual(['image', 'job-jar']);
    expect(stepUsing(deploy, 'actions/download-artifact')!.with).toEqual({ name: 'sensor-window-jar', path: '${{ runner.temp }}/job-jar' });
    const step = stepsOf(deploy).find((s) => s.name === 'Deploy')!;
    expect((step.env as Obj)[PREBUILT_JAR_ENV]).toBe('${{ runner.temp }}/job-jar/sensor-window.jar');
    expect(stepUsing(deploy, 'actions/setup-java')).toBeUndefined();
    for (const s of stepsOf(deploy)) expect(String(s.run ?? '')).not.toMatch(/\bmvn\b|\bjava\b/);
  });

  it('job-submit uses a prebuilt jar of the same sources without Maven, and refuses one of other sources', async () => {
    const dir = tempDir('fridge-gh-job-');
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'pom.xml'), '<project/>');
    writeFileSync(path.join(dir, 'src', 'Job.java'), 'class Job {}');
    const out = tempDir('fridge-gh-jar-');
    const prebuilt = path.join(out, 'sensor-window.jar');
    writeFileSync(prebuilt, 'PK\u0003\u0004');
    const env = { [PREBUILT_JAR_ENV]: prebuilt, PATH: '/nonexistent' };

    await expect(buildExampleJob(dir, { env })).rejects.toThrow(`${PREBUILT_JAR_ENV}=${prebuilt}: sensor-window.sources.sha256 is missing next to it`);
    writeFileSync(sourcesStampOf(prebuilt), `${await sourcesDigest(dir)}\n`);
    // PATH has no mvn: a build attempt would fail, and target/ would appear.
    await expect(buildExampleJob(dir, { env })).resolves.toBe(prebuilt);
    expect(readdirSync(dir).sort()).toEqual(['pom.xml', 'src']);
    writeFileSync(path.join(dir, 'src', 'Job.java'), 'class Job { int changed; }');
    await expect(buildExampleJob(dir, { env })).rejects.toThrow(/was built from other sources than .* has now .*: rebuild it, or unset FRIDGE_EXAMPLE_JOB_JAR/);
    await expect(buildExampleJob(dir, { env: { [PREBUILT_JAR_ENV]: path.join(out, 'missing.jar') } })).rejects.toThrow('missing.jar: no such file');
  });
});

describe('supply chain and races (item 17)', () => {
  const usesLines = workflowFiles.flatMap((f) =>
    readFileSync(path.join(WF, f), 'utf8')
      .split('\n')
      .filter((l) => /^\s*(-\s+)?uses:/.test(l))
      .map((l) => ({ file: f, line: l.trim().replace(/^-\s+/, '') })),
  );

  it('every action is pinned by a full commit sha with its release in a comment', () => {
    expect(usesLines.length).toBeGreaterThan(10);
    for (const { file, line } of usesLines) {
      expect(line, `${file}: ${line}`).toMatch(/^uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it('one action, one pin: the same commit and release everywhere', () => {
    const pins = new Map<string, Set<string>>();
    for (const { line } of usesLines) {
      const [, action, pin] = /^uses: ([^@]+)@(.+)$/.exec(line) ?? [];
      if (!action || !pin) continue;
      pins.set(action, (pins.get(action) ?? new Set()).add(pin));
    }
    for (const [action, set] of pins) expect([...set], action).toHaveLength(1);
  });

  it('Dependabot proposes updates for the actions and for npm', () => {
    const cfg = parse(readFileSync(path.join(PROJECT_ROOT, '.github', 'dependabot.yml'), 'utf8')) as { version: number; updates: Obj[] };
    expect(cfg.version).toBe(2);
    const ecosystems = cfg.updates.map((u) => `${String(u['package-ecosystem'])} ${String(u.directory)}`).sort();
    expect(ecosystems).toEqual(['github-actions /', 'npm /']);
    for (const u of cfg.updates) expect((u.schedule as Obj).interval).toBeTruthy();
  });

  it('image builds queue in one group without cancelling each other, apart from the deploy lock', () => {
    const jobs = jobsOf('deploy.yml');
    expect(jobs.image!.concurrency).toEqual({ group: 'fridge-image', 'cancel-in-progress': false });
    expect((jobs.deploy!.concurrency as Obj).group).toBe('fridge-deploy');
  });

  it('provenance and SBOM are set explicitly on the image build', () => {
    const build = stepUsing(jobsOf('deploy.yml').image!, 'docker/build-push-action')!;
    expect(build.with).toMatchObject({ provenance: false, sbom: false, push: true });
  });

  it('every setup-node runs a supported LTS line: 22 or 24', () => {
    for (const f of workflowFiles) {
      for (const [name, job] of Object.entries(jobsOf(f))) {
        const node = stepUsing(job, 'actions/setup-node');
        if (!node) continue;
        const version = (node.with as Obj)['node-version'];
        const versions = version === '${{ matrix.node }}' ? (((job.strategy as Obj).matrix as Obj).node as unknown[]) : [version];
        for (const v of versions) expect([22, 24], `${f} ${name}: node ${String(v)}`).toContain(v);
      }
    }
  });
});
