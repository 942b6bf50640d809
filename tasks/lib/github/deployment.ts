// A GitHub Deployment for the "fridge" environment: deploy opens it (in_progress) and closes it
// (success/failure, with the Flink UI as environment_url), so the repository page shows what runs on the Fridge.
// This is the only module that imports @actions/github. A failing GitHub API never fails a deploy:
// every call returns a result the caller may log as a warning.

import { getOctokit } from '@actions/github';
import { registerSecret } from '../secrets.ts';

export interface DeploymentTarget {
  owner: string;
  repo: string;
  /** Commit SHA (or ref) being deployed. */
  ref: string;
  token: string;
  /** REST API root; GITHUB_API_URL in a job (GitHub Enterprise or a test server). */
  apiUrl: string;
  environment: string;
  /** Link from the deployment to the job's log. */
  logUrl: string | undefined;
}

export interface Deployment {
  id: number;
  target: DeploymentTarget;
}

export type DeploymentOutcome = 'success' | 'failure' | 'error';

export type GithubResult<T> = { ok: true; value: T } | { ok: false; msg: string };

export const FRIDGE_ENVIRONMENT = 'fridge';

/**
 * The target described by a GitHub Actions job's environment, or undefined outside a job or without a token
 * (deploy then simply does not record a Deployment).
 */
export function deploymentTargetFromEnv(env: NodeJS.ProcessEnv = process.env, environment = FRIDGE_ENVIRONMENT): DeploymentTarget | undefined {
  const token = env.GITHUB_TOKEN;
  const repository = env.GITHUB_REPOSITORY;
  const ref = env.GITHUB_SHA;
  if (env.GITHUB_ACTIONS !== 'true' || !token || !repository || !ref) return undefined;
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) return undefined;
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  return {
    owner,
    repo,
    ref,
    token,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    environment,
    logUrl: env.GITHUB_RUN_ID ? `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}` : undefined,
  };
}

export async function startDeployment(target: DeploymentTarget, description: string): Promise<GithubResult<Deployment>> {
  registerSecret(target.token);
  const octokit = client(target);
  try {
    const created = await octokit.rest.repos.createDeployment({
      owner: target.owner,
      repo: target.repo,
      ref: target.ref,
      environment: target.environment,
      description,
      // The commit's own checks are still running (this job is one of them): do not wait for them,
      // and never merge the default branch into the deployed ref.
      required_contexts: [],
      auto_merge: false,
      production_environment: true,
      transient_environment: false,
    });
    if (!('id' in created.data)) return { ok: false, msg: `GitHub did not create a deployment: ${created.data.message ?? 'no id'}` };
    const deployment = { id: created.data.id, target };
    const status = await postStatus(deployment, 'in_progress', description, undefined);
    return status.ok ? { ok: true, value: deployment } : status;
  } catch (err) {
    return { ok: false, msg: `creating the GitHub deployment failed: ${describe(err)}` };
  }
}

export async function finishDeployment(
  deployment: Deployment,
  outcome: DeploymentOutcome,
  description: string,
  environmentUrl: string | undefined,
): Promise<GithubResult<void>> {
  try {
    return await postStatus(deployment, outcome, description, environmentUrl);
  } catch (err) {
    return { ok: false, msg: `updating the GitHub deployment failed: ${describe(err)}` };
  }
}

async function postStatus(
  deployment: Deployment,
  state: 'in_progress' | DeploymentOutcome,
  description: string,
  environmentUrl: string | undefined,
): Promise<GithubResult<void>> {
  const t = deployment.target;
  await client(t).rest.repos.createDeploymentStatus({
    owner: t.owner,
    repo: t.repo,
    deployment_id: deployment.id,
    state,
    environment: t.environment,
    // GitHub caps the description at 140 characters and rejects longer ones.
    description: description.slice(0, 140),
    ...(t.logUrl ? { log_url: t.logUrl } : {}),
    ...(environmentUrl ? { environment_url: environmentUrl } : {}),
    // A new successful deployment makes the previous ones inactive, so the environment shows one live URL.
    auto_inactive: true,
  });
  return { ok: true, value: undefined };
}

function client(target: DeploymentTarget): ReturnType<typeof getOctokit> {
  return getOctokit(target.token, { baseUrl: target.apiUrl });
}

/** Octokit's errors carry the request (headers redacted) and response; the status and message are enough. */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as Error & { status?: unknown }).status;
    return typeof status === 'number' ? `HTTP ${status}: ${err.message}` : err.message;
  }
  return String(err);
}

export interface DeploymentReport {
  outcome: DeploymentOutcome;
  description: string;
  environmentUrl?: string;
}

/**
 * Wraps a deploy: records a GitHub Deployment around `work` when running in a job with a token, and does
 * nothing else otherwise. GitHub API problems are passed to `warn`; they never change the deploy's result.
 */
export async function trackDeployment<T>(
  description: string,
  work: () => Promise<T>,
  report: (result: T) => DeploymentReport,
  warn: (msg: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const target = deploymentTargetFromEnv(env);
  if (!target) return work();
  const started = await startDeployment(target, description);
  if (!started.ok) warn(started.msg);
  const finish = async (r: DeploymentReport): Promise<void> => {
    if (!started.ok) return;
    const done = await finishDeployment(started.value, r.outcome, r.description, r.environmentUrl);
    if (!done.ok) warn(done.msg);
  };
  let result: T;
  try {
    result = await work();
  } catch (err) {
    await finish({ outcome: 'error', description: 'deploy stopped on an internal error' });
    throw err;
  }
  await finish(report(result));
  return result;
}
