// SSH hardening: install the operator's key; only once a key-only login is proven, turn password
// login off and lock the default password, so a mistake can never lock the operator out.
import fs from 'node:fs';
import type { CallOutcome, HostContext, Step } from '../engine/types.ts';
import { SSHD_DROPIN, type SshFacts } from '../facts/ssh.ts';
import { gatherSsh } from '../facts/gather.ts';
import { waitFor, waitingProgress, type Probe } from '../engine/wait.ts';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import { openTransport } from '../transport/open.ts';
import { shq } from '../transport/types.ts';
import { change, diffOf, fail, inlineContent, ok, sh, skip, unmetThen, withManagedBlock, writeFile } from './common.ts';
import { reloadSshd } from './services.ts';

/** The operator's public key file: fridge_authorized_key_file, else the private key's .pub. */
export function publicKeyFile(host: HostSpec, inv: Inventory): string | undefined {
  return inv.cluster.authorizedKeyFile ?? (host.keyFile ? `${host.keyFile}.pub` : undefined);
}

function readKey(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The base64 blob identifies a key; type prefix, options and comment do not. */
export function keyBlob(line: string): string | undefined {
  return line
    .trim()
    .split(/\s+/)
    .find((tok) => /^AAAA[A-Za-z0-9+/=]{20,}$/.test(tok));
}

export function hasKey(authorizedKeys: string | undefined, publicKey: string): boolean {
  const blob = keyBlob(publicKey);
  if (!blob || !authorizedKeys) return false;
  return authorizedKeys.split('\n').some((l) => !l.trim().startsWith('#') && keyBlob(l) === blob);
}

export interface KeyFacts extends SshFacts {
  publicKeyFile: string | undefined;
  publicKey: string | undefined;
}

async function gatherWithKey(ctx: HostContext): Promise<KeyFacts> {
  const file = publicKeyFile(ctx.host, ctx.inventory);
  return { ...(await gatherSsh(ctx)), publicKeyFile: file, publicKey: readKey(file) };
}

/** sshd re-executes itself on reload and refuses connections for a moment: these errors are worth another try. */
const TRANSIENT = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|handshake|timed out/i;

/** One key-only login: its outcome, or the transient error to try again after. */
async function tryKeyLogin(h: HostSpec): Promise<Probe<{ outcome: CallOutcome }>> {
  try {
    const t = await openTransport(h, { auth: 'inventory-key' });
    try {
      const r = await t.exec('true');
      return { done: true, result: { outcome: r.code === 0 ? { ok: true } : { ok: false, msg: `key login to ${h.user}@${h.address} ran but 'true' exited ${r.code}` } } };
    } finally {
      await t.close();
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return TRANSIENT.test(msg) ? { done: false, last: msg } : { done: true, result: { outcome: keyLoginFailed(h, msg) } };
  }
}

function keyLoginFailed(h: HostSpec, msg: string): CallOutcome {
  return { ok: false, msg: `key-only login to ${h.user}@${h.address} failed, password login left on: ${msg}` };
}

/** Opens a second connection that may only use the key: proof before any password is taken away.
 * Transient refusals (sshd reloading) are retried until `retryMs` has passed; then the last error is reported. */
export async function proveKeyLogin(ctx: HostContext, retryMs = 15_000): Promise<CallOutcome> {
  const r = await waitFor(() => tryKeyLogin(ctx.host), { timeoutMs: retryMs, intervalMs: 500, ...waitingProgress(ctx.progress) });
  return 'outcome' in r ? r.outcome : keyLoginFailed(ctx.host, r.last);
}

const proof = { kind: 'call' as const, label: 'prove key login', fn: proveKeyLogin };

export const authorizedKeyStep: Step<KeyFacts> = {
  name: 'ssh authorized key',
  gather: gatherWithKey,
  plan(f, ctx) {
    const user = ctx.host.user;
    if (!f.publicKeyFile) return skip('no fridge_authorized_key_file and no ansible_ssh_private_key_file: key login not set up, password login stays');
    if (!f.home) return fail(`user ${user} does not exist on the host`);
    if (!f.publicKey) {
      // Check mode before the key pair exists: the real run creates it first.
      return unmetThen(`cannot read the public key ${f.publicKeyFile}`, { summary: `install ${f.publicKeyFile} (to be created) for ${user}`, actions: [] });
    }
    if (hasKey(f.authorizedKeys, f.publicKey)) return ok(`${f.publicKeyFile} authorized for ${user}`);
    const dir = `${f.home}/.ssh`;
    const file = `${dir}/authorized_keys`;
    const script = [
      `umask 077; mkdir -p ${shq(dir)}; touch ${shq(file)}`,
      // Keep an existing last line intact when it has no newline.
      `if [ -s ${shq(file)} ] && [ -n "$(tail -c1 ${shq(file)})" ]; then echo >> ${shq(file)}; fi`,
      `${inlineContent(`${f.publicKey}\n`)} >> ${shq(file)}`,
      `chmod 700 ${shq(dir)}; chmod 600 ${shq(file)}; chown -R ${shq(user)}: ${shq(dir)}`,
    ].join('\n');
    return change({ summary: `authorize ${f.publicKeyFile} for ${user}`, actions: [sh(script)] });
  },
};

export const DROPIN_CONTENT = '# Managed by Fridge pi-setup: key login only.\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n';
const BEGIN = '# BEGIN fridge hardening (managed by pi-setup)';
const END = '# END fridge hardening';

function keyLoginPossible(ctx: HostContext): string | undefined {
  if (!ctx.host.keyFile) return 'no ansible_ssh_private_key_file: cannot prove key login, password login stays on';
  if (!publicKeyFile(ctx.host, ctx.inventory)) return 'no key to authorize: password login stays on';
  return undefined;
}

export const passwordLoginStep: Step<SshFacts> = {
  name: 'ssh password login off',
  gather: (ctx) => gatherSsh(ctx),
  plan(f, ctx) {
    const why = keyLoginPossible(ctx);
    if (why) return skip(why);
    if (f.passwordAuth === 'no') return ok('sshd refuses passwords');
    if (f.passwordAuth === '') return fail('cannot read sshd settings (sshd -T)');
    // sshd keeps the first value it reads: our drop-in (00-) or a block at the top of sshd_config.
    if (f.includesDropins) {
      if (f.dropin === DROPIN_CONTENT) return fail(`${SSHD_DROPIN} says PasswordAuthentication no, but sshd still allows passwords: an earlier drop-in or sshd_config line wins`);
      return change({
        summary: 'turn sshd password login off',
        actions: [proof, writeFile(SSHD_DROPIN, DROPIN_CONTENT, 0o644), sh(`sshd -t && ${reloadSshd(f.init)}`)],
        diff: diffOf(SSHD_DROPIN, f.dropin, DROPIN_CONTENT),
      });
    }
    const after = withManagedBlock(f.sshdConfig, BEGIN, END, ['PasswordAuthentication no', 'ChallengeResponseAuthentication no'], 'top');
    if (after === f.sshdConfig) return fail('/etc/ssh/sshd_config has the fridge block, but sshd still allows passwords');
    return change({
      summary: 'turn sshd password login off',
      actions: [proof, writeFile('/etc/ssh/sshd_config', after, 0o644), sh(`sshd -t && ${reloadSshd(f.init)}`)],
      diff: diffOf('/etc/ssh/sshd_config', f.sshdConfig, after),
    });
  },
};

export const lockPasswordStep: Step<SshFacts> = {
  name: 'lock default password',
  gather: (ctx) => gatherSsh(ctx),
  plan(f, ctx) {
    const user = ctx.host.user;
    const why = keyLoginPossible(ctx);
    if (why) return skip(why);
    if (f.passwordStatus === 'L' || f.passwordStatus === 'NP') return ok(`password of ${user} is locked`);
    if (!f.nopasswdSudo) return skip(`sudo asks ${user} for a password: locking it would lock ${user} out of sudo; add a NOPASSWD sudoers rule first`);
    return change({ summary: `lock the password of ${user}`, actions: [proof, sh(`usermod -L ${shq(user)}`)] });
  },
};
