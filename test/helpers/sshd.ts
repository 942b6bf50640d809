// A real OpenSSH server on a loopback port, with a throwaway user, for transport tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestSshd {
  port: number;
  user: string;
  password: string;
  keyFile: string;
  dir: string;
  /** Replaces the server's host key and restarts it (a re-flashed Pi). */
  rekey(): Promise<void>;
  /** Adds a public key line to the test user's authorized_keys. */
  authorize(publicKey: string): void;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on ${port}`);
}

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, encoding: 'utf8' });
}

export async function startSshd(user = 'fridge-ssh-test'): Promise<TestSshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-sshd-'));
  const port = await freePort();
  const password = crypto.randomBytes(12).toString('base64url');
  try {
    sh('id', [user]);
  } catch {
    sh('useradd', ['-m', '-s', '/bin/sh', user]);
  }
  sh('chpasswd', [], `${user}:${password}\n`);
  fs.writeFileSync(`/etc/sudoers.d/${user}`, `${user} ALL=(ALL) ALL\n`, { mode: 0o440 });
  const keyFile = path.join(dir, 'id_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  const home = sh('sh', ['-c', `getent passwd ${user} | cut -d: -f6`]).trim();
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  fs.copyFileSync(`${keyFile}.pub`, path.join(home, '.ssh', 'authorized_keys'));
  sh('chown', ['-R', `${user}:${user}`, path.join(home, '.ssh')]);
  fs.mkdirSync('/run/sshd', { recursive: true });

  const hostKey = path.join(dir, 'host_ed25519');
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${dir}/sshd.pid`, 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication yes', 'UsePAM no', 'Subsystem sftp /usr/lib/openssh/sftp-server', `AllowUsers ${user}`, ''].join('\n'),
  );
  let child: ChildProcess | undefined;
  const start = async () => {
    fs.rmSync(hostKey, { force: true });
    fs.rmSync(`${hostKey}.pub`, { force: true });
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const stopChild = async () => {
    if (!child || child.exitCode !== null) return;
    const c = child;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  return {
    port,
    user,
    password,
    keyFile,
    dir,
    authorize(publicKey: string) {
      fs.appendFileSync(path.join(home, '.ssh', 'authorized_keys'), `${publicKey.trim()}\n`);
    },
    async rekey() {
      await stopChild();
      await start();
    },
    async stop() {
      await stopChild();
      fs.rmSync(`/etc/sudoers.d/${user}`, { force: true });
      try {
        sh('userdel', ['-r', user]);
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
