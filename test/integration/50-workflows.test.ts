// The GitHub workflows: linted by actionlint (with shellcheck), checked for what the design asks of them,
// and the deploy/scale jobs' steps run as written by a small runner, against the virtual fridge's inventory
// instead of the real Fridge's (whose addresses are never contacted from here).
import { IMAGE_STATE_FILE } from '../../tasks/lib/deploy/image-ref.ts';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PREBUILT_JAR_ENV, writePrebuiltJob } from '../../tasks/lib/flink/example-job.ts';
import { gitRevision } from '../../tasks/lib/image/inputs.ts';
import { PROJECT_ROOT, SIM_INVENTORY_FILE, STATE_DIR } from '../../tasks/lib/paths.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { startFakeGithubApi, type FakeGithubApi } from '../support/fake-github-api.ts';
import { condition, type ExprObject } from '../support/github-expressions.ts';
import { loadWorkflow, runJob, type JobRun, type StepRecord, type WorkflowContext } from '../support/github-workflow-runner.ts';

const run = promisify(execFile);

/**
 * LEAD: how far the deploy job's `npx zx tasks/deploy.mjs ...` goes when the workflow's steps are run here.
 *   'help'  — appends --help (the default until deploy converges on the virtual fridge);
 *   'check' — appends --check: a dry run against the running virtual fridge;
 *   'full'  — runs the step exactly as written: a real deploy of the virtual fridge, with a GitHub Deployment
 *             recorded on the fake GitHub API.
 * Switch the default here, or set FRIDGE_WORKFLOW_DEPLOY=check|full.
 */
// Runs after the end-to-end deploy test (40-deploy), so the workflow's deploy finds the fridge deployed.
const DEPLOY_MODE = (process.env.FRIDGE_WORKFLOW_DEPLOY ?? 'full') as 'help' | 'check' | 'full';
/** The image the virtual fridge runs: what image-build pushed last (the workflow deploys the image its image job built). */
const SIM_IMAGE = process.env.FRIDGE_WORKFLOW_IMAGE ?? lastPublishedImage();

function lastPublishedImage(): string {
  try {
    const ref = (JSON.parse(readFileSync(IMAGE_STATE_FILE, 'utf8')) as { ref?: unknown }).ref;
    if (typeof ref === 'string') return ref;
  } catch {
    // no image built yet on this machine
  }
  return '10.77.0.1:5000/fridge/flink:2.3.0';
}

const WF = path.join(PROJECT_ROOT, '.github', 'workflows');
const REAL_INVENTORY = 'inventory/fridge.yaml';
const REPO = 'digitaljazz/fridge';
const SHA = 'c0ffee0000000000000000000000000000000001';
const TOKEN = 'ghs_workflowTestToken0000000000000000';

let actionlint = '';
let api: FakeGithubApi;
let home = '';
/** RUNNER_TEMP directories of the jobs run here, removed at the end. */
const runnerTemps: string[] = [];
/** What the job-jar job uploads (the jar and its sources digest), built here with Maven as that job does. */
let jobJarDir = '';
/** A `mvn` first on the deploy job's PATH that records any call: the self-hosted runner has no Maven. */
let mvnCalls = '';

beforeAll(async () => {
  const { stdout } = await run('bash', [path.join(PROJECT_ROOT, 'tasks/lib/tools/actionlint.sh')], { timeout: 300_000 });
  actionlint = stdout.trim().split('\n').at(-1) ?? '';
  api = await startFakeGithubApi(REPO);
  home = mkdtempSync(path.join(tmpdir(), 'fridge-gh-home-'));
  // The job keeps its state in ~/.local/state/fridge. Beyond --help that must be this work tree's state
  // (the virtual fridge's keys, known_hosts, the image pushed last), so the runner's home points there.
  if (DEPLOY_MODE !== 'help') {
    mkdirSync(path.join(home, '.local', 'state'), { recursive: true });
    symlinkSync(STATE_DIR, path.join(home, '.local', 'state', 'fridge'));
    jobJarDir = (await writePrebuiltJob(path.join(home, 'job-jar-artifact'))).jar.replace(/\/[^/]+$/, '');
  }
  mkdirSync(path.join(home, 'no-maven'));
  mvnCalls = path.join(home, 'mvn-calls');
  writeFileSync(path.join(home, 'no-maven', 'mvn'), `#!/bin/sh\necho "$*" >> '${mvnCalls}'\necho 'no Maven on the self-hosted runner' >&2\nexit 1\n`, { mode: 0o755 });
}, 910_000);

afterAll(async () => {
  await api.close();
  for (const dir of [home, ...runnerTemps]) rmSync(dir, { recursive: true, force: true });
});

function yamlOf(file: string): ExprObject {
  return parse(readFileSync(path.join(WF, file), 'utf8')) as ExprObject;
}

async function lint(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(actionlint, ['-shellcheck', 'shellcheck', '-no-color', ...args], { cwd: PROJECT_ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('workflows pass actionlint', () => {
  it('every workflow in .github/workflows is clean (actionlint + shellcheck)', async () => {
    const { code, output } = await lint([]);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('actionlint does fail a workflow that passes untrusted input to a shell', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fridge-gh-lint-'));
    const bad = readFileSync(path.join(WF, 'scale.yml'), 'utf8').replace('--service "$SERVICE"', '--service "${{ github.event.head_commit.message }}"');
    writeFileSync(path.join(dir, 'scale.yml'), bad);
    const { code, output } = await lint(['-config-file', path.join(PROJECT_ROOT, '.github/actionlint.yaml'), path.join(dir, 'scale.yml')]);
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(output).toContain('"github.event.head_commit.message" is potentially untrusted');
  });
});

describe('workflows do what the design card says', () => {
  it('test: npm ci && npm test on every push and pull request, on a hosted runner', () => {
    const wf = yamlOf('test.yml');
    expect(Object.keys(wf.on as ExprObject).sort()).toEqual(['pull_request', 'push']);
    const job = (wf.jobs as ExprObject).test as ExprObject;
    expect(job['runs-on']).toBe('ubuntu-latest');
    const runs = (job.steps as ExprObject[]).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(['npm ci', 'sudo --preserve-env env -u GITHUB_ACTIONS HOME=/root "PATH=$PATH" npm test']);
  });

  it('deploy: a pinned-QEMU multi-arch image to Docker Hub with gha cache, then one deploy at a time from the LAN', () => {
    const wf = yamlOf('deploy.yml');
    expect(wf.on).toEqual({ push: { branches: ['main'] } });
    const jobs = wf.jobs as Record<string, ExprObject>;
    const image = jobs.image!;
    expect(image['runs-on']).toBe('ubuntu-latest');
    const uses = Object.fromEntries((image.steps as ExprObject[]).filter((s) => s.uses).map((s) => [String(s.uses).split('@')[0], s]));
    expect(Object.keys(uses)).toEqual([
      'actions/checkout',
      'actions/setup-node',
      'docker/setup-qemu-action',
      'docker/setup-buildx-action',
      'docker/login-action',
      'docker/build-push-action',
    ]);
    const qemu = uses['docker/setup-qemu-action']!;
    expect(qemu.uses).toMatch(/^docker\/setup-qemu-action@[0-9a-f]{40}$/);
    expect(String((qemu.with as ExprObject).image)).toMatch(/^docker\.io\/tonistiigi\/binfmt:qemu-v\d+\.\d+\.\d+-\d+$/);
    expect(uses['docker/login-action']!.with).toEqual({ username: '${{ secrets.DOCKERHUB_USERNAME }}', password: '${{ secrets.DOCKERHUB_TOKEN }}' });
    const build = uses['docker/build-push-action']!;
    expect(build.uses).toMatch(/^docker\/build-push-action@[0-9a-f]{40}$/);
    expect(build.with).toMatchObject({
      context: '${{ steps.inputs.outputs.context }}',
      platforms: '${{ steps.inputs.outputs.platforms }}',
      'build-args': '${{ steps.args.outputs.build-args }}',
      tags: '${{ steps.inputs.outputs.tags }}',
      push: true,
      'cache-from': 'type=gha',
      'cache-to': 'type=gha,mode=max',
    });

    const deploy = jobs.deploy!;
    expect(deploy.needs).toEqual(['image', 'job-jar']);
    expect(deploy['runs-on']).toEqual(['self-hosted', 'fridge']);
    expect(deploy.concurrency).toEqual({ group: 'fridge-deploy', 'cancel-in-progress': false });
    expect(deploy.environment).toEqual({ name: 'fridge', deployment: false });
    expect(deploy.permissions).toEqual({ contents: 'read', deployments: 'write' });
  });

  it('deploy runs only for a push to main: never for pull requests (forks included) or other branches', () => {
    const deployIf = String(((yamlOf('deploy.yml').jobs as ExprObject).deploy as ExprObject).if);
    const decide = (event_name: string, ref: string): boolean =>
      condition(deployIf, { context: { github: { event_name, ref } }, failed: false, unresolved: new Set() });
    expect(decide('push', 'refs/heads/main')).toBe(true);
    expect(decide('pull_request', 'refs/heads/main')).toBe(false);
    expect(decide('pull_request', 'refs/pull/12/merge')).toBe(false);
    expect(decide('push', 'refs/heads/feature')).toBe(false);
    expect(decide('workflow_dispatch', 'refs/heads/main')).toBe(false);
  });

  it('scale: a manual dispatch with a service choice and a replica count, on the same runner and lock', () => {
    const wf = yamlOf('scale.yml');
    const inputs = ((wf.on as ExprObject).workflow_dispatch as ExprObject).inputs as Record<string, ExprObject>;
    expect(inputs.service).toMatchObject({ type: 'choice', required: true });
    expect(inputs.service!.options).toEqual(['taskmanager', 'mosquitto']);
    expect(inputs.replicas).toMatchObject({ type: 'number', required: true });
    const job = (wf.jobs as ExprObject).scale as ExprObject;
    expect(job['runs-on']).toEqual(['self-hosted', 'fridge']);
    expect(job.concurrency).toEqual({ group: 'fridge-deploy', 'cancel-in-progress': false });
  });
});

// ---- running the jobs' steps ------------------------------------------------------------------------------

function githubContext(eventName: string): ExprObject {
  return {
    repository: REPO,
    repository_owner: 'digitaljazz',
    sha: SHA,
    ref: 'refs/heads/main',
    event_name: eventName,
    run_id: '4711',
    server_url: 'https://github.com',
    api_url: api.url,
    token: TOKEN,
  };
}

function sshKeySecret(): string {
  // A deploy that goes further than --help logs in with the virtual fridge's key, as the real one does with its own.
  if (DEPLOY_MODE !== 'help') return readFileSync(SIM_PATHS.privateKey, 'utf8').trimEnd();
  return '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-only-for-the-workflow-test\n-----END OPENSSH PRIVATE KEY-----';
}

/** Runs `npx zx tasks/<task>.mjs` lines with the virtual fridge's inventory and the mode's extra flag. */
function rewriteFor(task: string, extra: string[]): (script: string) => string {
  return (script) =>
    script
      .split(REAL_INVENTORY)
      .join(SIM_INVENTORY_FILE)
      .split('\n')
      .map((line) => (line.includes(`npx zx tasks/${task}.mjs`) && extra.length ? `${line} ${extra.join(' ')}` : line))
      .join('\n');
}

/** Step names as GitHub shows them, without the pinned commit of `uses:` steps. */
const shownName = (name: string): string => name.replace(/@[0-9a-f]{40}$/, '');

function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'LANG', 'TERM', 'FRIDGE_SIM_NODES'];
  const env: Record<string, string> = { HOME: home, npm_config_cache: path.join(process.env.HOME ?? '/root', '.npm') };
  for (const k of keep) if (process.env[k]) env[k] = process.env[k];
  return env;
}

interface KeyObservation {
  keyFile: string | undefined;
  mode: number | undefined;
  content: string | undefined;
}

async function runDeployJob(rewrite: (script: string) => string, context: Partial<WorkflowContext> = {}): Promise<{ job: JobRun; key: KeyObservation }> {
  const key: KeyObservation = { keyFile: undefined, mode: undefined, content: undefined };
  const job = await runJob({
    workflowFile: path.join(WF, 'deploy.yml'),
    job: 'deploy',
    workspace: PROJECT_ROOT,
    baseEnv: { ...baseEnv(), PATH: `${path.join(home, 'no-maven')}:${process.env.PATH ?? ''}` },
    context: {
      github: githubContext('push'),
      secrets: { FRIDGE_SSH_KEY: sshKeySecret(), DOCKERHUB_USERNAME: 'fridgebot', DOCKERHUB_TOKEN: 'dckr_pat_workflowTestToken' },
      vars: {},
      inputs: {},
      needs: { image: { outputs: { ref: SIM_IMAGE }, result: 'success' } },
      ...context,
    },
    rewrite,
    forbidden: [REAL_INVENTORY],
    // The work tree already has its node_modules (the README's `npm ci`); reinstalling would pull them
    // from under the other tests running next to this one.
    skipRun: (script) => (script.trim() === 'npm ci' ? 'dependencies already installed' : undefined),
    afterStep: (step: StepRecord, runnerTemp: string) => {
      // download-artifact is not run here: the job-jar job's artifact is put where it would download it.
      if (shownName(step.name) === 'Run actions/download-artifact' && jobJarDir) {
        mkdirSync(path.join(runnerTemp, 'job-jar'), { recursive: true });
        for (const f of readdirSync(jobJarDir)) copyFileSync(path.join(jobJarDir, f), path.join(runnerTemp, 'job-jar', f));
      }
      if (step.name !== 'Write the SSH key') return;
      const file = step.exportedEnv.FRIDGE_SSH_KEY_FILE;
      key.keyFile = file;
      if (file && existsSync(file)) {
        key.mode = statSync(file).mode & 0o777;
        key.content = readFileSync(file, 'utf8');
      }
    },
    stepTimeoutMs: DEPLOY_MODE === 'full' ? 3_000_000 : 120_000,
  });
  runnerTemps.push(job.runnerTemp);
  return { job, key };
}

describe('the image job reads what it builds from the inventory', () => {
  it('"Read the image inputs" and "Build arguments" give the repository, the Flink version, the platforms, the tags and the build arguments', async () => {
    const sha512 = 'ab'.repeat(64);
    const job = await runJob({
      workflowFile: path.join(WF, 'deploy.yml'),
      job: 'image',
      workspace: PROJECT_ROOT,
      baseEnv: baseEnv(),
      context: { github: githubContext('push'), secrets: {}, vars: {}, inputs: {}, needs: {} },
      // Reading the real inventory is harmless: nothing is contacted.
      // Apache's servers are not reachable from here: the release lookup (curl) answers a fixed SHA-512.
      rewrite: (script) => (script.includes('curl') ? `echo "sha512=${sha512}" >> "$GITHUB_OUTPUT"` : script),
      skipRun: (script) => (script.trim() === 'npm ci' ? 'dependencies already installed' : undefined),
      stepTimeoutMs: 120_000,
    });
    runnerTemps.push(job.runnerTemp);
    const inputs = job.steps.find((s) => s.id === 'inputs')!;
    expect(inputs.status, inputs.output).toBe('success');
    const { sha } = await gitRevision(PROJECT_ROOT);
    const flinkUrl = 'https://archive.apache.org/dist/flink/flink-2.3.0/flink-2.3.0-bin-scala_2.12.tgz';
    expect(inputs.outputs).toEqual({
      image: 'docker.io/digitaljazz/flink-fridge',
      'flink-version': '2.3.0',
      'flink-url': flinkUrl,
      platforms: 'linux/arm/v7,linux/arm64,linux/amd64',
      tags: ['docker.io/digitaljazz/flink-fridge:' + sha, 'docker.io/digitaljazz/flink-fridge:2.3.0', 'docker.io/digitaljazz/flink-fridge:latest'].join('\n'),
      context: path.join(job.runnerTemp, 'image-context'),
      'conf-file': 'config.yaml',
    });
    const args = job.steps.find((s) => s.id === 'args')!;
    expect(args.status, args.output).toBe('success');
    const buildArgs = args.outputs['build-args']!.split('\n');
    expect(buildArgs).toEqual(expect.arrayContaining([`FLINK_URL=${flinkUrl}`, `FLINK_SHA512=${sha512}`, 'FLINK_DROP_JARS=flink-table-*.jar flink-scala_*.jar', `VCS_REF=${sha}`, 'FLINK_GPG_KEY=E11F792053638C56C98ACFADB5B638DCA5F94E4A']));
    // The context is image-build's: docker/'s files and the generated default configuration.
    expect(readdirSync(path.join(job.runnerTemp, 'image-context')).sort()).toEqual(['Dockerfile', 'entrypoint.sh', 'flink-classes.lst', 'fridge-base.yaml', 'healthcheck.sh', 'java.security', 'launch.sh', 'verify-release.sh']);
    expect(readFileSync(path.join(job.runnerTemp, 'image-context', 'Dockerfile'), 'utf8')).toBe(readFileSync(path.join(PROJECT_ROOT, 'docker/Dockerfile'), 'utf8'));
    // The deploy job gets the image pinned by the digest build-push-action reports.
    const ref = job.steps.find((s) => s.id === 'ref')!;
    expect(ref.script).toBe('echo "ref=${IMAGE}@${DIGEST}" >> "$GITHUB_OUTPUT"');
    expect(ref.env.IMAGE).toBe('docker.io/digitaljazz/flink-fridge');
    // build-push-action is not run here, so its digest is the one thing left unresolved.
    expect(job.unresolved).toEqual(['steps.build.outputs.digest']);
  }, 120_000);
});

describe('the deploy job, run step by step against the virtual fridge', () => {
  it(
    `runs as written (${DEPLOY_MODE} mode): key file 0600 only while it runs, sim inventory, the image just built`,
    async () => {
      if (DEPLOY_MODE !== 'help') expect(existsSync(SIM_INVENTORY_FILE), `${SIM_INVENTORY_FILE}: bring the virtual fridge up first`).toBe(true);
      api.requests.length = 0;
      const extra = DEPLOY_MODE === 'help' ? ['--help'] : DEPLOY_MODE === 'check' ? ['--check'] : [];
      const { job, key } = await runDeployJob(rewriteFor('deploy', extra));
      const byName = Object.fromEntries(job.steps.map((s) => [s.name, s]));
      const deployStep = byName.Deploy!;

      expect(deployStep.output, deployStep.output).not.toContain('unknown task');
      expect(job.ok, job.steps.map((s) => `${s.name}: ${s.status}\n${s.output}`).join('\n')).toBe(true);
      expect(job.steps.map((s) => `${shownName(s.name)}: ${s.status}`)).toEqual([
        'Run actions/checkout: skipped',
        'Run actions/setup-node: skipped',
        'Install dependencies: skipped',
        'Run actions/download-artifact: skipped',
        'Keep Fridge state between runs: success',
        'Write the SSH key: success',
        'Deploy: success',
        'Remove the SSH key: success',
      ]);
      // Every ${{ }} the job reads was provided.
      expect(job.unresolved).toEqual([]);

      expect(deployStep.script).toBe(`npx zx tasks/deploy.mjs -i ${SIM_INVENTORY_FILE} --skip image-build --image "$IMAGE"${extra.map((e) => ` ${e}`).join('')}`);
      expect(deployStep.env.IMAGE).toBe(SIM_IMAGE);
      // The jar comes from the job-jar job; the runner has no Maven and none was called.
      expect(deployStep.env[PREBUILT_JAR_ENV]).toBe(path.join(job.runnerTemp, 'job-jar', 'sensor-window.jar'));
      expect(existsSync(mvnCalls) ? readFileSync(mvnCalls, 'utf8') : '').toBe('');
      expect(deployStep.env.GITHUB_TOKEN).toBe(TOKEN);
      expect(deployStep.env.FRIDGE_SSH_KEY_FILE).toBe(key.keyFile);
      expect(deployStep.env.FRIDGE_STATE_DIR).toBe(path.join(home, '.local/state/fridge'));
      expect(key.mode).toBe(0o600);
      expect(key.content).toBe(`${sshKeySecret()}\n`);
      expect(existsSync(key.keyFile ?? '/nonexistent')).toBe(false);
      // Secrets never reach the log: the runner consumes ::add-mask:: commands (they are not shown) and masks
      // those values everywhere else.
      for (const s of job.steps) {
        const shown = s.output
          .split('\n')
          .filter((l) => !l.startsWith('::add-mask::'))
          .join('\n');
        expect(shown).not.toContain('not-a-real-key');
        expect(shown).not.toContain('dckr_pat_workflowTestToken');
        expect(shown).not.toContain(TOKEN);
      }

      if (DEPLOY_MODE === 'help') {
        expect(deployStep.output).toContain('Usage: npx zx tasks/deploy.mjs');
        expect(api.requests).toEqual([]);
      }
      if (DEPLOY_MODE === 'full') {
        // deploy records a GitHub Deployment: in progress, then success with the Flink UI's address.
        expect(api.requests.map((r) => `${r.method} ${r.path.replace(/\/\d+\//, '/ID/')}`)).toEqual([
          `POST /repos/${REPO}/deployments`,
          `POST /repos/${REPO}/deployments/ID/statuses`,
          `POST /repos/${REPO}/deployments/ID/statuses`,
        ]);
        expect(api.requests.at(-1)!.body).toMatchObject({ state: 'success', environment_url: expect.stringMatching(/^http:\/\/10\.77\.0\.\d+:8081/) });
      }
    },
    3_100_000,
  );

  it('a failing deploy still removes the key, and fails the job', async () => {
    // An inventory that does not exist makes the deploy step fail before it touches any host.
    const missing = path.join(home, 'no-such-inventory.yaml');
    const { job, key } = await runDeployJob((script) => script.split(REAL_INVENTORY).join(missing));
    expect(job.ok).toBe(false);
    expect(job.steps.find((s) => s.name === 'Deploy')?.status).toBe('failure');
    expect(key.mode).toBe(0o600);
    expect(existsSync(key.keyFile ?? '/nonexistent')).toBe(false);
    expect(job.steps.find((s) => s.name === 'Remove the SSH key')?.status).toBe('success');
  }, 120_000);
});

describe('the scale job, run step by step', () => {
  // Scaling for real would change the stack under the other tests: --check at most.
  const scaleExtra = DEPLOY_MODE === 'help' ? ['--help'] : ['--check'];
  it(`runs the scale task with the dispatch inputs on the virtual fridge inventory (${scaleExtra[0]})`, async () => {
    if (DEPLOY_MODE !== 'help') expect(existsSync(SIM_INVENTORY_FILE), `${SIM_INVENTORY_FILE}: bring the virtual fridge up first`).toBe(true);
    const job = await runJob({
      workflowFile: path.join(WF, 'scale.yml'),
      job: 'scale',
      workspace: PROJECT_ROOT,
      baseEnv: baseEnv(),
      context: {
        github: githubContext('workflow_dispatch'),
        secrets: { FRIDGE_SSH_KEY: sshKeySecret() },
        vars: {},
        inputs: { service: 'taskmanager', replicas: 3 },
        needs: {},
      },
      rewrite: rewriteFor('scale', scaleExtra),
      forbidden: [REAL_INVENTORY],
      skipRun: (script) => (script.trim() === 'npm ci' ? 'dependencies already installed' : undefined),
      stepTimeoutMs: 600_000,
    });
    runnerTemps.push(job.runnerTemp);
    const scale = job.steps.find((s) => s.name === 'Scale')!;
    expect(scale.script).toBe(`npx zx tasks/scale.mjs -i ${SIM_INVENTORY_FILE} --service "$SERVICE" --replicas "$REPLICAS" ${scaleExtra[0]}`);
    expect(scale.env).toMatchObject({ SERVICE: 'taskmanager', REPLICAS: '3' });
    if (DEPLOY_MODE === 'help') expect(scale.output).toContain('Usage: npx zx tasks/scale.mjs');
    // In a job the GitHub reporter speaks: the phase is a log group.
    else expect(scale.output).toContain('::group::scale (check mode)');
    expect(job.ok, scale.output).toBe(true);
    expect(job.unresolved).toEqual([]);
  }, 620_000);
});
