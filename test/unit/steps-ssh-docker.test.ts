// Table tests for SSH hardening and the Docker engine steps: facts in → plan out, the no-op case included.
import { describe, expect, it } from 'vitest';
import type { DockerFacts } from '../../tasks/lib/facts/docker.ts';
import type { SshFacts } from '../../tasks/lib/facts/ssh.ts';
import { parseDockerFacts } from '../../tasks/lib/facts/docker.ts';
import { parseKv } from '../../tasks/lib/facts/probe.ts';
import { cgroupStep, CGROUP_FLAGS, cmdlineWithFlags, daemonJsonStep, dockerGroupStep, dockerRunningStep, engineStep, purgeEngineStep, rebootStep } from '../../tasks/lib/steps/docker.ts';
import { authorizedKeyStep, DROPIN_CONTENT, hasKey, lockPasswordStep, passwordLoginStep, type KeyFacts } from '../../tasks/lib/steps/ssh.ts';
import { commands, ctxFor, inventory, os, PUBKEY, written } from './steps-fixture.ts';

function ssh(over: Partial<SshFacts> = {}): SshFacts {
  return {
    home: '/home/pi',
    authorizedKeys: undefined,
    passwordAuth: 'yes',
    includesDropins: true,
    dropin: undefined,
    sshdConfig: 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n',
    passwordStatus: 'P',
    nopasswdSudo: true,
    init: 'sysv',
    ...over,
  };
}
const keyFacts = (over: Partial<KeyFacts> = {}): KeyFacts => ({ ...ssh(), publicKeyFile: '/k/id.pub', publicKey: PUBKEY, ...over });

describe('ssh authorized key', () => {
  it('no-op when the key is there (options and comment do not matter)', () => {
    const keys = `# old\nno-pty ${PUBKEY.replace(' fridge', ' someone@else')}\n`;
    expect(authorizedKeyStep.plan(keyFacts({ authorizedKeys: keys }), ctxFor('pi1')).kind).toBe('ok');
    expect(hasKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOther x\n', PUBKEY)).toBe(false);
  });
  it('appends the key, carried in the command (never on stdin, where sudo -S may put the password)', () => {
    const p = authorizedKeyStep.plan(keyFacts(), ctxFor('pi1'));
    expect(p.kind).toBe('change');
    const a = p.kind === 'change' ? p.changes[0]?.actions[0] : undefined;
    expect(a).toMatchObject({ kind: 'run', sudo: true });
    expect(a?.kind === 'run' && a.stdin).toBeUndefined();
    expect(a?.kind === 'run' && a.command).toContain(`${Buffer.from(`${PUBKEY}\n`).toString('base64')} | base64 -d >> /home/pi/.ssh/authorized_keys`);
  });
  it('check mode before the key pair exists: would install', () => {
    expect(authorizedKeyStep.plan(keyFacts({ publicKey: undefined }), ctxFor('pi1'))).toMatchObject({
      kind: 'unmet',
      msg: 'cannot read the public key /k/id.pub',
      inCheck: { changes: [{ summary: expect.stringContaining('(to be created)'), actions: [] }] },
    });
  });
  it('no key configured at all → skipped', () => {
    expect(authorizedKeyStep.plan(keyFacts({ publicKeyFile: undefined }), ctxFor('pi1')).kind).toBe('skip');
  });
});

describe('ssh password login off', () => {
  it('no-op when sshd already refuses passwords', () => {
    expect(passwordLoginStep.plan(ssh({ passwordAuth: 'no' }), ctxFor('pi1'))).toEqual({ kind: 'ok', msg: 'sshd refuses passwords' });
  });
  it('proves key login BEFORE writing the drop-in, then checks and reloads sshd', () => {
    const p = passwordLoginStep.plan(ssh(), ctxFor('pi1'));
    expect(commands(p)).toEqual(['call prove key login', 'put /etc/ssh/sshd_config.d/00-fridge.conf', 'sshd -t && service ssh reload']);
    expect(p.kind === 'change' && p.changes[0]?.diff?.after).toBe(DROPIN_CONTENT);
  });
  it('Buster (no Include): a block at the top of sshd_config', () => {
    const p = passwordLoginStep.plan(ssh({ includesDropins: false, sshdConfig: 'UsePAM yes\n', init: 'systemd' }), ctxFor('pi1'));
    expect(commands(p)).toEqual(['call prove key login', 'put /etc/ssh/sshd_config', 'sshd -t && systemctl reload ssh']);
    expect(p.kind === 'change' && p.changes[0]?.diff?.after).toMatch(/^# BEGIN fridge hardening.*\nPasswordAuthentication no\n/);
  });
  it('fails when our drop-in is there but another setting wins', () => {
    expect(passwordLoginStep.plan(ssh({ dropin: DROPIN_CONTENT }), ctxFor('pi1')).kind).toBe('fail');
  });
});

describe('lock default password', () => {
  it('no-op when locked', () => {
    expect(lockPasswordStep.plan(ssh({ passwordStatus: 'L' }), ctxFor('pi1')).kind).toBe('ok');
  });
  it('proves key login, then usermod -L', () => {
    expect(commands(lockPasswordStep.plan(ssh(), ctxFor('pi1')))).toEqual(['call prove key login', 'usermod -L pi']);
  });
  it('never locks a user whose sudo needs that password', () => {
    expect(lockPasswordStep.plan(ssh({ nopasswdSudo: false }), ctxFor('pi1')).kind).toBe('skip');
  });
});

function dock(over: Partial<DockerFacts> = {}): DockerFacts {
  return { cli: true, packages: ['docker.io'], running: true, serverVersion: '20.10.24', init: 'sysv', initScript: true, enabled: false, daemonJson: undefined, userGroups: ['pi', 'sudo', 'docker'], dockerGroup: true, ...over };
}
const fresh = dock({ cli: false, packages: [], running: false, serverVersion: '', initScript: false, userGroups: ['pi', 'sudo'], dockerGroup: false });
const wantedJson = '{\n  "insecure-registries": [\n    "10.77.0.1:5000"\n  ],\n  "registry-mirrors": [\n    "http://10.77.0.1:5000"\n  ]\n}\n';

describe('docker facts', () => {
  it('parses an answer from a fresh host', () => {
    expect(parseDockerFacts(parseKv('cli=0\npkgs=\nrunning=0\ninit=sysv\ninit_script=0\nenabled=0\ndaemon_json=absent\ngroups=pi sudo\ndocker_group=0\n'))).toEqual(fresh);
  });
});

describe('docker engine steps on a fresh host (what --check lists)', () => {
  const ctx = ctxFor('pi2', { check: true });
  it.each([
    ['engine', engineStep, 'install docker (apt: docker.io)'],
    ['group', dockerGroupStep, 'add pi to the docker group'],
    ['daemon.json', daemonJsonStep, 'write /etc/docker/daemon.json'],
    ['running', dockerRunningStep, 'start docker (a background dockerd)'],
  ] as const)('%s', (_n, step, summary) => {
    const p = step.plan(fresh, ctx);
    expect(p.kind === 'change' && p.changes.map((c) => c.summary)).toEqual([summary]);
  });
});

describe('docker engine steps, second run (no-op)', () => {
  const f = dock({ daemonJson: wantedJson });
  it.each([engineStep, dockerGroupStep, daemonJsonStep, dockerRunningStep])('$name is ok', (step) => {
    expect(step.plan(f, ctxFor('pi2')).kind).toBe('ok');
  });
  it('daemon.json with keys in another order is still equal', () => {
    const reordered = JSON.stringify({ 'registry-mirrors': ['http://10.77.0.1:5000'], 'insecure-registries': ['10.77.0.1:5000'] });
    expect(daemonJsonStep.plan(dock({ daemonJson: reordered }), ctxFor('pi2')).kind).toBe('ok');
  });
});

describe('daemon.json', () => {
  it('keeps the operator keys and restarts docker only because it changed', () => {
    const p = daemonJsonStep.plan(dock({ daemonJson: '{"log-driver":"journald","insecure-registries":["old:5000"]}' }), ctxFor('pi2'));
    expect(p.kind === 'change' && p.changes[0]?.summary).toBe('write /etc/docker/daemon.json and restart docker');
    const after = JSON.parse(p.kind === 'change' ? (p.changes[0]?.diff?.after ?? '') : '') as Record<string, unknown>;
    expect(after).toEqual({ 'log-driver': 'journald', 'insecure-registries': ['old:5000', '10.77.0.1:5000'], 'registry-mirrors': ['http://10.77.0.1:5000'] });
    expect(commands(p)[1]).toContain('service docker restart');
  });
  it('no restart when docker is not running', () => {
    expect(commands(daemonJsonStep.plan(dock({ running: false }), ctxFor('pi2')))).toEqual(['put /etc/docker/daemon.json']);
  });
  it('invalid JSON fails with the path', () => {
    const p = daemonJsonStep.plan(dock({ daemonJson: '{oops' }), ctxFor('pi2'));
    expect(p).toEqual({ kind: 'fail', msg: expect.stringContaining('/etc/docker/daemon.json is not valid JSON') });
  });
  it('Docker Hub without insecure registry: nothing to write', () => {
    expect(daemonJsonStep.plan(dock(), ctxFor('pi2', { inv: inventory('', { hub: true }) }))).toEqual({ kind: 'ok', msg: 'no daemon.json needed' });
  });
});

describe('docker running', () => {
  it('systemd: enable --now, and ok only when enabled', () => {
    expect(commands(dockerRunningStep.plan(dock({ running: false, init: 'systemd' }), ctxFor('pi2')))[0]).toMatch(/^systemctl enable --now docker\n/);
    expect(dockerRunningStep.plan(dock({ init: 'systemd', enabled: false }), ctxFor('pi2')).kind).toBe('change');
    expect(dockerRunningStep.plan(dock({ init: 'systemd', enabled: true }), ctxFor('pi2')).kind).toBe('ok');
  });
  it('init script on the virtual fridge', () => {
    expect(commands(dockerRunningStep.plan(dock({ running: false }), ctxFor('pi2')))[0]).toMatch(/^service docker start\n/);
  });
});

describe('cgroup flags and reboot', () => {
  it('appends the flags to the one line of cmdline.txt, wherever it lives', () => {
    for (const path of ['/boot/firmware/cmdline.txt', '/boot/cmdline.txt']) {
      const p = cgroupStep.plan(os({ cmdlinePath: path, cmdline: 'console=tty1 rootwait\n' }), ctxFor('pi1'));
      expect(written(p, path)?.content).toBe(`console=tty1 rootwait ${CGROUP_FLAGS.join(' ')}\n`);
    }
    expect(cmdlineWithFlags('a cgroup_memory=1\n')).toBe('a cgroup_memory=1 cgroup_enable=cpuset cgroup_enable=memory\n');
  });
  it('no-op when present; skipped when there is no cmdline.txt', () => {
    expect(cgroupStep.plan(os({ cmdline: `x ${CGROUP_FLAGS.join(' ')}\n` }), ctxFor('pi1')).kind).toBe('ok');
    expect(cgroupStep.plan(os({ cmdlinePath: undefined, cmdline: undefined }), ctxFor('pi1')).kind).toBe('skip');
  });
  it('reboot: skipped on the virtual fridge and says why; a real Pi reboots; ok once the kernel has the flags', () => {
    expect(rebootStep.plan(os(), ctxFor('pi1'))).toEqual({ kind: 'skip', msg: expect.stringContaining('virtual fridge') });
    const real = ctxFor('pi1', { inv: inventory('', { virtual: false }) });
    expect(commands(rebootStep.plan(os(), real))).toEqual(['call reboot']);
    expect(rebootStep.plan(os({ procCmdline: `console=tty1 ${CGROUP_FLAGS.join(' ')}` }), real).kind).toBe('ok');
  });
});

describe('purge engine', () => {
  it('no-op without docker; otherwise stop, purge, empty /var/lib/docker', () => {
    expect(purgeEngineStep.plan(fresh, ctxFor('pi2')).kind).toBe('ok');
    const c = commands(purgeEngineStep.plan(dock(), ctxFor('pi2')))[0] ?? '';
    expect(c).toContain('service docker stop');
    expect(c).toContain('apt-get purge');
    expect(c).toContain('find /var/lib/docker -mindepth 1');
  });
});
