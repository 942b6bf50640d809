// The SSH transport against a real OpenSSH server on loopback: commands, sudo, files, host keys.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCALHOST } from '../../tasks/lib/inventory/local-host.ts';
import type { HostSpec } from '../../tasks/lib/inventory/types.ts';
import { mask } from '../../tasks/lib/secrets.ts';
import { openSsh } from '../../tasks/lib/transport/ssh.ts';
import { UnreachableError } from '../../tasks/lib/transport/types.ts';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.ts';

let sshd: TestSshd;
let host: HostSpec;
let knownHosts: string;
const PASSWORD_ENV = 'FRIDGE_TEST_SSH_PASSWORD';

beforeAll(async () => {
  sshd = await startSshd();
  knownHosts = path.join(sshd.dir, 'known_hosts');
  process.env[PASSWORD_ENV] = sshd.password;
  host = { ...LOCALHOST, name: 'sshtest', connection: 'ssh', address: '127.0.0.1', port: sshd.port, user: sshd.user, keyFile: sshd.keyFile, passwordEnv: PASSWORD_ENV };
});
afterAll(async () => {
  delete process.env[PASSWORD_ENV];
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
});
