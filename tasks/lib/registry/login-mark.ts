// Whether a registry login is due: the credentials the inventory names, compared with the ones used last.
// Docker's config.json only says that *some* login happened, so a rotated token would never be used; a
// mark kept next to it records a salted SHA-256 of what was used — never the value — and the plan logs in
// again when it differs. Pure functions: the steps gather the mark and apply the login.
import { createHash, randomBytes } from 'node:crypto';

/** What was used last, as written in the mark file: `<salt> <sha256>`. */
export interface LoginMark {
  salt: string;
  digest: string;
}

export interface LoginFacts {
  /** The mark file's text; undefined when there is none. */
  mark: string | undefined;
  /** Docker's config.json names the registry (a login is on record there). */
  configHasHost: boolean;
}

export interface RegistryCredentials {
  host: string;
  user: string;
  token: string;
}

export type LoginPlan = { login: false } | { login: true; why: string; mark: string };

/**
 * A salt per mark (random, stored beside the digest) keeps a digest of a short token from being looked up
 * in a precomputed table, and lets any machine that runs Fridge (a laptop, the CI runner) compare with it.
 */
export function freshSalt(): string {
  return randomBytes(16).toString('hex');
}

export function loginDigest(salt: string, c: RegistryCredentials): string {
  return createHash('sha256').update(`fridge-registry-login\0${salt}\0${c.host}\0${c.user}\0${c.token}`).digest('hex');
}

export function parseLoginMark(text: string | undefined): LoginMark | undefined {
  const m = /^([0-9a-f]{32}) ([0-9a-f]{64})\s*$/.exec(text ?? '');
  return m?.[1] && m[2] ? { salt: m[1], digest: m[2] } : undefined;
}

export function formatLoginMark(mark: LoginMark): string {
  return `${mark.salt} ${mark.digest}\n`;
}

/** The mark file's name for a registry (host[:port] → a file name). */
export function markFileName(host: string): string {
  return `fridge-login-${host.replace(/[^A-Za-z0-9._-]/g, '_')}.sha256`;
}

export function planLogin(facts: LoginFacts, creds: RegistryCredentials, salt: string): LoginPlan {
  const last = parseLoginMark(facts.mark);
  const next = (why: string): LoginPlan => ({ login: true, why, mark: formatLoginMark({ salt, digest: loginDigest(salt, creds) }) });
  if (!facts.configHasHost) return next('not logged in');
  if (!last) return next('no record of the credentials used last');
  if (loginDigest(last.salt, creds) !== last.digest) return next('credentials changed since the last login');
  return { login: false };
}
