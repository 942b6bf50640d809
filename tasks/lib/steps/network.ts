// Static address per inventory: dhcpcd.conf (Buster/Bullseye, as the seed does) or a NetworkManager
// keyfile (Bookworm). The live change only ADDS the address: the connection the run uses is never cut.
import type { Action, Change, HostContext, Step } from '../engine/types.ts';
import { nmConnectionPath, type NetworkFacts } from '../facts/network.ts';
import { gatherNetwork } from '../facts/gather.ts';
import { shq } from '../transport/types.ts';
import { change, diffOf, fail, ok, sh, skip, withManagedBlock, writeFile } from './common.ts';

const BEGIN = '# BEGIN fridge static address (managed by pi-setup)';
const END = '# END fridge static address';

export interface StaticAddress {
  iface: string;
  ip: string;
  prefix: number;
  router: string | undefined;
  dns: string[];
}

export function dhcpcdConf(current: string | undefined, a: StaticAddress): string {
  const block = [`interface ${a.iface}`, `static ip_address=${a.ip}/${a.prefix}`];
  if (a.router) block.push(`static routers=${a.router}`);
  if (a.dns.length > 0) block.push(`static domain_name_servers=${a.dns.join(' ')}`);
  return withManagedBlock(current, BEGIN, END, block);
}

export function nmKeyfile(a: StaticAddress): string {
  const lines = [
    '# Managed by Fridge pi-setup: static address from the inventory.',
    '[connection]',
    `id=fridge-${a.iface}`,
    'type=ethernet',
    `interface-name=${a.iface}`,
    'autoconnect=true',
    'autoconnect-priority=100',
    '',
    '[ipv4]',
    'method=manual',
    `address1=${a.ip}/${a.prefix}${a.router ? `,${a.router}` : ''}`,
    ...(a.dns.length > 0 ? [`dns=${a.dns.join(';')};`] : []),
    '',
    '[ipv6]',
    'method=auto',
  ];
  return `${lines.join('\n')}\n`;
}

function wanted(ctx: HostContext): StaticAddress | undefined {
  const ip = ctx.host.staticIp;
  if (!ip) return undefined;
  const n = ctx.inventory.cluster.network;
  return { iface: n.interface, ip, prefix: n.prefix, router: n.router, dns: n.dns };
}

function addLive(a: StaticAddress, f: NetworkFacts): Action[] {
  return f.addresses.includes(a.ip) ? [] : [sh(`ip addr add ${shq(`${a.ip}/${a.prefix}`)} dev ${shq(a.iface)}`)];
}

export const staticIpStep: Step<NetworkFacts> = {
  name: 'static address',
  gather: (ctx) => gatherNetwork(ctx),
  plan(f, ctx) {
    const a = wanted(ctx);
    if (!a) return ok('no fridge_static_ip for this host: address left as it is');
    if (!f.interfaceExists) return fail(`interface ${a.iface} not found (fridge_network.interface)`);
    const has = f.addresses.includes(a.ip);
    switch (f.style) {
      case 'none':
        return has
          ? ok(`${a.ip} already on ${a.iface} (neither dhcpcd nor NetworkManager here: nothing to persist)`)
          : skip(`neither dhcpcd nor NetworkManager manages ${a.iface}: cannot make ${a.ip} static; configure it by hand`);
      case 'dhcpcd': {
        const after = dhcpcdConf(f.dhcpcdConf, a);
        const changes: Change[] = [];
        if (after !== f.dhcpcdConf) {
          changes.push({
            summary: `dhcpcd: static ${a.ip}/${a.prefix} on ${a.iface}`,
            actions: [writeFile('/etc/dhcpcd.conf', after, 0o664)],
            diff: diffOf('/etc/dhcpcd.conf', f.dhcpcdConf, after),
          });
        }
        if (!has) changes.push({ summary: `add ${a.ip} to ${a.iface} now (the current address stays until the next boot)`, actions: addLive(a, f) });
        return changes.length === 0 ? ok(`${a.ip}/${a.prefix} static on ${a.iface} (dhcpcd)`) : change(...changes);
      }
      case 'networkmanager': {
        const path = nmConnectionPath(a.iface);
        const after = nmKeyfile(a);
        const changes: Change[] = [];
        if (after !== f.nmConnection) {
          changes.push({
            summary: `NetworkManager: static ${a.ip}/${a.prefix} on ${a.iface}`,
            actions: [writeFile(path, after, 0o600), sh('nmcli connection reload')],
            diff: diffOf(path, f.nmConnection, after),
          });
        }
        if (!has) changes.push({ summary: `add ${a.ip} to ${a.iface} now (the current address stays until the next boot)`, actions: addLive(a, f) });
        return changes.length === 0 ? ok(`${a.ip}/${a.prefix} static on ${a.iface} (NetworkManager)`) : change(...changes);
      }
    }
  },
};
