// pyinfra-style table tests: facts in → plan out, including the no-op case.
import { describe, expect, it } from 'vitest';
import { parseOsFacts } from '../../tasks/lib/facts/os.ts';
import { parseNetworkFacts, type NetworkFacts } from '../../tasks/lib/facts/network.ts';
import { parseKv } from '../../tasks/lib/facts/probe.ts';
import { hostFactsStep, hostnameStep, hostsWithName } from '../../tasks/lib/steps/host.ts';
import { dhcpcdConf, nmKeyfile, staticIpStep } from '../../tasks/lib/steps/network.ts';
import type { HostContext } from '../../tasks/lib/engine/types.ts';
import { b64, commands, ctxFor, os, written } from './steps-fixture.ts';

describe('os facts', () => {
  it('parses a probe answer and prefers /boot/firmware/cmdline.txt', () => {
    const kv = parseKv(
      [
        'os_id=debian',
        'os_pretty=Raspbian GNU/Linux 11 (bullseye)',
        'model=Raspberry Pi 3 Model B Rev 1.2',
        'mem_kib=948304',
        'hostname=raspberrypi',
        'init=systemd',
        'raspi_config=1',
        `etc_hostname=${b64('raspberrypi\n')}`,
        'etc_hosts=absent',
        'cmdline_path=/boot/cmdline.txt',
        'cmdline_fw=absent',
        `cmdline_boot=${b64('console=tty1\n')}`,
        'proc_cmdline=console=tty1',
        'dockerd=0',
      ].join('\n'),
    );
    const f = parseOsFacts(kv);
    expect(f).toMatchObject({ model: 'Raspberry Pi 3 Model B Rev 1.2', memMiB: 926, init: 'systemd', raspiConfig: true, etcHostname: 'raspberrypi\n', etcHosts: undefined });
    expect(f.cmdline).toBe('console=tty1\n');
  });
});

describe('memory', () => {
  it('a container reports its cgroup limit, not the host RAM in /proc/meminfo', () => {
    expect(parseOsFacts(parseKv('mem_kib=24684544\nmem_limit=1073741824\n')).memMiB).toBe(1024);
    expect(parseOsFacts(parseKv('mem_kib=948304\nmem_limit=max\n')).memMiB).toBe(926);
    expect(parseOsFacts(parseKv('mem_kib=948304\nmem_limit=9223372036854771712\n')).memMiB).toBe(926);
  });
});

describe('host facts step', () => {
  it('reports what the host is', () => {
    const p = hostFactsStep.plan(os(), ctxFor('pi1'));
    expect(p).toEqual({ kind: 'ok', msg: expect.stringContaining('Debian GNU/Linux 12 (bookworm)') });
    expect(p.kind === 'ok' && p.msg).toContain('model virtual (from the inventory)');
  });
  it('fails without os-release', () => {
    expect(hostFactsStep.plan(os({ id: 'unknown' }), ctxFor('pi1')).kind).toBe('fail');
  });
});

describe('hostname step', () => {
  it('no-op when name, /etc/hostname and /etc/hosts agree', () => {
    expect(hostnameStep.plan(os(), ctxFor('pi1'))).toEqual({ kind: 'ok', msg: 'hostname is pi1' });
  });
  it('fresh Pi without raspi-config: hosts first, then hostname file, then the live name', () => {
    const p = hostnameStep.plan(os({ hostname: 'raspberrypi', etcHostname: 'raspberrypi\n', etcHosts: '127.0.0.1\tlocalhost\n10.77.0.11\traspberrypi\n' }), ctxFor('pi1'));
    expect(p.kind === 'change' && p.changes[0]?.summary).toBe('set hostname raspberrypi → pi1');
    const c = commands(p);
    expect(c[0]).toMatch(/^printf '%s' \S+ \| base64 -d > \/etc\/hosts$/);
    expect(c[1]).toBe(`printf '%s' ${Buffer.from('pi1\n').toString('base64')} | base64 -d > /etc/hostname`);
    expect(c[2]).toBe('hostname pi1');
    expect(p.kind === 'change' && p.changes[0]?.diff?.after).toBe('127.0.0.1\tlocalhost\n10.77.0.11\traspberrypi\n127.0.1.1\tpi1\n');
  });
  it('uses raspi-config where present and restarts a running dockerd', () => {
    const p = hostnameStep.plan(os({ hostname: 'raspberrypi', raspiConfig: true, dockerd: true, init: 'systemd' }), ctxFor('pi1'));
    const c = commands(p);
    expect(c[0]).toBe('raspi-config nonint do_hostname pi1');
    expect(c[2]).toContain('systemctl restart docker');
  });
  it('hostnamectl on systemd', () => {
    expect(commands(hostnameStep.plan(os({ hostname: 'x', init: 'systemd', hostnamectl: true }), ctxFor('pi1')))).toContain('hostnamectl set-hostname pi1');
  });
  it('hostsWithName replaces the 127.0.1.1 line and keeps the rest', () => {
    expect(hostsWithName('127.0.0.1 localhost\n127.0.1.1 raspberrypi\n::1 ip6\n', 'pi2')).toBe('127.0.0.1 localhost\n127.0.1.1\tpi2\n::1 ip6\n');
    expect(hostsWithName('127.0.0.1 localhost\n127.0.1.1 pi2\n', 'pi2')).toBe('127.0.0.1 localhost\n127.0.1.1 pi2\n');
  });
});

function net(over: Partial<NetworkFacts> = {}): NetworkFacts {
  return { style: 'none', addresses: ['10.77.0.11'], interfaceExists: true, dhcpcdConf: undefined, nmConnection: undefined, ...over };
}

describe('network facts', () => {
  it('NetworkManager wins only when it runs', () => {
    expect(parseNetworkFacts(parseKv('has_dhcpcd=1\nhas_nmcli=1\nnm_running=0\niface=1\naddrs=10.0.0.2 \n')).style).toBe('dhcpcd');
    expect(parseNetworkFacts(parseKv('has_dhcpcd=1\nhas_nmcli=1\nnm_running=1\niface=1\naddrs=\n')).style).toBe('networkmanager');
    expect(parseNetworkFacts(parseKv('has_dhcpcd=0\nhas_nmcli=0\niface=1\naddrs=10.0.0.2 10.0.0.3 \n')).addresses).toEqual(['10.0.0.2', '10.0.0.3']);
  });
});

describe('static address step', () => {
  const a = { iface: 'eth0', ip: '10.77.0.11', prefix: 24, router: '10.77.0.1', dns: ['10.77.0.1'] };
  it('virtual fridge: address already there, nothing manages it → ok', () => {
    expect(staticIpStep.plan(net(), ctxFor('pi1')).kind).toBe('ok');
  });
  it('neither dhcpcd nor NetworkManager and the address is missing → skipped with a reason', () => {
    const p = staticIpStep.plan(net({ addresses: ['10.77.0.99'] }), ctxFor('pi1'));
    expect(p).toEqual({ kind: 'skip', msg: expect.stringContaining('neither dhcpcd nor NetworkManager') });
  });
  it('dhcpcd: writes the block, adds the address without removing the one in use', () => {
    const p = staticIpStep.plan(net({ style: 'dhcpcd', addresses: ['192.0.2.50'], dhcpcdConf: 'hostname\nclientid\n' }), ctxFor('pi1'));
    expect(commands(p)).toEqual(['put /etc/dhcpcd.conf', 'ip addr add 10.77.0.11/24 dev eth0']);
    const after = p.kind === 'change' ? p.changes[0]?.diff?.after : '';
    expect(after).toContain('hostname\nclientid\n\n# BEGIN fridge static address');
    expect(after).toContain('static ip_address=10.77.0.11/24\nstatic routers=10.77.0.1\nstatic domain_name_servers=10.77.0.1\n');
  });
  it('dhcpcd no-op: block present and address live', () => {
    expect(staticIpStep.plan(net({ style: 'dhcpcd', dhcpcdConf: dhcpcdConf('hostname\n', a) }), ctxFor('pi1')).kind).toBe('ok');
    // A second write of the block replaces it instead of appending another.
    expect(dhcpcdConf(dhcpcdConf('hostname\n', a), a)).toBe(dhcpcdConf('hostname\n', a));
  });
  it('NetworkManager: keyfile mode 600 and reload; no-op when equal', () => {
    const p = staticIpStep.plan(net({ style: 'networkmanager' }), ctxFor('pi1'));
    expect(written(p, '/etc/NetworkManager/system-connections/fridge-eth0.nmconnection')).toEqual({ content: nmKeyfile(a), mode: '600' });
    expect(commands(p)).toContain('nmcli connection reload');
    expect(staticIpStep.plan(net({ style: 'networkmanager', nmConnection: nmKeyfile(a) }), ctxFor('pi1')).kind).toBe('ok');
    expect(nmKeyfile(a)).toContain('address1=10.77.0.11/24,10.77.0.1\ndns=10.77.0.1;\n');
  });
  it('missing interface fails', () => {
    expect(staticIpStep.plan(net({ interfaceExists: false }), ctxFor('pi1')).kind).toBe('fail');
  });

  describe('a Pi reached at its first-contact address (a DHCP lease) moves to its static one', () => {
    const atLease = (): HostContext => {
      const ctx = ctxFor('pi1');
      return { ...ctx, host: { ...ctx.host, address: '10.77.0.112' } };
    };
    it('NetworkManager: keyfile, reload, then the move (the profile activated, the run reconnecting), no live add', () => {
      const p = staticIpStep.plan(net({ style: 'networkmanager', addresses: ['10.77.0.112'] }), atLease());
      expect(commands(p)).toEqual(['put /etc/NetworkManager/system-connections/fridge-eth0.nmconnection', 'nmcli connection reload', 'call move to 10.77.0.11']);
      expect(p.kind === 'change' ? p.changes[1]?.summary : '').toBe(
        'move from 10.77.0.112 to 10.77.0.11: NetworkManager activates fridge-eth0 (the lease goes), the run goes on at 10.77.0.11',
      );
    });
    it('NetworkManager: the keyfile already written by an earlier, interrupted run: only the move', () => {
      const p = staticIpStep.plan(net({ style: 'networkmanager', addresses: ['10.77.0.112'], nmConnection: nmKeyfile(a) }), atLease());
      expect(commands(p)).toEqual(['call move to 10.77.0.11']);
    });
    it('dhcpcd: the block, the address added live, then the move (no cut: the lease stays until the next boot)', () => {
      const p = staticIpStep.plan(net({ style: 'dhcpcd', addresses: ['10.77.0.112'], dhcpcdConf: 'hostname\n' }), atLease());
      expect(commands(p)).toEqual(['put /etc/dhcpcd.conf', 'ip addr add 10.77.0.11/24 dev eth0', 'call move to 10.77.0.11']);
    });
    it('once moved (reached at the static address): ok, nothing to do', () => {
      expect(staticIpStep.plan(net({ style: 'networkmanager', nmConnection: nmKeyfile(a) }), ctxFor('pi1')).kind).toBe('ok');
    });
    it('check mode plans the same move without running it', () => {
      const ctx = { ...atLease(), check: true };
      expect(commands(staticIpStep.plan(net({ style: 'networkmanager', addresses: ['10.77.0.112'] }), ctx)).at(-1)).toBe('call move to 10.77.0.11');
    });
  });
});
