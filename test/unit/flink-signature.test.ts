// Issue #15 item 5: the Flink tarball is trusted for its GPG signature by the pinned key, checked with the
// image build's own script (docker/verify-release.sh), not for a SHA-512 served beside it. Throwaway keys
// in a temporary GNUPGHOME; gpg and gpgv are on this machine (prepare-host.sh installs gnupg).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { ensureSigningKey, signFile, verifyRelease, type SigningKey } from '../../tasks/lib/flink/signing.ts';
import { FLINK_RELEASE_KEYS, releaseSigningKey } from '../../tasks/lib/flink/release-keys.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-sig-'));
let pinned: SigningKey;
let other: SigningKey;
const tarball = path.join(dir, 'dist', 'flink-9.9.9-bin.tgz');

beforeAll(async () => {
  [pinned, other] = await Promise.all([ensureSigningKey(path.join(dir, 'pinned')), ensureSigningKey(path.join(dir, 'other'))]);
  fs.mkdirSync(path.dirname(tarball));
  fs.writeFileSync(tarball, 'not really flink, but signed like it\n');
}, 20_000);
afterAll(async () => {
  for (const k of [pinned, other]) if (k) await $({ quiet: true, nothrow: true, env: { ...process.env, GNUPGHOME: k.home } })`gpgconf --kill all`;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('release signature', () => {
  it('passes a good signature by the pinned key', async () => {
    const s = await signFile(tarball, pinned);
    expect(fs.readFileSync(s.signature, 'utf8')).toContain('BEGIN PGP SIGNATURE');
    expect(fs.readFileSync(s.keys, 'utf8')).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    expect(await verifyRelease(tarball, s.signature, s.keys, pinned.fingerprint)).toEqual({ ok: true, msg: `good signature on flink-9.9.9-bin.tgz by the pinned key ${pinned.fingerprint}` });
  });

  it('keeps a signature that still verifies (the build\'s ADD cache stays valid) and the key it made once', async () => {
    const before = fs.readFileSync(`${tarball}.asc`, 'utf8');
    await signFile(tarball, pinned);
    expect(fs.readFileSync(`${tarball}.asc`, 'utf8')).toBe(before);
    expect((await ensureSigningKey(pinned.home)).fingerprint).toBe(pinned.fingerprint);
  });

  it('fails a tampered tarball, saying so', async () => {
    const copy = path.join(dir, 'tampered', 'flink-9.9.9-bin.tgz');
    fs.mkdirSync(path.dirname(copy));
    fs.writeFileSync(copy, 'not really flink, but signed like it\nplus a backdoor\n');
    expect(await verifyRelease(copy, `${tarball}.asc`, path.join(path.dirname(tarball), 'KEYS'), pinned.fingerprint)).toEqual({
      ok: false,
      msg: 'BAD signature: flink-9.9.9-bin.tgz does not match flink-9.9.9-bin.tgz.asc: it was altered or corrupted after signing: refusing it',
    });
  });

  it('fails a good signature by a key that is in KEYS but not the pinned one', async () => {
    const d = path.join(dir, 'other-signed');
    fs.mkdirSync(d);
    const copy = path.join(d, 'flink-9.9.9-bin.tgz');
    fs.copyFileSync(tarball, copy);
    const s = await signFile(copy, other);
    // KEYS with both keys, as Apache's holds every committer's.
    fs.appendFileSync(s.keys, fs.readFileSync(path.join(path.dirname(tarball), 'KEYS')));
    expect(await verifyRelease(copy, s.signature, s.keys, pinned.fingerprint)).toEqual({
      ok: false,
      msg: `flink-9.9.9-bin.tgz is signed by key ${other.fingerprint}, not by the key pinned for this release (${pinned.fingerprint}): refusing it`,
    });
  });

  it('fails a signature by a key that KEYS does not hold', async () => {
    const d = path.join(dir, 'other-signed');
    const result = await verifyRelease(path.join(d, 'flink-9.9.9-bin.tgz'), path.join(d, 'flink-9.9.9-bin.tgz.asc'), path.join(path.dirname(tarball), 'KEYS'), pinned.fingerprint);
    expect(result).toEqual({ ok: false, msg: `flink-9.9.9-bin.tgz is signed by key ${other.fingerprint.slice(-16)}, which is not in KEYS (the pinned key is ${pinned.fingerprint}): refusing it` });
  });

  it('refuses to run without a pinned key', async () => {
    const r = await verifyRelease(tarball, `${tarball}.asc`, path.join(path.dirname(tarball), 'KEYS'), '');
    expect(r).toEqual({ ok: false, msg: "no signing key pinned for flink-9.9.9-bin.tgz: give the release key's full 40-hex fingerprint (FLINK_GPG_KEY), not ''" });
  });
});

describe('release keys', () => {
  it('pins a full fingerprint per known release; FRIDGE_FLINK_GPG_KEY pins one not yet known', () => {
    for (const fpr of Object.values(FLINK_RELEASE_KEYS)) expect(fpr).toMatch(/^[0-9A-F]{40}$/);
    expect(releaseSigningKey('2.2.1', {})).toBe('F7529FAE24811A5C0DF3CA741596BBF0726835D8');
    expect(releaseSigningKey('9.9.9', {})).toBeUndefined();
    expect(releaseSigningKey('9.9.9', { FRIDGE_FLINK_GPG_KEY: 'f752 9fae 2481 1a5c 0df3  ca74 1596 bbf0 7268 35d8' })).toBe('F7529FAE24811A5C0DF3CA741596BBF0726835D8');
  });
});

describe('the image build runs the same check', () => {
  it('the Dockerfile verifies the signature with verify-release.sh before unpacking, and the context carries it', async () => {
    const { PROJECT_ROOT } = await import('../../tasks/lib/paths.ts');
    const dockerfile = fs.readFileSync(path.join(PROJECT_ROOT, 'docker', 'Dockerfile'), 'utf8');
    const fetch = dockerfile.slice(dockerfile.indexOf('AS fetch'), dockerfile.indexOf('FROM ${BASE_IMAGE}\n'));
    expect(fetch).toContain('ADD ${FLINK_ASC_URL} /tmp/flink.tgz.asc');
    expect(fetch).toContain('ADD ${FLINK_KEYS_URL} /tmp/KEYS');
    const verify = fetch.indexOf('fridge-verify-release /tmp/flink.tgz /tmp/flink.tgz.asc /tmp/KEYS "${FLINK_GPG_KEY:-}"');
    expect(verify).toBeGreaterThan(0);
    expect(verify).toBeLessThan(fetch.indexOf('tar -xzf /tmp/flink.tgz'));
    const { imageBuildArgs } = await import('../../tasks/lib/image/inputs.ts');
    const args = imageBuildArgs({ version: '2.2.1', distribution: { url: 'https://archive.apache.org/x.tgz', sha512: 'ab' }, confFile: 'config.yaml', revision: { sha: 'abc', created: '' } });
    expect(args).toEqual(expect.arrayContaining(['FLINK_ASC_URL=https://archive.apache.org/x.tgz.asc', 'FLINK_KEYS_URL=https://downloads.apache.org/flink/KEYS', 'FLINK_GPG_KEY=F7529FAE24811A5C0DF3CA741596BBF0726835D8']));
  });
});
