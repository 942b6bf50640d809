// GitHub Deployments against a fake GitHub API: a local HTTP server on 127.0.0.1 that answers the two REST
// endpoints deploy uses like GitHub does. This is the one place where the project uses a fake (no GitHub here).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  deploymentTargetFromEnv,
  finishDeployment,
  startDeployment,
  trackDeployment,
  type DeploymentTarget,
} from '../../tasks/lib/github/deployment.ts';
import { mask } from '../../tasks/lib/secrets.ts';
import { startFakeGithubApi, type FakeGithubApi } from '../support/fake-github-api.ts';

const TOKEN = 'ghs_fakeTokenForTheFakeApi0123456789';
let api: FakeGithubApi;
let apiUrl = '';

beforeAll(async () => {
  api = await startFakeGithubApi('digitaljazz/fridge');
  apiUrl = api.url;
});
afterAll(async () => {
  await api.close();
});
afterEach(() => {
  api.requests.length = 0;
  api.statusReply = 201;
  vi.restoreAllMocks();
});

function jobEnv(): NodeJS.ProcessEnv {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_TOKEN: TOKEN,
    GITHUB_REPOSITORY: 'digitaljazz/fridge',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_API_URL: apiUrl,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '777',
  };
}

/** Everything written to stdout/stderr or the console while fn runs. */
async function captureOutput<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const seen: string[] = [];
  const keep = (chunk: string | Uint8Array): boolean => {
    seen.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void seen.push(args.map(String).join(' ')));
  }
  try {
    return { value: await fn(), output: seen.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('GitHub deployment (fake GitHub API on 127.0.0.1)', () => {
  it('reads its target from a job environment, and only there', () => {
    const t = deploymentTargetFromEnv(jobEnv());
    expect(t).toEqual({
      owner: 'digitaljazz',
      repo: 'fridge',
      ref: '0123456789abcdef0123456789abcdef01234567',
      token: TOKEN,
      apiUrl,
      environment: 'fridge',
      logUrl: 'https://github.com/digitaljazz/fridge/actions/runs/777',
    });
    expect(deploymentTargetFromEnv({ ...jobEnv(), GITHUB_ACTIONS: undefined })).toBeUndefined();
    expect(deploymentTargetFromEnv({ ...jobEnv(), GITHUB_TOKEN: '' })).toBeUndefined();
  });

  it('fake GitHub API: creates the deployment, marks it in progress, then success with the Flink UI', async () => {
    const target = deploymentTargetFromEnv(jobEnv()) as DeploymentTarget;
    const { value: started, output } = await captureOutput(async () => {
      const s = await startDeployment(target, 'deploy flink-fridge@sha256:abc');
      if (!s.ok) return s;
      const f = await finishDeployment(s.value, 'success', 'Flink 2.2 on 5 nodes', 'http://10.77.0.11:8081');
      return f.ok ? s : f;
    });
    expect(started).toMatchObject({ ok: true, value: { id: 4242 } });

    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /repos/digitaljazz/fridge/deployments',
      'POST /repos/digitaljazz/fridge/deployments/4242/statuses',
      'POST /repos/digitaljazz/fridge/deployments/4242/statuses',
    ]);
    expect(api.requests[0]!.body).toEqual({
      ref: '0123456789abcdef0123456789abcdef01234567',
      environment: 'fridge',
      description: 'deploy flink-fridge@sha256:abc',
      required_contexts: [],
      auto_merge: false,
      production_environment: true,
      transient_environment: false,
    });
    expect(api.requests[1]!.body).toEqual({
      state: 'in_progress',
      environment: 'fridge',
      description: 'deploy flink-fridge@sha256:abc',
      log_url: 'https://github.com/digitaljazz/fridge/actions/runs/777',
      auto_inactive: true,
    });
    expect(api.requests[2]!.body).toEqual({
      state: 'success',
      environment: 'fridge',
      description: 'Flink 2.2 on 5 nodes',
      log_url: 'https://github.com/digitaljazz/fridge/actions/runs/777',
      environment_url: 'http://10.77.0.11:8081',
      auto_inactive: true,
    });
    // Authenticated on every request, but the token is never printed, and reporters will mask it.
    for (const r of api.requests) expect(r.auth).toBe(`token ${TOKEN}`);
    expect(output).not.toContain(TOKEN);
    expect(mask(`token ${TOKEN}`)).toBe('token ***');
  });

  it('fake GitHub API: a refused status is a result with the HTTP status, not a thrown error, and hides the token', async () => {
    const target = deploymentTargetFromEnv(jobEnv()) as DeploymentTarget;
    const started = await startDeployment(target, 'deploy');
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    api.statusReply = 422;
    const { value: finished, output } = await captureOutput(() => finishDeployment(started.value, 'failure', 'stack-deploy failed on pi2', undefined));
    expect(finished.ok).toBe(false);
    if (finished.ok) return;
    expect(finished.msg).toMatch(/^updating the GitHub deployment failed: HTTP 422: Validation Failed/);
    expect(finished.msg).not.toContain(TOKEN);
    expect(output).not.toContain(TOKEN);
    expect(api.requests.at(-1)!.body).toMatchObject({ state: 'failure', description: 'stack-deploy failed on pi2' });
    expect(api.requests.at(-1)!.body).not.toHaveProperty('environment_url');
  });

  it('fake GitHub API: an unknown repository gives a failed result', async () => {
    const target = { ...(deploymentTargetFromEnv(jobEnv()) as DeploymentTarget), repo: 'other' };
    const started = await startDeployment(target, 'deploy');
    expect(started).toMatchObject({ ok: false });
    if (!started.ok) expect(started.msg).toMatch(/HTTP 404: Not Found/);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /repos/digitaljazz/other/deployments']);
  });

  it('fake GitHub API: trackDeployment wraps a deploy and reports its outcome, or stays out of the way', async () => {
    const warnings: string[] = [];
    const code = await trackDeployment(
      'deploy flink-fridge:2.3.0',
      async () => 2,
      (c) => ({ outcome: c === 0 ? 'success' : 'failure', description: `exit ${c}` }),
      (m) => warnings.push(m),
      jobEnv(),
    );
    expect(code).toBe(2);
    expect(warnings).toEqual([]);
    expect(api.requests.map((r) => r.body.state ?? 'create')).toEqual(['create', 'in_progress', 'failure']);

    // Outside a job: the work runs, GitHub is not called.
    api.requests.length = 0;
    const local = await trackDeployment('deploy', async () => 0, () => ({ outcome: 'success', description: '' }), (m) => warnings.push(m), {});
    expect(local).toBe(0);
    expect(api.requests).toEqual([]);

    // GitHub refusing is a warning; the deploy's own result stands.
    api.statusReply = 422;
    const refused = await trackDeployment('deploy', async () => 0, () => ({ outcome: 'success', description: 'ok' }), (m) => warnings.push(m), jobEnv());
    expect(refused).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/^creating the GitHub deployment failed: HTTP 422/)]);
  });

  it('fake GitHub API: a deploy that throws marks the deployment as error and rethrows', async () => {
    await expect(
      trackDeployment('deploy', async () => { throw new Error('bug'); }, () => ({ outcome: 'success', description: '' }), () => undefined, jobEnv()),
    ).rejects.toThrow('bug');
    expect(api.requests.at(-1)!.body).toMatchObject({ state: 'error', description: 'deploy stopped on an internal error' });
  });
});
