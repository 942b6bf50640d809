// Contexts for table tests of steps: a real inventory (parsed as the CLI would) and a transport that
// refuses to be used, because plan() must never touch the host.
import { parseInventory } from '../../tasks/lib/inventory/load.ts';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import type { Action, HostContext, Plan } from '../../tasks/lib/engine/types.ts';
import type { OsFacts } from '../../tasks/lib/facts/os.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import type { Transport } from '../../tasks/lib/transport/types.ts';

export const PUBKEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFridgeFridgeFridgeFridgeFridgeFridgeFridge1 fridge';

export function inventory(extraVars = '', opts: { virtual?: boolean; hub?: boolean } = {}): Inventory {
  const registry = opts.hub
    ? '    fridge_registry: docker.io\n    fridge_registry_insecure: false\n'
    : '    fridge_registry: 127.0.0.1:5000\n    fridge_registry_pull: 10.77.0.1:5000\n    fridge_registry_insecure: true\n';
  const text = `
all:
  vars:
    fridge_virtual: ${opts.virtual ?? true}
    ansible_user: pi
    ansible_ssh_private_key_file: /nonexistent/fridge/id_ed25519
${registry}${opts.virtual === false ? '    fridge_model: 3B\n' : ''}    fridge_image: fridge/flink
    fridge_platforms: [linux/amd64]
    fridge_network: {prefix: 24, router: 10.77.0.1, dns: [10.77.0.1], interface: eth0}
${extraVars}
  children:
    managers:
      hosts:
        pi1: {ansible_host: 10.77.0.11, fridge_static_ip: 10.77.0.11}
    workers:
      hosts:
        pi2: {ansible_host: 10.77.0.12, fridge_static_ip: 10.77.0.12}
        pi3: {ansible_host: 10.77.0.13, fridge_static_ip: 10.77.0.13, fridge_labels: {disk: ssd}}
`;
  const r = parseInventory('fixture.yaml', text);
  if (!r.ok) throw new Error(`fixture inventory invalid: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.inventory;
}

const refuse = (): never => {
  throw new Error('plan() touched the host');
};
const noTransport: Transport = { host: 'x', exec: refuse, put: refuse, putFile: refuse, get: refuse, close: async () => undefined };

/** `outputs`: what earlier steps recorded (read through ctx.output); a plan never records. */
export function ctxFor(name: string, o: { check?: boolean; inv?: Inventory; outputs?: Outputs } = {}): HostContext {
  const inv = o.inv ?? inventory();
  const host = inv.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no host ${name}`);
  const outputs = o.outputs ?? new Outputs();
  return {
    host,
    inventory: inv,
    transport: noTransport,
    check: o.check ?? false,
    output: (from, on = name) => outputs.get(from, on),
    record: () => refuse(),
  };
}

export const b64 = (s: string) => `b64:${Buffer.from(s).toString('base64')}`;

export function os(over: Partial<OsFacts> = {}): OsFacts {
  return {
    id: 'debian',
    versionId: '12',
    codename: 'bookworm',
    pretty: 'Debian GNU/Linux 12 (bookworm)',
    model: '',
    memMiB: 1024,
    hostname: 'pi1',
    arch: 'x86_64',
    init: 'sysv',
    raspiConfig: false,
    hostnamectl: false,
    etcHostname: 'pi1\n',
    etcHosts: '127.0.0.1\tlocalhost\n127.0.1.1\tpi1\n',
    cmdlinePath: '/boot/firmware/cmdline.txt',
    cmdline: 'console=tty1 rootwait\n',
    procCmdline: 'BOOT_IMAGE=/vmlinuz root=/dev/sda1',
    dockerd: false,
    dockerInitScript: false,
    ...over,
  };
}

export function commands(plan: Plan): string[] {
  if (plan.kind !== 'change') return [];
  return plan.changes.flatMap((c) => c.actions.map(describeAction));
}

/** Commands as written, with writeFile()'s atomic writes shown as `put PATH`. */
export function describeAction(a: Action): string {
  if (a.kind === 'call') return `call ${a.label}`;
  if (a.kind === 'put') return `put ${a.path}`;
  const write = /mv -f (\S+)\.fridge-tmp \1$/.exec(a.command);
  return write ? `put ${write[1]}` : a.command;
}

/** What writeFile() would write to the path, decoded from its command. */
export function written(plan: Plan, path: string): { content: string; mode: string } | undefined {
  if (plan.kind !== 'change') return undefined;
  for (const a of plan.changes.flatMap((c) => c.actions)) {
    if (a.kind !== 'run' || describeAction(a) !== `put ${path}`) continue;
    const m = /printf '%s' (\S+) \| base64 -d > .* && chmod (\d+) /.exec(a.command);
    if (m) return { content: Buffer.from(m[1] ?? '', 'base64').toString(), mode: m[2] ?? '' };
  }
  return undefined;
}

