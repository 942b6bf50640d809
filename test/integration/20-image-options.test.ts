// Fast checks of the image build's edges: credentials come only from the environment and are never
// echoed; unknown platforms are refused before anything is built.
import { describe, expect, it } from 'vitest';
import type { ImageBuildOptions } from '../../tasks/lib/image/build.ts';
import { buildInRun } from './image-run.ts';

const base: ImageBuildOptions = {
  version: '2.3.0',
  platforms: ['linux/amd64'],
  registry: { host: '127.0.0.1:5999', repository: 'fridge-image-test/flink', insecure: true, usernameEnv: 'FRIDGE_TEST_REG_USER', passwordEnv: 'FRIDGE_TEST_REG_TOKEN' },
  stateDir: '/srv/flink',
};

describe('buildImage preconditions', () => {
  it('names the missing credential variables, never a value', async () => {
    const r = await buildInRun({ ...base, env: { FRIDGE_TEST_REG_USER: 'someone' } });
    expect(r.status).toBe('failed');
    expect(r.msg).toBe('registry 127.0.0.1:5999 needs credentials: set FRIDGE_TEST_REG_TOKEN in the environment');
    expect(r.actions).toEqual([]);
  });

  it('masks a password that a failing docker login might echo', async () => {
    const secret = 'fridge-test-token-0123456789';
    const r = await buildInRun({ ...base, env: { FRIDGE_TEST_REG_USER: 'someone', FRIDGE_TEST_REG_TOKEN: secret } });
    expect(r.status).toBe('failed');
    expect(r.msg).toMatch(/^docker login 127\.0\.0\.1:5999: failed/);
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it('refuses a platform it cannot build', async () => {
    const r = await buildInRun({ ...base, platforms: ['linux/s390x'], registry: { ...base.registry, usernameEnv: undefined, passwordEnv: undefined } });
    expect(r).toMatchObject({ status: 'failed', msg: 'platform linux/s390x is not supported (linux/amd64, linux/arm64, linux/arm/v7)' });
  });
});
