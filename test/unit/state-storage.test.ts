// The shared state storage (#14): the inventory's fridge_state_storage, and the plans of its steps, from facts
// through a transport that refuses to be used.
import { describe, expect, it } from 'vitest';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import type { Plan } from '../../tasks/lib/engine/types.ts';
import { parseStorageFacts } from '../../tasks/lib/facts/storage.ts';
import { formatProblem } from '../../tasks/lib/inventory/types.ts';
import { loadInventory, parseInventory } from '../../tasks/lib/inventory/load.ts';
import { MADE_CLIENT_KEY, stateClientKeyStep } from '../../tasks/lib/steps/storage/client-key.ts';
import { fstabLine, sshfsStorage, storageServer } from '../../tasks/lib/steps/storage/layout.ts';
import { stateMountStep } from '../../tasks/lib/steps/storage/mount.ts';
import { storageMarkerStep, storageReachedStep } from '../../tasks/lib/steps/storage/reached.ts';
import { stateServerStep, type ServerFacts } from '../../tasks/lib/steps/storage/server.ts';
import { ctxFor, inventory } from './steps-fixture.ts';

const summaries = (p: Plan): string[] => (p.kind === 'change' || (p.kind === 'unmet' && 'changes' in p.inCheck) ? (p.kind === 'change' ? p.changes : 'changes' in p.inCheck ? p.inCheck.changes : []).map((c) => c.summary) : []);
const commands = (p: Plan): string[] => (p.kind === 'change' ? p.changes.flatMap((c) => c.actions.map((a) => (a.kind === 'run' ? a.command : a.kind === 'call' ? `call ${a.label}` : a.kind))) : []);

const HEAD = 'all:\n  vars:\n    fridge_model: "3B"\n    fridge_image: a/b\n';
const HOSTS = '  children:\n    managers:\n      hosts: {m1: {ansible_host: 10.77.0.2}}\n    workers:\n      hosts: {w1: {ansible_host: 10.77.0.3}, w2: {ansible_host: 10.77.0.4}}\n';
const parse = (vars: string, hosts = HOSTS) => parseInventory('inline.yaml', `${HEAD}${vars}${hosts}`);
const problems = (vars: string) => {
  const r = parse(vars);
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe('fridge_state_storage in the inventory', () => {
  it('the example Fridge keeps it on worker01, which runs no taskmanager', async () => {
    const r = await loadInventory(new URL('../../inventory/fridge.yaml', import.meta.url).pathname);
    expect(r.ok && r.inventory.cluster.stateStorage).toEqual({ kind: 'sshfs', server: 'worker01', path: '/srv/fridge-state' });
  });

  it('unset: the first manager shares it; one host alone needs nothing shared', () => {
    const r = parse('');
    expect(r.ok && r.inventory.cluster.stateStorage).toEqual({ kind: 'sshfs', server: 'm1', path: '/srv/fridge-state' });
    const one = parse('', '  children:\n    managers:\n      hosts: {m1: {ansible_host: 10.77.0.2}}\n');
    expect(one.ok && one.inventory.cluster.stateStorage).toEqual({ kind: 'none' });
    expect(parse('    fridge_state_storage: {type: external}\n').ok).toBe(true);
  });

  it('bad values are refused where they are written', () => {
    expect(problems('    fridge_state_storage: {type: sshfs, server: w3}\n')).toEqual([
      'inline.yaml:5:49: error: fridge_state_storage.server: "w3" is not a host of this inventory; did you mean "w1"?',
    ]);
    expect(problems('    fridge_state_storage: {type: none, server: w1}\n')).toEqual([
      'inline.yaml:5:48: error: fridge_state_storage.server: only type sshfs has a server; none keeps the state on each node',
    ]);
    expect(problems('    fridge_state_storage: {type: nfs}\n')[0]).toMatch(/^inline\.yaml:5:\d+: error: fridge_state_storage\.type: expected sshfs \(a Pi of the inventory keeps the state/);
    expect(problems('    fridge_state_storage: {type: sshfs, path: /mnt/fridge-state}\n')).toEqual([
      'inline.yaml:5:47: error: fridge_state_storage.path: /mnt/fridge-state is also fridge_flink_state_dir, where every node (the server too) mounts it; choose another directory, e.g. /srv/fridge-state',
    ]);
    expect(problems('    fridge_state_storage: {type: sshfs, path: "/srv/my state"}\n')[0]).toMatch(/expected an absolute directory path without spaces/);
  });
});

describe('the storage facts (one probe with the phase\'s others)', () => {
  it('parses what the probe prints; an absent file is undefined, another user on uid 9999 is named', () => {
    const b64 = (t: string) => `b64:${Buffer.from(t).toString('base64')}`;
    const f = parseStorageFacts(
      new Map([
        ['clientkey', b64('ssh-ed25519 AAAA fridge-state@pi2\n')],
        ['known', 'absent'],
        ['fstab', b64('proc /proc proc defaults 0 0\n')],
        ['sshfs', '1'],
        ['mounted', 'fridge-state@10.77.0.11:/srv/fridge-state fuse.sshfs'],
        ['account', ''],
        ['uidowner', 'bob'],
        ['data', '9999:9999 775'],
        ['authorized', 'absent'],
        ['homemodes', ''],
        ['marker', 'absent'],
        ['hostkey', 'ssh-ed25519 AAAAserver'],
        ['sftp', '/usr/lib/openssh/sftp-server'],
      ]),
    );
    expect(f).toEqual({
      clientKey: 'ssh-ed25519 AAAA fridge-state@pi2',
      knownHosts: undefined,
      fstab: 'proc /proc proc defaults 0 0\n',
      sshfs: true,
      mounted: 'fridge-state@10.77.0.11:/srv/fridge-state fuse.sshfs',
      account: undefined,
      uidTakenBy: 'bob',
      dataDir: '9999:9999 775',
      authorizedKeys: undefined,
      homeModes: '',
      marker: undefined,
      hostKey: 'ssh-ed25519 AAAAserver',
      sftpServer: '/usr/lib/openssh/sftp-server',
    });
  });
});

const inv = inventory();
const storage = sshfsStorage(inv);
if (!storage) throw new Error('the fixture shares pi1');
const server = stateServerStep(storage);
const KEY = (h: string) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${h}x fridge-state@${h}`;

describe('each node\'s key to the server', () => {
  it('is made on the node when missing, and kept when there', () => {
    expect(stateClientKeyStep.plan({ publicKey: KEY('pi2') }, ctxFor('pi2'))).toEqual({ kind: 'ok', msg: '/etc/fridge/state-storage/id_ed25519' });
    const p = stateClientKeyStep.plan({ publicKey: undefined }, ctxFor('pi2'));
    expect(summaries(p)).toEqual(["create /etc/fridge/state-storage/id_ed25519 (this node's key to the state storage server)"]);
    expect(commands(p)).toEqual(['call ssh-keygen']);
  });
});

const SERVER_DONE: ServerFacts = {
  account: '9999:9999:/bin/sh',
  uidTakenBy: undefined,
  dataDir: '9999:9999 775',
  authorizedKeys: ['pi1', 'pi2', 'pi3'].map((h) => `restrict,command="/usr/lib/openssh/sftp-server" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${h}x fridge-state@${h}`).join('\n') + '\n',
  homeModes: '0:0 755;0:0 755;0:0 644;',
  marker: 'fridge state storage of fridge (pi1:/srv/fridge-state)\n',
  hostKey: 'ssh-ed25519 AAAAserver',
  sftpServer: '/usr/lib/openssh/sftp-server',
};

function withKeys(hosts: string[], made: string[] = []): Outputs {
  const o = new Outputs();
  for (const h of hosts) o.set(stateClientKeyStep, h, KEY(h));
  for (const h of made) o.set(MADE_CLIENT_KEY, h, KEY(h));
  return o;
}

describe('the storage server', () => {
  it('on a fresh Pi: the SFTP-only account with Flink\'s uid, the directory, the nodes\' keys, the marker', () => {
    const fresh: ServerFacts = { ...SERVER_DONE, account: undefined, dataDir: undefined, authorizedKeys: undefined, homeModes: '', marker: undefined };
    const p = server.plan(fresh, ctxFor('pi1', { outputs: withKeys([], ['pi1', 'pi2', 'pi3']) }));
    expect(summaries(p)).toEqual([
      'create the SFTP-only account fridge-state (uid 9999)',
      'create /srv/fridge-state (9999:9999 775)',
      'authorize pi1, pi2, pi3 (SFTP only) in /var/lib/fridge-state/.ssh/authorized_keys',
      'write /srv/fridge-state/.fridge-storage (what every node must read through /mnt/fridge-state)',
    ]);
    const diff = p.kind === 'change' ? p.changes[2]?.diff?.after : '';
    expect(diff?.split('\n')[1]).toBe('restrict,command="/usr/lib/openssh/sftp-server" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIpi2x fridge-state@pi2');
  });

  it('set up: ok; a node outside the run (--limit) keeps its line; a node gone from the inventory loses it', () => {
    expect(server.plan(SERVER_DONE, ctxFor('pi1', { outputs: withKeys(['pi1', 'pi2', 'pi3']) })).kind).toBe('ok');
    expect(server.plan(SERVER_DONE, ctxFor('pi1', { outputs: withKeys(['pi1']) })).kind).toBe('ok');
    const extra = { ...SERVER_DONE, authorizedKeys: `${SERVER_DONE.authorizedKeys}restrict,command="x" ssh-ed25519 AAAAold fridge-state@pi9\n` };
    const p = server.plan(extra, ctxFor('pi1', { outputs: withKeys(['pi1', 'pi2', 'pi3']) }));
    expect(summaries(p)).toEqual(['authorize pi1, pi2, pi3 (SFTP only) in /var/lib/fridge-state/.ssh/authorized_keys']);
  });

  it('refuses a server whose uid 9999 is someone else\'s, or without a host key to pin', () => {
    expect(server.plan({ ...SERVER_DONE, uidTakenBy: 'bob' }, ctxFor('pi1'))).toMatchObject({ kind: 'fail', msg: expect.stringContaining('uid 9999 belongs to "bob"') });
    expect(server.plan({ ...SERVER_DONE, hostKey: undefined }, ctxFor('pi1'))).toMatchObject({ kind: 'fail', msg: expect.stringContaining('no ed25519 SSH host key') });
  });
});

describe('the mount on every node', () => {
  const host = storageServer(inv, storage);
  if (!host) throw new Error('no server');
  const line = fstabLine(inv, storage, host);
  const mount = stateMountStep(storage, server);
  const serverOut = () => {
    const o = new Outputs();
    o.set(server, 'pi1', { hostKey: 'ssh-ed25519 AAAAserver', marker: undefined });
    return o;
  };
  it('is one fstab line: the server pinned, automount under systemd, a dead server fails I/O in 15 s', () => {
    expect(line).toBe(
      'fridge-state@10.77.0.11:/srv/fridge-state /mnt/fridge-state fuse.sshfs _netdev,noatime,allow_other,reconnect,ServerAliveInterval=5,ServerAliveCountMax=3,ConnectTimeout=10,IdentityFile=/etc/fridge/state-storage/id_ed25519,UserKnownHostsFile=/etc/fridge/state-storage/known_hosts,StrictHostKeyChecking=yes,x-systemd.automount,x-systemd.mount-timeout=30 0 0',
    );
  });
  it('on a fresh node: sshfs, the pinned key, the fstab line, the mount', () => {
    const p = mount.plan({ sshfs: false, knownHosts: undefined, fstab: 'proc /proc proc defaults 0 0\n', mounted: undefined }, ctxFor('pi2', { outputs: serverOut() }));
    expect(summaries(p)).toEqual([
      'install sshfs (apt)',
      "pin pi1's host key in /etc/fridge/state-storage/known_hosts",
      'mount fridge-state@10.77.0.11:/srv/fridge-state at /mnt/fridge-state from /etc/fstab',
      'mount fridge-state@10.77.0.11:/srv/fridge-state at /mnt/fridge-state',
    ]);
    expect(p.kind === 'change' && p.changes[2]?.diff?.after).toBe(`proc /proc proc defaults 0 0\n\n# BEGIN fridge state storage\n${line}\n# END fridge state storage\n`);
  });
  const done = { sshfs: true, knownHosts: '10.77.0.11 ssh-ed25519 AAAAserver\n', fstab: `# BEGIN fridge state storage\n${line}\n# END fridge state storage\n`, mounted: 'fridge-state@10.77.0.11:/srv/fridge-state fuse.sshfs' };
  it('mounted as wanted: ok, also when the server was not in this run', () => {
    expect(mount.plan(done, ctxFor('pi2', { outputs: serverOut() })).kind).toBe('ok');
    expect(mount.plan(done, ctxFor('pi2')).kind).toBe('ok');
  });
  it('not mounted after a reboot: mounts it again; a local directory in its place is not the storage', () => {
    expect(summaries(mount.plan({ ...done, mounted: undefined }, ctxFor('pi3', { outputs: serverOut() })))).toEqual(['mount fridge-state@10.77.0.11:/srv/fridge-state at /mnt/fridge-state']);
    expect(summaries(mount.plan({ ...done, mounted: '/dev/sda1 ext4' }, ctxFor('pi3')))).toEqual(['remount /mnt/fridge-state (now: /dev/sda1 ext4)']);
  });
  it('without the server\'s host key (never pinned, server not in this run): cannot mount', () => {
    const p = mount.plan({ ...done, knownHosts: undefined, mounted: undefined }, ctxFor('pi3'));
    expect(p).toMatchObject({ kind: 'unmet', msg: expect.stringContaining('pi1 did not give its host key in this run') });
  });
});

describe('the check before Flink starts', () => {
  const marker = storageMarkerStep(inv);
  const reached = storageReachedStep(inv, marker, 'pi1');
  const M = 'fridge state storage of fridge (pi1:/srv/fridge-state)\n';
  const outs = () => {
    const o = new Outputs();
    o.set(marker, 'pi1', M);
    return o;
  };
  it('ok where the node reads the server\'s marker through its mount', () => {
    expect(reached.plan({ mounted: 'fridge-state@10.77.0.11:/srv/fridge-state fuse.sshfs', marker: M, error: undefined }, ctxFor('pi3', { outputs: outs() })).kind).toBe('ok');
  });
  it('fails, naming the node and the fix, where it reads its own disk or nothing', () => {
    const p = reached.plan({ mounted: undefined, marker: undefined, error: undefined }, ctxFor('pi3', { outputs: outs() }));
    expect(p).toMatchObject({
      kind: 'unmet',
      msg: 'pi3 does not see the shared state storage at /mnt/fridge-state (nothing is mounted at /mnt/fridge-state; .fridge-storage is missing): a checkpoint written there could not be read by another node; run pi-setup (it mounts fridge-state@10.77.0.11:/srv/fridge-state there), or mount /mnt/fridge-state on pi3',
    });
  });
  it('fails where the mount is dead (server gone)', () => {
    const p = reached.plan({ mounted: 'fridge-state@10.77.0.11:/srv/fridge-state fuse.sshfs', marker: undefined, error: '/mnt/fridge-state/.fridge-storage: Transport endpoint is not connected' }, ctxFor('pi3', { outputs: outs() }));
    expect(p.kind === 'fail' && p.msg).toMatch(/^\/mnt\/fridge-state cannot be read on pi3 \(\/mnt\/fridge-state\/\.fridge-storage: Transport endpoint is not connected\)/);
  });
  it('in check mode on fresh nodes: skipped, pi-setup would mount it', () => {
    expect(reached.plan({ mounted: undefined, marker: undefined, error: undefined }, ctxFor('pi3', { outputs: outs(), check: true }))).toMatchObject({ kind: 'unmet', inCheck: { skip: 'nothing is mounted at /mnt/fridge-state; pi-setup would mount it' } });
    expect(marker.plan({ marker: undefined }, ctxFor('pi1', { check: true })).kind).toBe('unmet');
  });
});
