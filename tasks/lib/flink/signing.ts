// The virtual fridge's stand-in for Apache's release signature. Its distribution is assembled here from PyPI,
// so no Apache release manager signed it: it is signed with a project-local key generated once into
// .fridge/flink-signing/. That key is the virtual fridge's trust root — it proves only that the tarball the
// build fetched is the one this machine assembled — while production pins Apache's release-manager keys
// from https://downloads.apache.org/flink/KEYS (release-keys.ts). Both go through the same check,
// docker/verify-release.sh, in the image build: a signature by the pinned key, not a checksum from the
// server that served the tarball.

import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { STATE_DIR } from '../paths.ts';
import { DOCKER_DIR } from '../image/base.ts';
import { exists } from './distribution.ts';

export const LOCAL_SIGNING_HOME = path.join(STATE_DIR, 'flink-signing');
const VERIFY_SCRIPT = path.join(DOCKER_DIR, 'verify-release.sh');
const KEY_NAME = 'Fridge virtual fridge Flink distribution (local key, not Apache) <fridge@localhost>';

export interface SigningKey {
  /** GNUPGHOME holding the key. */
  home: string;
  /** Full fingerprint of the primary key: the pinned key of the image build. */
  fingerprint: string;
}

export interface SignedFile {
  /** The detached ASCII-armoured signature, FILE.asc. */
  signature: string;
  /** A KEYS file with the public key, as Apache publishes one. */
  keys: string;
  fingerprint: string;
}

export type Verdict = { ok: true; msg: string } | { ok: false; msg: string };

const gpg = (home: string) => $({ quiet: true, nothrow: true, env: { ...process.env, GNUPGHOME: home } });

async function fingerprintIn(home: string): Promise<string | undefined> {
  const r = await gpg(home)`gpg --batch --with-colons --list-secret-keys`;
  if (r.exitCode !== 0) return undefined;
  return /^fpr:+([0-9A-F]{40}):/m.exec(r.stdout)?.[1];
}

/** The key in `home`, generated on first use (ed25519, no passphrase: it only ever signs local artefacts). */
export async function ensureSigningKey(home: string = LOCAL_SIGNING_HOME): Promise<SigningKey> {
  const have = (await exists(home)) ? await fingerprintIn(home) : undefined;
  if (have) {
    await gpg(home)`gpgconf --kill gpg-agent`;
    return { home, fingerprint: have };
  }
  await mkdir(path.dirname(home), { recursive: true });
  // Made aside and renamed into place: a concurrent run never sees a home without its key.
  const work = await mkdtemp(path.join(path.dirname(home), `.${path.basename(home)}-`));
  try {
    const made = await gpg(work)`gpg --batch --pinentry-mode loopback --passphrase ${''} --quick-gen-key ${KEY_NAME} ed25519 sign never`;
    if (made.exitCode !== 0) throw new Error(`gpg could not generate the local signing key: ${made.stderr.trim()}`);
    await gpg(work)`gpgconf --kill gpg-agent`;
    await rename(work, home).catch(async () => rm(work, { recursive: true, force: true }));
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
  const fingerprint = await fingerprintIn(home);
  await gpg(home)`gpgconf --kill gpg-agent`;
  if (!fingerprint) throw new Error(`bug: no signing key in ${home} after generating one`);
  return { home, fingerprint };
}

/** Runs the image build's own check (docker/verify-release.sh) on this machine. */
export async function verifyRelease(file: string, signature: string, keys: string, fingerprint: string): Promise<Verdict> {
  const r = await $({ quiet: true, nothrow: true })`sh ${VERIFY_SCRIPT} ${file} ${signature} ${keys} ${fingerprint}`;
  const msg = (r.exitCode === 0 ? r.stdout : r.stderr).trim().replace(/^verify-release: /, '');
  return r.exitCode === 0 ? { ok: true, msg } : { ok: false, msg };
}

/**
 * Signs `file` once: FILE.asc and KEYS beside it are kept while they still verify, so the bytes the build's
 * ADD fetches stay the same from one build to the next (a new signature would invalidate its cache).
 */
export async function signFile(file: string, key: SigningKey): Promise<SignedFile> {
  const signature = `${file}.asc`;
  const keys = path.join(path.dirname(file), 'KEYS');
  const exported = await gpg(key.home)`gpg --batch --armor --export ${key.fingerprint}`;
  if (exported.exitCode !== 0 || !exported.stdout.includes('BEGIN PGP PUBLIC KEY BLOCK')) throw new Error(`gpg could not export the local signing key: ${exported.stderr.trim()}`);
  const current = await readFile(keys, 'utf8').catch(() => undefined);
  if (current !== exported.stdout) await writeFile(keys, exported.stdout);
  if ((await exists(signature)) && (await verifyRelease(file, signature, keys, key.fingerprint)).ok) return { signature, keys, fingerprint: key.fingerprint };
  const tmp = `${signature}.tmp`;
  const signed = await gpg(key.home)`gpg --batch --yes --pinentry-mode loopback --passphrase ${''} --local-user ${key.fingerprint} --armor --detach-sign --output ${tmp} ${file}`;
  await gpg(key.home)`gpgconf --kill gpg-agent`;
  if (signed.exitCode !== 0) throw new Error(`gpg could not sign ${file}: ${signed.stderr.trim()}`);
  await rename(tmp, signature);
  return { signature, keys, fingerprint: key.fingerprint };
}
