import { describe, expect, it } from 'vitest';
import { deployedImageStep, emulatedPlatform, platformDigest, repositoryOf } from '../../tasks/lib/deploy/emulation.ts';
import { ctxFor, inventory } from './steps-fixture.ts';

const list = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { digest: 'sha256:aaa', platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { digest: 'sha256:att', platform: { os: 'unknown', architecture: 'unknown' } },
  ],
});
const REF = '10.77.0.1:5000/fridge/flink:afc7bdd@sha256:list';

describe('armv7 mode on amd64 node engines (virtual only)', () => {
  it('emulates the first platform only on a virtual inventory whose platforms lack the engine', () => {
    expect(emulatedPlatform({ virtual: true, platforms: ['linux/arm/v7'] }, 'linux/amd64')).toBe('linux/arm/v7');
    expect(emulatedPlatform({ virtual: true, platforms: ['linux/amd64'] }, 'linux/amd64')).toBeUndefined();
    expect(emulatedPlatform({ virtual: true, platforms: ['linux/arm64/v8'] }, 'linux/arm64')).toBeUndefined();
    // A real Pi whose engine lacks the image's platform is a doomed deploy, not an emulation.
    expect(emulatedPlatform({ virtual: false, platforms: ['linux/arm/v7'] }, 'linux/amd64')).toBeUndefined();
  });
  it('picks the platform digest from the list, and keeps a registry port out of the repository', () => {
    expect(platformDigest(list, 'linux/arm/v7')).toEqual({ digest: 'sha256:aaa' });
    expect(platformDigest(list, 'linux/arm64')).toEqual({ error: 'the image lacks linux/arm64', listed: ['linux/arm/v7'] });
    expect(repositoryOf(REF)).toBe('10.77.0.1:5000/fridge/flink');
    expect(repositoryOf('10.77.0.1:5000/fridge/flink')).toBe('10.77.0.1:5000/fridge/flink');
  });
  it('plans: the list as given on a matching engine; the pinned platform manifest under emulation; unmet when not pushed yet', () => {
    const inv = inventory();
    const arm = { ...inv, cluster: { ...inv.cluster, platforms: ['linux/arm/v7'] } };
    const step = deployedImageStep(arm, REF);
    const ctx = ctxFor('pi1', { inv: arm });
    const emulated = { engine: 'linux/amd64', manifest: { code: 0, stdout: list, stderr: '' } };
    expect(step.plan(emulated, ctx)).toEqual({ kind: 'ok', msg: 'linux/arm/v7 under QEMU on linux/amd64 engines: 10.77.0.1:5000/fridge/flink@sha256:aaa' });
    expect(step.output?.(emulated)).toEqual({ ref: '10.77.0.1:5000/fridge/flink@sha256:aaa', emulates: 'linux/arm/v7' });
    expect(step.plan({ engine: 'linux/arm/v7' }, ctx)).toEqual({ kind: 'ok', msg: REF });
    expect(step.output?.({ engine: 'linux/arm/v7' })).toEqual({ ref: REF });
    const absent = { engine: 'linux/amd64', manifest: { code: 1, stdout: '', stderr: 'no such manifest: x' } };
    expect(step.plan(absent, ctx)).toMatchObject({ kind: 'unmet', inCheck: { skip: expect.stringContaining('image-build would push it') } });
  });
});
