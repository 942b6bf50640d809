// Issue #15 item 1: a host pinned with an ed25519 key that later offers an RSA or ECDSA key is an impostor
// until proven otherwise (OpenSSH's rule). Fake ssh2 servers on loopback switch key types on the same port.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCALHOST } from '../../tasks/lib/inventory/local-host.ts';
import type { HostSpec } from '../../tasks/lib/inventory/types.ts';
import { checkHostKey } from '../../tasks/lib/transport/known-hosts.ts';
import { openSsh } from '../../tasks/lib/transport/ssh.ts';
import { UnreachableError } from '../../tasks/lib/transport/types.ts';
import { generateHostKey, startFakeSshd, type FakeKeyType, type FakeSshd } from '../helpers/fake-sshd.ts';

const PASSWORD = 'pinned-host-password';
const PASSWORD_ENV = 'FRIDGE_TEST_KEYTYPE_PASSWORD';
let dir: string;
let servers: FakeSshd[] = [];
const savedEnv = { config: process.env.FRIDGE_SSH_CONFIG, agent: process.env.SSH_AUTH_SOCK };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-keytype-'));
  process.env[PASSWORD_ENV] = PASSWORD;
  process.env.FRIDGE_SSH_CONFIG = 'none';
  delete process.env.SSH_AUTH_SOCK;
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});
afterAll(() => {
  delete process.env[PASSWORD_ENV];
  process.env.FRIDGE_SSH_CONFIG = savedEnv.config;
  if (savedEnv.config === undefined) delete process.env.FRIDGE_SSH_CONFIG;
  if (savedEnv.agent !== undefined) process.env.SSH_AUTH_SOCK = savedEnv.agent;
  fs.rmSync(dir, { recursive: true, force: true });
});

function hostOn(port: number): HostSpec {
  return { ...LOCALHOST, name: 'pi1', connection: 'ssh', address: '127.0.0.1', port, user: 'pi', keyFile: undefined, passwordEnv: PASSWORD_ENV, vars: {} };
}

async function serve(keyType: FakeKeyType, port?: number): Promise<FakeSshd> {
  const s = await startFakeSshd({ keyType, password: PASSWORD, ...(port === undefined ? {} : { port }) });
  servers.push(s);
  return s;
}

describe('host key of another type (fake ssh2 servers)', () => {
  it.each<FakeKeyType>(['rsa', 'ecdsa'])('refuses a host pinned as ed25519 that offers %s, keeps known_hosts and never sends the password', async (other) => {
    const knownHosts = path.join(dir, `known_hosts_${other}`);
    const pinned = await serve('ed25519');
    const port = pinned.port;
    const first = await openSsh(hostOn(port), { knownHostsFile: knownHosts });
    await first.close();
    expect(pinned.auths).toContainEqual({ user: 'pi', method: 'password', password: PASSWORD });
    const before = fs.readFileSync(knownHosts, 'utf8');
    expect(before).toBe(`[127.0.0.1]:${port} ${pinned.hostKey}\n`);
    await pinned.stop();
    servers = [];

    const impostor = await serve(other, port);
    const err = await openSsh(hostOn(port), { knownHostsFile: knownHosts }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    const msg = (err as Error).message;
    expect(msg).toContain('CHANGED');
    expect(msg).toContain(`it offered ${impostor.hostKey.split(' ')[0]}; known: ssh-ed25519`);
    expect(msg).toContain(`ssh-keygen -R '[127.0.0.1]:${port}' -f ${knownHosts}`);
    expect(fs.readFileSync(knownHosts, 'utf8')).toBe(before);
    expect(impostor.auths).toEqual([]);
    expect(msg).not.toContain(PASSWORD);
  });

  it('accepts a host that offers any one of its known keys, whatever the order of the lines', () => {
    const file = path.join(dir, 'known_hosts_multi');
    const ed = generateHostKey('ed25519');
    const rsa = generateHostKey('rsa');
    const blob = (pub: string): Buffer => Buffer.from(pub.trim().split(/\s+/)[1] ?? '', 'base64');
    fs.writeFileSync(file, `[127.0.0.1]:2222 ${ed.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n[127.0.0.1]:2222 ${rsa.publicKey.trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
    expect(checkHostKey('127.0.0.1', 2222, blob(rsa.publicKey), file)).toEqual({ kind: 'known' });
    expect(checkHostKey('127.0.0.1', 2222, blob(ed.publicKey), file)).toEqual({ kind: 'known' });
    expect(checkHostKey('127.0.0.1', 2223, blob(ed.publicKey), file)).toEqual({ kind: 'new' });
    const ecdsa = generateHostKey('ecdsa');
    expect(checkHostKey('127.0.0.1', 2222, blob(ecdsa.publicKey), file)).toMatchObject({ kind: 'changed', line: 1, knownTypes: ['ssh-ed25519', 'ssh-rsa'] });
  });
});
