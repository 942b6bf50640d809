// The SSH transport against a real OpenSSH server on loopback: commands, sudo, files, host keys.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCALHOST } from '../../tasks/lib/inventory/local-host.ts';
import type { HostSpec } from '../../tasks/lib/inventory/types.ts';
import { mask } from '../../tasks/lib/secrets.ts';
import { openSsh } from '../../tasks/lib/transport/ssh.ts';
import { setPassphrasePrompt } from '../../tasks/lib/transport/ssh-auth.ts';
import { UnreachableError } from '../../tasks/lib/transport/types.ts';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
let host: HostSpec;
let knownHosts: string;
const PASSWORD_ENV = 'FRIDGE_TEST_SSH_PASSWORD';
const savedEnv = { config: process.env.FRIDGE_SSH_CONFIG, agent: process.env.SSH_AUTH_SOCK };

beforeAll(async () => {
  // The operator's own ~/.ssh/config and agent must not change what these tests exercise.
  process.env.FRIDGE_SSH_CONFIG = 'none';
  delete process.env.SSH_AUTH_SOCK;
  sshd = await startSshd();
  knownHosts = path.join(sshd.dir, 'known_hosts');
  process.env[PASSWORD_ENV] = sshd.password;
  host = { ...LOCALHOST, name: 'sshtest', connection: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, keyFile: sshd.keyFile, passwordEnv: PASSWORD_ENV };
});
afterAll(async () => {
  delete process.env[PASSWORD_ENV];
  if (savedEnv.config === undefined) delete process.env.FRIDGE_SSH_CONFIG;
  else process.env.FRIDGE_SSH_CONFIG = savedEnv.config;
  if (savedEnv.agent !== undefined) process.env.SSH_AUTH_SOCK = savedEnv.agent;
  await sshd?.stop();
});

describe('ssh transport (real sshd)', () => {
  it('runs commands and returns exit codes and output without throwing', async () => {
    const t = await openSsh(host, { knownHostsFile: knownHosts });
    try {
      const ok = await t.exec('echo hello; echo oops >&2');
      expect(ok).toEqual({ code: 0, stdout: 'hello\n', stderr: 'oops\n' });
      const bad = await t.exec('exit 42');
      expect(bad.code).toBe(42);
      const quoted = await t.exec(`printf '%s' "$0"`, {});
      expect(quoted.code).toBe(0);
      expect((await t.exec('whoami')).stdout.trim()).toBe(sshd.user);
    } finally {
      await t.close();
    }
  });

  it('runs commands through sudo with the password on stdin, never in argv or output', async () => {
    const t = await openSsh(host, { knownHostsFile: knownHosts });
    try {
      const r = await t.exec('id -u; cat', { sudo: true, stdin: 'piped input\n' });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('0\npiped input\n');
      expect(mask(`${r.stdout}${r.stderr}`)).not.toContain(sshd.password);
    } finally {
      await t.close();
    }
  });

  it('writes files atomically with mode and owner (sudo), reads them back, uploads local files', async () => {
    const t = await openSsh(host, { knownHostsFile: knownHosts });
    const target = `/etc/fridge-transport-test-${sshd.port}.conf`;
    try {
      await t.put(target, 'key = "value with spaces"\n', { sudo: true, mode: 0o600 });
      expect(fs.readFileSync(target, 'utf8')).toBe('key = "value with spaces"\n');
      expect(fs.statSync(target).mode & 0o777).toBe(0o600);
      expect(await t.get(target, { sudo: true })).toBe('key = "value with spaces"\n');
      expect(await t.get('/nonexistent/file')).toBeUndefined();

      const local = path.join(sshd.dir, 'blob.bin');
      fs.writeFileSync(local, Buffer.from([0, 1, 2, 255, 10, 13]));
      const remote = path.join(sshd.dir, 'uploaded.bin');
      fs.chmodSync(sshd.dir, 0o777);
      await t.putFile(local, remote);
      expect(fs.readFileSync(remote)).toEqual(Buffer.from([0, 1, 2, 255, 10, 13]));
    } finally {
      fs.rmSync(target, { force: true });
      await t.close();
    }
  });

  it('logs in with the key alone, or the password alone', async () => {
    const byKey = await openSsh({ ...host, passwordEnv: undefined }, { knownHostsFile: knownHosts, auth: 'key' });
    expect((await byKey.exec('echo key')).stdout).toBe('key\n');
    await byKey.close();
    const byPassword = await openSsh({ ...host, keyFile: undefined }, { knownHostsFile: knownHosts, auth: 'password' });
    expect((await byPassword.exec('echo pw')).stdout).toBe('pw\n');
    await byPassword.close();
  });

  it('trusts a host key on first use and refuses a changed one with a message saying how to accept it', async () => {
    const file = path.join(sshd.dir, 'known_hosts_tofu');
    const first = await openSsh(host, { knownHostsFile: file });
    await first.close();
    expect(fs.readFileSync(file, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `));
    await sshd.rekey();
    const err = await openSsh(host, { knownHostsFile: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain('CHANGED');
    expect((err as Error).message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
  });

  it('reports a host that does not answer as unreachable', async () => {
    const port = await freePort();
    const err = await openSsh({ ...host, port }, { knownHostsFile: path.join(sshd.dir, 'kh-none') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('says which credential failed without echoing the password', async () => {
    process.env.FRIDGE_TEST_WRONG = 'definitely-wrong-password';
    const err = await openSsh({ ...host, keyFile: undefined, passwordEnv: 'FRIDGE_TEST_WRONG' }, { knownHostsFile: path.join(sshd.dir, 'kh-wrong') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toMatch(/password: .*authentication/i);
    expect(mask((err as Error).message)).not.toContain('definitely-wrong-password');
  });

  // The tests above re-keyed the server: each test below starts with its own known_hosts.
  it('uploads through a private mktemp directory: a file planted at the old predictable path is neither used nor touched', async () => {
    const now = 1_700_000_000_000;
    const planted = `/tmp/.fridge-upload-${process.pid}-${now}`;
    fs.writeFileSync(planted, 'planted by another local user\n', { mode: 0o666 });
    fs.chmodSync(planted, 0o666);
    const t = await openSsh(host, { knownHostsFile: path.join(sshd.dir, 'kh-late-1') });
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now);
    try {
      const local = path.join(sshd.dir, 'job.jar');
      fs.writeFileSync(local, 'PK\u0003\u0004 the real jar');
      const remote = `/etc/fridge-upload-test-${sshd.port}.jar`;
      await t.putFile(local, remote, { sudo: true, mode: 0o644 });
      expect(fs.readFileSync(remote, 'utf8')).toBe('PK\u0003\u0004 the real jar');
      fs.rmSync(remote, { force: true });
      expect(fs.readFileSync(planted, 'utf8')).toBe('planted by another local user\n');
      const leftovers = fs.readdirSync('/tmp').filter((f) => f.startsWith('fridge-upload.'));
      expect(leftovers).toEqual([]);
    } finally {
      spy.mockRestore();
      fs.rmSync(planted, { force: true });
      await t.close();
    }
  });

  describe('passphrase-protected key', () => {
    const passphrase = 'correct horse battery staple';
    let lockedKey: string;
    beforeAll(() => {
      lockedKey = path.join(sshd.dir, 'id_locked');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', lockedKey]);
      sshd.authorize(fs.readFileSync(`${lockedKey}.pub`, 'utf8'));
    });
    afterAll(() => setPassphrasePrompt(undefined));

    it('is refused with what to do when there is no agent and no terminal, the password never tried', async () => {
      setPassphrasePrompt(async () => undefined);
      const err = await openSsh({ ...host, keyFile: lockedKey }, { knownHostsFile: path.join(sshd.dir, 'kh-late-2'), auth: 'key' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnreachableError);
      const msg = (err as Error).message;
      expect(msg).toContain(`the key ${lockedKey} is protected by a passphrase and there is no ssh-agent (SSH_AUTH_SOCK) and no terminal to ask on`);
      expect(msg).toContain(`ssh-add ${lockedKey}`);
    });

    it('is unlocked once with the passphrase asked on the terminal', async () => {
      const asked: string[] = [];
      setPassphrasePrompt(async (file) => {
        asked.push(file);
        return passphrase;
      });
      for (let i = 0; i < 2; i++) {
        const t = await openSsh({ ...host, keyFile: lockedKey, passwordEnv: undefined }, { knownHostsFile: path.join(sshd.dir, 'kh-late-3'), auth: 'key' });
        expect((await t.exec('echo unlocked')).stdout).toBe('unlocked\n');
        await t.close();
      }
      expect(asked).toEqual([lockedKey]);
      expect(mask(`passphrase: ${passphrase}`)).not.toContain(passphrase);
    });

    it('is used through ssh-agent (SSH_AUTH_SOCK) without asking', async () => {
      setPassphrasePrompt(async () => {
        throw new Error('must not ask when an agent runs');
      });
      const sock = path.join(sshd.dir, 'agent.sock');
      const started = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started)?.[1]);
      try {
        const askpass = path.join(sshd.dir, 'askpass.sh');
        fs.writeFileSync(askpass, `#!/bin/sh\nprintf '%s\\n' '${passphrase}'\n`, { mode: 0o700 });
        const add = spawnSync('ssh-add', [lockedKey], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: ['ignore', 'pipe', 'pipe'] });
        expect(add.status).toBe(0);
        process.env.SSH_AUTH_SOCK = sock;
        const t = await openSsh({ ...host, keyFile: lockedKey, passwordEnv: undefined }, { knownHostsFile: path.join(sshd.dir, 'kh-late-4'), auth: 'key' });
        expect((await t.exec('echo via-agent')).stdout).toBe('via-agent\n');
        await t.close();
        // The agent alone, no key file named anywhere.
        const t2 = await openSsh({ ...host, keyFile: undefined, passwordEnv: undefined }, { knownHostsFile: path.join(sshd.dir, 'kh-late-5'), auth: 'key' });
        expect((await t2.exec('echo agent-only')).stdout).toBe('agent-only\n');
        await t2.close();
      } finally {
        delete process.env.SSH_AUTH_SOCK;
        if (pid > 0) process.kill(pid, 'SIGTERM');
      }
    });
  });

  it('follows ~/.ssh/config (FRIDGE_SSH_CONFIG): an alias with HostName, Port, User and IdentityFile', async () => {
    const config = path.join(sshd.dir, 'ssh_config');
    fs.writeFileSync(config, `Host fridge-alias\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User ${sshd.user}\n  IdentityFile ${sshd.keyFile}\n`);
    process.env.FRIDGE_SSH_CONFIG = config;
    try {
      const t = await openSsh({ ...host, address: 'fridge-alias', port: 22, user: 'pi', keyFile: undefined, passwordEnv: undefined, vars: {} }, { knownHostsFile: path.join(sshd.dir, 'kh-late-6'), auth: 'key' });
      expect((await t.exec('whoami')).stdout.trim()).toBe(sshd.user);
      await t.close();
    } finally {
      process.env.FRIDGE_SSH_CONFIG = 'none';
    }
  });
});
