// SHA-512 crypt ($6$) hashes for userconf.txt and cloud-init's passwd, through `openssl passwd -6`.
// The password goes through stdin (-stdin), never on a command line where ps would show it.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const SALT_CHARS = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newSalt(): string {
  return [...randomBytes(16)].map((b) => SALT_CHARS[b % 64]).join('');
}

export type Hashed = { ok: true; hash: string } | { ok: false; error: string };

export function sha512Crypt(password: string, salt: string): Hashed {
  const r = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n`, encoding: 'utf8' });
  if (r.error) return { ok: false, error: `openssl passwd: ${r.error.message} (install openssl)` };
  const hash = r.stdout.trim();
  if (r.status !== 0 || !/^\$6\$/.test(hash)) return { ok: false, error: `openssl passwd -6 failed: ${r.stderr.trim()}` };
  return { ok: true, hash };
}

/** The salt of a `$6$[rounds=N$]salt$hash` string, undefined when it is not one. */
export function saltOf(hash: string): string | undefined {
  const m = /^\$6\$(rounds=\d+\$)?([^$]{1,16})\$[./0-9A-Za-z]{86}$/.exec(hash);
  return m?.[2] ? `${m[1] ?? ''}${m[2]}` : undefined;
}

/** Whether an existing hash on the card is this password's (then it is kept: a second run changes nothing). */
export function hashMatches(password: string, hash: string): boolean {
  const salt = saltOf(hash);
  if (salt === undefined) return false;
  const again = sha512Crypt(password, salt.replace(/^rounds=\d+\$/, ''));
  // `openssl passwd` has no rounds option: a hash with explicit rounds is simply rewritten.
  return !salt.startsWith('rounds=') && again.ok && again.hash === hash;
}
