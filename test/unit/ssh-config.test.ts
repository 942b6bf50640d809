// Issue #15 item 20: ~/.ssh/config as operators write it, and the inventory's explicit values winning over it
// (Ansible's precedence). Resolution is pure; the ProxyJump case also runs through two fake ssh2 servers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCALHOST } from '../../tasks/lib/inventory/local-host.ts';
import type { HostSpec } from '../../tasks/lib/inventory/types.ts';
import { loadSshConfig, parseJumpSpec, resolveSshTarget, sshConfigFile } from '../../tasks/lib/transport/ssh-config.ts';
import { openSsh } from '../../tasks/lib/transport/ssh.ts';
import { UnreachableError } from '../../tasks/lib/transport/types.ts';
import { startFakeSshd } from '../helpers/fake-sshd.ts';

const CONFIG = `
Host pi1
  HostName 192.168.0.101
  User operator
  Port 2201
  IdentityFile ~/.ssh/fridge_%r_%h
  ProxyJump admin@bastion:2022

Host bastion
  HostName 203.0.113.7
  IdentityFile /keys/bastion

Host 10.0.0.*
  User fromconfig
  Port 2299

Host *
  IdentityFile /keys/default
`;

function spec(address: string, vars: Record<string, unknown> = {}, extra: Partial<HostSpec> = {}): HostSpec {
  return { ...LOCALHOST, name: 'pi1', connection: 'ssh', address, port: 22, user: 'pi', keyFile: undefined, vars, ...extra };
}

describe('ssh config resolution', () => {
  const config = SSHConfig.parse(CONFIG);
  const home = os.homedir();

  it('applies Host, HostName, User, Port, IdentityFile and ProxyJump for a host the inventory names by alias', () => {
    const r = resolveSshTarget(spec('pi1', { ansible_host: 'pi1' }), config, undefined);
    expect(r).toEqual({
      ok: true,
      value: {
        label: 'pi1',
        address: '192.168.0.101',
        port: 2201,
        user: 'operator',
        identityFiles: [path.join(home, '.ssh/fridge_operator_192.168.0.101'), '/keys/default'],
        jumps: [{ label: 'bastion', address: '203.0.113.7', port: 2022, user: 'admin', identityFiles: ['/keys/bastion', '/keys/default'] }],
      },
    });
  });

  it('lets explicit ansible_port, ansible_user and the inventory key win, the key tried first', () => {
    const h = spec('pi1', { ansible_port: 22, ansible_user: 'pi' });
    const r = resolveSshTarget(h, config, '/inv/id_ed25519');
    expect(r.ok && r.value).toMatchObject({ address: '192.168.0.101', port: 22, user: 'pi', identityFiles: ['/inv/id_ed25519', path.join(home, '.ssh/fridge_pi_192.168.0.101'), '/keys/default'] });
  });

  it('uses the config for what the inventory leaves to its defaults, by pattern', () => {
    const r = resolveSshTarget(spec('10.0.0.5'), config, undefined);
    expect(r.ok && r.value).toMatchObject({ address: '10.0.0.5', port: 2299, user: 'fromconfig', jumps: [] });
    const fromGroupVars = resolveSshTarget(spec('10.0.0.5', { ansible_user: 'pi' }), config, undefined);
    expect(fromGroupVars.ok && fromGroupVars.value).toMatchObject({ user: 'pi', port: 2299 });
  });

  it('changes nothing without a config; with no key named anywhere, tries ssh\'s default identities', () => {
    const r = resolveSshTarget(spec('10.77.0.11', {}, { port: 2222, user: 'root' }), undefined, '/k');
    expect(r).toEqual({ ok: true, value: { label: 'pi1', address: '10.77.0.11', port: 2222, user: 'root', identityFiles: ['/k'], jumps: [] } });
    const none = resolveSshTarget(spec('10.77.0.11'), undefined, undefined);
    expect(none.ok && none.value.identityFiles).toEqual(['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(home, '.ssh', f)));
  });

  it('reports a bad Port and a ProxyJump loop instead of guessing', () => {
    const bad = resolveSshTarget(spec('pi9'), SSHConfig.parse('Host pi9\n  Port ssh\n'), undefined, '/home/me/.ssh/config');
    expect(bad).toEqual({ ok: false, message: '/home/me/.ssh/config (Host pi9): Port ssh is not a port number (1-65535)' });
    const loop = resolveSshTarget(spec('a'), SSHConfig.parse('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n'), undefined);
    expect(loop.ok).toBe(false);
    expect(!loop.ok && loop.message).toMatch(/ProxyJump chain longer than 8 hops/);
  });

  it('parses ProxyJump specs as ssh does', () => {
    expect(parseJumpSpec('admin@bastion:2022')).toEqual({ ok: true, value: { user: 'admin', host: 'bastion', port: 2022 } });
    expect(parseJumpSpec('ssh://[fd00::1]:22')).toEqual({ ok: true, value: { user: undefined, host: 'fd00::1', port: 22 } });
    expect(parseJumpSpec('bastion:99999').ok).toBe(false);
  });

  it('reads FRIDGE_SSH_CONFIG, else ~/.ssh/config; none reads nothing; a missing file is no config', () => {
    expect(sshConfigFile({})).toBe(path.join(home, '.ssh', 'config'));
    expect(sshConfigFile({ FRIDGE_SSH_CONFIG: '/tmp/x' })).toBe('/tmp/x');
    expect(sshConfigFile({ FRIDGE_SSH_CONFIG: 'none' })).toBeUndefined();
    expect(loadSshConfig('/nonexistent/ssh_config')).toEqual({ ok: true, value: undefined });
  });
});

describe('ProxyJump through a fake jump host (two ssh2 servers on loopback)', () => {
  let dir: string;
  const saved = { config: process.env.FRIDGE_SSH_CONFIG, agent: process.env.SSH_AUTH_SOCK };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-jump-'));
    delete process.env.SSH_AUTH_SOCK;
  });
  afterAll(() => {
    if (saved.config === undefined) delete process.env.FRIDGE_SSH_CONFIG;
    else process.env.FRIDGE_SSH_CONFIG = saved.config;
    if (saved.agent !== undefined) process.env.SSH_AUTH_SOCK = saved.agent;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reaches the target through the jump host, checks and pins both host keys, refuses a changed jump host key', async () => {
    const jump = await startFakeSshd({ keyType: 'ed25519', acceptKeys: true, forward: true });
    const target = await startFakeSshd({ keyType: 'ed25519', acceptKeys: true });
    const key = path.join(dir, 'id_jump');
    const { privateKey } = await import('../helpers/fake-sshd.ts').then((m) => m.generateHostKey('ed25519'));
    fs.writeFileSync(key, privateKey, { mode: 0o600 });
    const configFile = path.join(dir, 'ssh_config');
    fs.writeFileSync(configFile, `Host fridge-pi\n  HostName 127.0.0.1\n  Port ${target.port}\n  User operator\n  IdentityFile ${key}\n  ProxyJump jumper@bastion\n\nHost bastion\n  HostName 127.0.0.1\n  Port ${jump.port}\n  IdentityFile ${key}\n`);
    process.env.FRIDGE_SSH_CONFIG = configFile;
    const knownHosts = path.join(dir, 'known_hosts');
    try {
      const t = await openSsh(spec('fridge-pi', { ansible_host: 'fridge-pi' }), { knownHostsFile: knownHosts });
      expect((await t.exec('hostname')).stdout).toBe('ran: hostname\n');
      await t.close();
      // Public key auth is a query then a signed request: two records, both the jump host's own user.
      expect(new Set(jump.auths.map((a) => `${a.user}/${a.method}`))).toEqual(new Set(['jumper/publickey']));
      expect(jump.forwards).toEqual([{ host: '127.0.0.1', port: target.port }]);
      expect(new Set(target.auths.map((a) => `${a.user}/${a.method}`))).toEqual(new Set(['operator/publickey']));
      expect(fs.readFileSync(knownHosts, 'utf8')).toBe(`[127.0.0.1]:${jump.port} ${jump.hostKey}\n[127.0.0.1]:${target.port} ${target.hostKey}\n`);
    } finally {
      await jump.stop();
    }

    const impostor = await startFakeSshd({ keyType: 'rsa', acceptKeys: true, forward: true, port: jump.port });
    try {
      const err = await openSsh(spec('fridge-pi', { ansible_host: 'fridge-pi' }), { knownHostsFile: knownHosts }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnreachableError);
      expect((err as Error).message).toContain(`ssh-keygen -R '[127.0.0.1]:${jump.port}'`);
      expect(impostor.auths).toEqual([]);
      expect(impostor.forwards).toEqual([]);
    } finally {
      await impostor.stop();
      await target.stop();
    }
  });
});
