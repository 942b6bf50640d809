// Static address per inventory: dhcpcd.conf (Buster/Bullseye, as the seed does) or a NetworkManager
// keyfile (Bookworm). A Pi reached at its static address keeps the session: the address is only added live.
// A Pi reached at its first-contact address (a DHCP lease) MOVES: NetworkManager activates the static profile
// (which drops the lease and this session with it) and the run reconnects at the static address; with dhcpcd
// the static address is added live and the lease stays until the next boot. The move is recorded (MOVED) for
// pi-setup, which makes the rest of the run, and the next runs, connect at the static address.
import { outputKey } from '../engine/outputs.ts';
import type { Action, CallOutcome, Change, HostContext, Step } from '../engine/types.ts';
import { waitFor, waitingProgress, type Probe } from '../engine/wait.ts';
import { nmConnectionPath, type NetworkFacts } from '../facts/network.ts';
import { gatherNetwork } from '../facts/gather.ts';
import { pinHostKey } from '../transport/known-hosts.ts';
import { onNewConnection } from '../transport/new-connection.ts';
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

/** A host that pi-setup moved from its first-contact address to its static one, in this run. */
export const MOVED = outputKey<{ from: string; to: string }>('static address move');

export const MOVE_TIMEOUT_MS = 60_000;

/** NetworkManager's profile for the static address (nmKeyfile's id). */
export const nmProfile = (iface: string): string => `fridge-${iface}`;

/** One look at the static address, on a NEW connection: it answers there and, with NetworkManager, the lease is gone. */
async function seenAt(ctx: HostContext, a: StaticAddress, from: string, nm: boolean): Promise<Probe<true>> {
  const look = await onNewConnection({ ...ctx.host, address: a.ip, firstContact: undefined }, async (t) => (await t.exec(`ip -4 -o addr show dev ${shq(a.iface)}`)).stdout);
  if (!look.reached) return { done: false, last: `no SSH at ${a.ip} yet: ${look.why}` };
  if (!look.value.includes(` ${a.ip}/`)) return { done: false, last: `${a.ip} answers but is not on ${a.iface} yet` };
  if (nm && look.value.includes(` ${from}/`)) return { done: false, last: `${a.iface} still holds ${from}` };
  return { done: true, result: true };
}

function moveAction(a: StaticAddress, from: string, nm: boolean): Action {
  return {
    kind: 'call',
    label: `move to ${a.ip}`,
    fn: async (ctx): Promise<CallOutcome> => {
      // The same machine, at its new address: the key it just proved it holds is the one to expect there.
      const key = ctx.transport.hostKey;
      if (key) pinHostKey(a.ip, ctx.host.port, key);
      // Detached and delayed: the activation takes away the address this session runs over, so its answer would
      // never arrive. What tells that it worked is a new connection at the static address.
      if (nm) await ctx.transport.exec(`nohup sh -c ${shq(`sleep 1; nmcli connection up id ${shq(nmProfile(a.iface))}`)} >/dev/null 2>&1 &`, { sudo: true });
      const seen = await waitFor(() => seenAt(ctx, a, from, nm), { timeoutMs: MOVE_TIMEOUT_MS, intervalMs: 1_000, startAfterMs: nm ? 2_000 : 0, ...waitingProgress(ctx.progress) });
      if (seen !== true) {
        return {
          ok: false,
          msg: `${ctx.host.name} did not answer at ${a.ip} within ${MOVE_TIMEOUT_MS / 1000} s (${seen.last}); it may still be at ${from}: \`npx zx tasks/ping.mjs\` tries both`,
        };
      }
      ctx.record(MOVED, { from, to: a.ip });
      return { ok: true, output: `now at ${a.ip}` };
    },
  };
}

function moveChange(a: StaticAddress, from: string, how: 'networkmanager' | 'dhcpcd'): Change {
  const nm = how === 'networkmanager';
  return {
    summary: nm
      ? `move from ${from} to ${a.ip}: NetworkManager activates ${nmProfile(a.iface)} (the lease goes), the run goes on at ${a.ip}`
      : `move from ${from} to ${a.ip}: added now (the lease stays until the next boot), the run goes on at ${a.ip}`,
    actions: [moveAction(a, from, nm)],
  };
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
    // Where this run reaches the host: its first-contact address until pi-setup moved it (inventory/moved.ts), and
    // again when a moved Pi answered only there (re-flashed: back on its lease).
    const from = ctx.transport.address ?? ctx.host.address;
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
        if (from !== a.ip) changes.push(moveChange(a, from, 'dhcpcd'));
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
        if (from !== a.ip) changes.push(moveChange(a, from, 'networkmanager'));
        else if (!has) changes.push({ summary: `add ${a.ip} to ${a.iface} now (the current address stays until the next boot)`, actions: addLive(a, f) });
        return changes.length === 0 ? ok(`${a.ip}/${a.prefix} static on ${a.iface} (NetworkManager)`) : change(...changes);
      }
    }
  },
};
