// The tasks a user runs (tasks/<name>.mjs) and the phases each one runs, loaded only when used.
import type { Phase } from '../engine/phase.ts';
import { withKeepAlive } from '../report/progress.ts';

export interface TaskDef {
  description: string;
  phaseNames: string[];
  /** Recorded as a GitHub Deployment when run in a GitHub job. */
  githubDeployment?: boolean;
  /** Runs before the inventory is loaded; may return the inventory to use (deploy brings up the virtual fridge). */
  prepare?: (inventory: string | undefined, log: (line: string) => void) => Promise<{ inventory: string | undefined } | { error: string }>;
}

const load = (m: Promise<{ phase: Phase }>) => m.then((x) => x.phase);

export const PHASES: Record<string, () => Promise<Phase>> = {
  ping: () => load(import('../phases/ping.ts')),
  'pi-setup': () => load(import('../phases/pi-setup.ts')),
  swarm: () => load(import('../phases/swarm.ts')),
  'stack-deploy': () => load(import('../phases/stack-deploy.ts')),
  scale: () => load(import('../phases/scale.ts')),
  status: () => load(import('../phases/status.ts')),
  reset: () => load(import('../phases/reset.ts')),
  'job-submit': () => load(import('../phases/job-submit.ts')),
  'image-build': () => load(import('../phases/image-build.ts')),
  'sd-card': () => load(import('../sdcard/phase.ts')),
  discover: () => load(import('../discover/phase.ts')),
};

function single(name: string, description: string): TaskDef {
  return { description, phaseNames: [name] };
}

export function loadPhase(name: string): Promise<Phase> {
  const loader = PHASES[name];
  if (!loader) throw new Error(`bug: no phase ${name}`);
  return loader();
}

/** --phases / --skip for tasks that run several phases; an error names the unknown ones. */
export function choosePhases(all: string[], only: string | undefined, skip: string | undefined): { phases: string[] } | { error: string } {
  const split = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = [...split(only), ...split(skip)].filter((p) => !all.includes(p));
  if (unknown.length) return { error: `unknown phase(s) ${unknown.join(', ')}; this task's phases: ${all.join(', ')}` };
  const wanted = only ? split(only) : all;
  return { phases: all.filter((p) => wanted.includes(p) && !split(skip).includes(p)) };
}

/** With no inventory, deploy targets the virtual fridge: bring it up (a no-op when it is already up). */
async function virtualFridgeUnlessInventory(inventory: string | undefined, log: (line: string) => void): Promise<{ inventory: string | undefined } | { error: string }> {
  if (inventory) return { inventory };
  log('no inventory given: deploying onto the virtual fridge (npx zx tasks/sim.mjs up)');
  const { simUp } = await import('../sim/sim.ts');
  const { savedArch } = await import('../sim/config.ts');
  // A first bring-up installs packages and debootstraps an image for minutes: the heartbeat says it still runs.
  // The arch is the one it was last brought up with (sim up --arch armv7, then deploy).
  const up = await withKeepAlive('virtual fridge up', log, (say) => simUp({ arch: savedArch() ?? 'amd64', log: say }));
  return up.ok ? { inventory: up.inventory } : { error: `virtual fridge: ${up.error}` };
}

export const TASKS: Record<string, TaskDef> = {
  deploy: {
    description: 'Runs every phase in order: pi-setup → swarm → image-build → stack-deploy → job-submit. With no inventory it brings up the virtual fridge first.',
    phaseNames: ['pi-setup', 'swarm', 'image-build', 'stack-deploy', 'job-submit'],
    prepare: virtualFridgeUnlessInventory,
    githubDeployment: true,
  },
  ping: single('ping', 'Connects to every host and checks a shell answers (like ansible -m ping).'),
  'pi-setup': single('pi-setup', 'Prepares each Pi: hostname, static IP, SSH key (then password login off), Docker engine, cgroup flags.'),
  swarm: single('swarm', 'Forms the Docker Swarm: init on the first manager, join the others, node labels, all nodes Ready.'),
  'image-build': single('image-build', 'Builds the Flink image for the inventory\'s platforms (QEMU for ARM), smoke-tests each, pushes one multi-arch manifest.'),
  'stack-deploy': single('stack-deploy', 'Deploys the Flink stack generated from the inventory and waits until Flink sees its taskmanagers.'),
  scale: single('scale', 'Scales a service (taskmanager by default) and waits until Flink sees the new replicas.'),
  status: single('status', 'Shows nodes, services, Flink taskmanagers/slots, jobs and the dashboard URL.'),
  'job-submit': single('job-submit', 'Uploads and runs a Flink job (default: the example sensor-window job), waits until it runs, prints its id and web UI address.'),
  'sd-card': single('sd-card', 'Prepares a flashed card (or a raw image) for a headless first boot: ssh with your key, the user, the hostname, the first network.'),
  discover: single(
    'discover',
    'Finds the Pis on the LAN (neighbour table, a bounded TCP probe of port 22 reading SSH banners, Raspberry Pi MAC prefixes, raspberrypi.local where the system resolves mDNS) and prints them; --write FILE adds the new ones to an inventory.',
  ),
  reset: single('reset', 'Removes the stack and leaves the swarm on every node (optionally purges the engine).'),
};
