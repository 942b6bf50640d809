// `npx zx tasks/sim.mjs up|status|down`: parses options, calls the API, prints, returns the exit code.
import { parseArgs } from 'node:util';
import { EXIT } from '../engine/types.ts';
import { PI_MODELS, type PiModel } from '../inventory/types.ts';
import { mask } from '../secrets.ts';
import { SIM, nodeName, savedArch, type Arch } from './config.ts';
import { flashBlankCard } from './cards.ts';
import { simDown, simStatus, simUp, staleNodes, type NodeStatus, type SimStatus } from './sim.ts';

const HELP = `Usage: npx zx tasks/sim.mjs <up|status|down|cards> [options]

The virtual fridge: Raspberry Pi-like containers (sshd, user pi / raspberry, no docker yet) on the docker
network ${SIM.network} (${SIM.subnet}), a registry on 127.0.0.1:${SIM.registryPort} and ${SIM.gateway}:${SIM.registryPort},
an apt cache on ${SIM.gateway}:${SIM.aptCachePort}, and the inventory .fridge/sim/inventory.yaml.

  up      [--nodes N] [--arch amd64|armv7] [--model 3B] [--fresh]
          create what is missing; running nodes are kept as they are unless --fresh (fresh Pis)
  up --first-boot [--nodes N] [--fresh]
          boot like freshly flashed Raspberry Pi OS instead: systemd, NetworkManager, a DHCP lease from
          the router (dnsmasq on ${SIM.gateway}), Raspberry Pi MACs, and no user nor sshd until the card in
          .fridge/sim/cards/piN (prepared by \`npx zx tasks/sd-card.mjs --boot DIR\`) says so; writes
          .fridge/sim/first-boot.yaml. --renew piN (repeatable) makes that node again from its card, as a
          re-flashed Pi: new disk, new host keys, which are NOT forgotten (the changed key is met as on a LAN)
  cards   [--nodes N]
          flash blank cards into .fridge/sim/cards/pi1..N (what was on them is gone)
  status  nodes, addresses, state, memory limit (and whether the node's engine sees it), host services
  down    [--purge]
          remove what up made; --purge also drops the node images, registry data and apt cache

  --json  print the result as JSON
`;

function out(line: string): void {
  process.stdout.write(`${mask(line)}\n`);
}

function table(nodes: NodeStatus[]): string[] {
  // MEMINFO: whether the node's engine sees that memory (lxcfs) or this machine's.
  const rows = nodes.map((n) => [n.name, n.address, n.state, `${Math.round(n.memoryBytes / 1024 / 1024)} MiB`, n.meminfo === 'limit' ? 'limit' : 'host (no lxcfs)', n.container]);
  const head = ['NODE', 'ADDRESS', 'STATE', 'MEMORY', 'MEMINFO', 'CONTAINER'];
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  return [head, ...rows].map((r) => r.map((c, k) => c.padEnd(widths[k] ?? 0)).join('  ').trimEnd());
}

async function printStatus(st: SimStatus): Promise<void> {
  if (!st.nodes.length && !st.network) out('virtual fridge: down');
  for (const l of table(st.nodes)) out(l);
  for (const l of st.leases) out(`lease ${l.address.padEnd(14)} ${l.mac} ${l.hostname ?? '(no name)'}`);
  for (const s of st.services) out(`${s.name.padEnd(20)} ${s.address.padEnd(16)} ${s.state === 'foreign' ? 'answering (not started by sim)' : s.state}`);
  const stale = await staleNodes(st.nodes);
  if (stale.length) out(`nodes from an older node image: ${stale.join(', ')} (up --fresh renews them)`);
  if (st.inventory) out(`inventory: ${st.inventory}`);
}

export async function main(argv: string[]): Promise<number> {
  // `sim.mjs status | head` closes the pipe early: not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        nodes: { type: 'string', default: '5' },
        arch: { type: 'string' },
        model: { type: 'string', default: '3B' },
        fresh: { type: 'boolean', default: false },
        'first-boot': { type: 'boolean', default: false },
        renew: { type: 'string', multiple: true, default: [] },
        purge: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${HELP}`);
    return EXIT.badOptions;
  }
  const { values: v, positionals } = parsed;
  const command = positionals[0];
  if (v.help || !command) {
    out(HELP);
    return v.help ? EXIT.ok : EXIT.badOptions;
  }
  // Unless told, the fridge stays what it was last brought up as (sim up --arch armv7, then deploy).
  const arch = v.arch ?? savedArch() ?? 'amd64';
  const model = v.model;
  const nodes = Number(v.nodes);
  if (arch !== 'amd64' && arch !== 'armv7') return bad(`--arch must be amd64 or armv7, not ${arch}`);
  if (!(PI_MODELS as readonly string[]).includes(model)) return bad(`--model must be one of ${PI_MODELS.join(', ')}`);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > SIM.maxNodes) return bad(`--nodes must be a whole number from 1 to ${SIM.maxNodes}`);

  switch (command) {
    case 'up': {
      const firstBoot = v['first-boot'];
      const r = await simUp({ nodes, arch: arch as Arch, model: model as PiModel, fresh: v.fresh, firstBoot, renew: v.renew, log: v.json ? () => undefined : out });
      if (v.json) out(JSON.stringify(r, null, 2));
      else if (r.ok) {
        for (const l of table(r.nodes)) out(l);
        if (r.leases) for (const [name, l] of Object.entries(r.leases)) out(`${name}: DHCP lease ${l.address} for ${l.mac}${l.hostname ? ` (${l.hostname})` : ''}`);
        out(`inventory: ${r.inventory} (${arch === 'armv7' ? 'linux/arm/v7 images under QEMU; --arch amd64 to change' : 'linux/amd64 images; --arch armv7 for the Pis\' own, under QEMU'})`);
        const kept = r.nodes.length - r.created.length - r.started.length;
        const restarted = r.restarted.length ? `, restarted ${r.restarted.length}` : '';
        out(`up in ${(r.durationMs / 1000).toFixed(1)} s (created ${r.created.length}, started ${r.started.length}${restarted}, kept running ${kept - r.restarted.length})`);
      } else out(`error: ${r.error}`);
      return r.ok ? EXIT.ok : EXIT.error;
    }
    case 'cards': {
      for (let i = 1; i <= nodes; i++) out(`${nodeName(i)}: blank card in ${flashBlankCard(nodeName(i))}`);
      out('prepare them with `npx zx tasks/sd-card.mjs -i INVENTORY --host piN --boot DIR`, then `npx zx tasks/sim.mjs up --first-boot --fresh`');
      return EXIT.ok;
    }
    case 'status': {
      const st = await simStatus();
      if (v.json) out(JSON.stringify(st, null, 2));
      else await printStatus(st);
      return EXIT.ok;
    }
    case 'down': {
      const r = await simDown({ purge: v.purge });
      if (v.json) out(JSON.stringify(r, null, 2));
      else if (r.ok) {
        for (const x of r.removed) out(`removed ${x}`);
        out(`down in ${(r.durationMs / 1000).toFixed(1)} s`);
      } else out(`error: ${r.error}`);
      return r.ok ? EXIT.ok : EXIT.error;
    }
    default:
      return bad(`unknown command ${command}: expected up, status, down or cards`);
  }
}

function bad(msg: string): number {
  process.stderr.write(`error: ${msg}\nTry: npx zx tasks/sim.mjs --help\n`);
  return EXIT.badOptions;
}
