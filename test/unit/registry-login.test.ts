// Issue #15 item 4: the registry login follows the credentials the inventory names, not merely whether
// docker's config.json mentions the registry: a rotated token is used, an unchanged one is not re-sent.
import { describe, expect, it } from 'vitest';
import { registryLoginStep } from '../../tasks/lib/steps/stack/registry-login.ts';
import type { HostContext } from '../../tasks/lib/engine/types.ts';
import { formatLoginMark, loginDigest, markFileName, planLogin } from '../../tasks/lib/registry/login-mark.ts';
import type { ExecResult, Transport } from '../../tasks/lib/transport/types.ts';
import { commands, ctxFor, inventory } from './steps-fixture.ts';

const SALT = '0123456789abcdef0123456789abcdef';
const OLD = { REG_USER: 'fridge', REG_TOKEN: 'dckr_pat_OLD-token-1' };
const NEW = { REG_USER: 'fridge', REG_TOKEN: 'dckr_pat_NEW-token-2' };
const inv = inventory('    fridge_registry_username_env: REG_USER\n    fridge_registry_password_env: REG_TOKEN\n', { virtual: false, hub: true });
const markFor = (env: typeof OLD) => formatLoginMark({ salt: SALT, digest: loginDigest(SALT, { host: 'docker.io', user: env.REG_USER, token: env.REG_TOKEN }) });

/** A leader whose gather command answers with this mark file and config.json. */
function leader(mark: string | undefined, configHasHost: boolean): HostContext {
  const ctx = ctxFor('pi1', { inv });
  const exec = async (command: string): Promise<ExecResult> => {
    expect(command).toContain(markFileName('docker.io'));
    return { code: 0, stdout: `${mark ?? ''}\n---\n${configHasHost ? 'logged-in\n' : ''}`, stderr: '' };
  };
  const transport: Transport = { ...ctx.transport, exec };
  return { ...ctx, transport };
}

async function decide(env: typeof OLD, mark: string | undefined, configHasHost: boolean) {
  const step = registryLoginStep(inv, env, SALT);
  const facts = await step.gather(leader(mark, configHasHost));
  return step.plan(facts, ctxFor('pi1', { inv }));
}

describe('registry login step', () => {
  it('logs in when docker has no login for the registry, and records a salted digest, not the token', async () => {
    const plan = await decide(OLD, undefined, false);
    expect(plan.kind).toBe('change');
    if (plan.kind !== 'change') return;
    expect(plan.changes[0]?.summary).toBe('docker login docker.io as $REG_USER (not logged in)');
    const [cmd] = commands(plan);
    expect(cmd).toContain('docker login -u fridge --password-stdin docker.io');
    expect(cmd).toContain(markFor(OLD).trim());
    expect(cmd).not.toContain(OLD.REG_TOKEN);
    expect(plan.changes[0]?.actions[0]).toMatchObject({ kind: 'run', stdin: OLD.REG_TOKEN, sudo: true });
  });
  it('is ok (changed=0) when the same credentials were used last', async () => {
    expect(await decide(OLD, markFor(OLD), true)).toEqual({ kind: 'ok', msg: 'logged in to docker.io with the credentials in $REG_USER/$REG_TOKEN' });
  });
  it('logs in again with a rotated token, although config.json already mentions the registry', async () => {
    const plan = await decide(NEW, markFor(OLD), true);
    expect(plan.kind === 'change' && plan.changes[0]?.summary).toBe('docker login docker.io as $REG_USER (credentials changed since the last login)');
    expect(commands(plan)[0]).toContain(markFor(NEW).trim());
  });
  it('logs in once when a login exists but Fridge has no record of it (made by hand, or before this mark)', async () => {
    const plan = await decide(OLD, undefined, true);
    expect(plan.kind === 'change' && plan.changes[0]?.summary).toBe('docker login docker.io as $REG_USER (no record of the credentials used last)');
  });
  it('logs in when the mark is there but docker\'s login is gone (docker logout)', async () => {
    const plan = await decide(OLD, markFor(OLD), false);
    expect(plan.kind).toBe('change');
  });
  it('does not fail an existing login when the credentials are not in this environment', async () => {
    const plan = await decide({ REG_USER: '', REG_TOKEN: '' }, markFor(OLD), true);
    expect(plan.kind).toBe('ok');
  });
  it('fails with the variables to set when there is neither a login nor credentials', async () => {
    expect(await decide({ REG_USER: '', REG_TOKEN: '' }, undefined, false)).toEqual({ kind: 'fail', msg: 'registry credentials: set REG_USER and REG_TOKEN' });
  });
});

describe('planLogin', () => {
  const creds = { host: 'docker.io', user: 'u', token: 't' };
  it('a different user with the same token is a change too', () => {
    const mark = formatLoginMark({ salt: SALT, digest: loginDigest(SALT, creds) });
    expect(planLogin({ mark, configHasHost: true }, creds, SALT)).toEqual({ login: false });
    expect(planLogin({ mark, configHasHost: true }, { ...creds, user: 'v' }, SALT)).toMatchObject({ login: true });
  });
  it('a garbled mark is no record', () => {
    expect(planLogin({ mark: 'not a mark', configHasHost: true }, creds, SALT)).toMatchObject({ login: true, why: 'no record of the credentials used last' });
  });
});

describe('image-build login on this machine', () => {
  it('logs in with a rotated token although ~/.docker/config.json mentions the registry; not again after', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { localLoginFacts, writeLocalLoginMark } = await import('../../tasks/lib/registry/local-login.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-login-'));
    try {
      const env = { DOCKER_CONFIG: path.join(dir, 'docker') };
      fs.mkdirSync(env.DOCKER_CONFIG);
      fs.writeFileSync(path.join(env.DOCKER_CONFIG, 'config.json'), '{"auths":{"docker.io":{"auth":"Zm9vOmJhcg=="}}}');
      const marks = path.join(dir, 'marks');
      const creds = { host: 'docker.io', user: 'fridge', token: NEW.REG_TOKEN };
      await writeLocalLoginMark('docker.io', markFor(OLD), marks);
      expect(fs.statSync(path.join(marks, markFileName('docker.io'))).mode & 0o777).toBe(0o600);
      const first = planLogin(await localLoginFacts('docker.io', env, marks), creds, SALT);
      expect(first).toMatchObject({ login: true, why: 'credentials changed since the last login' });
      if (first.login) await writeLocalLoginMark('docker.io', first.mark, marks);
      expect(planLogin(await localLoginFacts('docker.io', env, marks), creds, SALT)).toEqual({ login: false });
      expect(fs.readFileSync(path.join(marks, markFileName('docker.io')), 'utf8')).not.toContain(NEW.REG_TOKEN);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
