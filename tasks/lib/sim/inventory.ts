// The inventory the virtual fridge writes: same shape as inventory/fridge.yaml, pointing at the sim's nodes,
// registry and key pair. Building it is pure; writing it is one call.
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { PiModel } from '../inventory/types.ts';
import { SIM, SIM_PATHS, emulatedPlatform, nodeAddress, nodeName, platformsFor, type Arch } from './config.ts';

/** Where the seed puts Flink on five Pis (jobmanager pinned to the 4th, taskmanagers off the leader and it), scaled down. */
export function flinkPlacement(nodes: number): { jobmanager: string; exclude: string[]; replicas: number } {
  if (nodes >= 5) return { jobmanager: nodeName(4), exclude: [nodeName(1), nodeName(4)], replicas: nodes - 2 };
  if (nodes >= 2) return { jobmanager: nodeName(1), exclude: [nodeName(1)], replicas: nodes - 1 };
  return { jobmanager: nodeName(1), exclude: [], replicas: 1 };
}

export interface SimInventoryInput {
  nodes: number;
  arch: Arch;
  model: PiModel;
  /** `up --first-boot`: the Pis are at DHCP addresses nobody knows yet: ansible_host is the name (FIRST_BOOT_HEADER). */
  firstBoot?: boolean;
}

type HostVars = { ansible_host: string; fridge_static_ip: string };

/** Flink's timeouts for JVMs under QEMU (tasks/lib/sim/README.md says why they differ from a Pi's). */
export const QEMU_FLINK_PROPERTIES = {
  'pekko.startup-timeout': '3 min',
  'pekko.ask.timeout': '2 min',
  'heartbeat.timeout': 300000,
  'rest.await-leader-timeout': 120000,
} as const;

export function simInventory(input: SimInventoryInput): Record<string, unknown> {
  const placement = flinkPlacement(input.nodes);
  const host = (i: number): [string, HostVars] => [nodeName(i), input.firstBoot ? { ansible_host: nodeName(i), fridge_static_ip: nodeAddress(i) } : { ansible_host: nodeAddress(i), fridge_static_ip: nodeAddress(i) }];
  const workers = Array.from({ length: input.nodes - 1 }, (_, k) => host(k + 2));
  const emulates = emulatedPlatform(input.model, input.arch);
  const vars: Record<string, unknown> = {
    ansible_user: SIM.user,
    ansible_ssh_private_key_file: SIM_PATHS.privateKey,
    fridge_authorized_key_file: SIM_PATHS.publicKey,
    // The sim sets no environment: an unset FRIDGE_SSH_PASSWORD falls back to the file below (virtual only).
    fridge_ssh_password_env: 'FRIDGE_SSH_PASSWORD',
    fridge_ssh_password_file: SIM_PATHS.passwordFile,
    fridge_cluster_name: 'virtual-fridge',
    fridge_model: input.model,
    // The swarm phase applies these as node labels: what each node stands for, which its engine cannot tell.
    ...(emulates ? { fridge_labels: { [SIM.emulatesLabel]: emulates } } : {}),
    fridge_registry: `127.0.0.1:${SIM.registryPort}`,
    fridge_registry_pull: `${SIM.gateway}:${SIM.registryPort}`,
    fridge_registry_insecure: true,
    fridge_image: 'fridge/flink',
    fridge_platforms: platformsFor(input.arch),
    fridge_flink_version: '2.3.0',
    fridge_flink_jobmanager_host: placement.jobmanager,
    fridge_flink_taskmanager_exclude: placement.exclude,
    fridge_flink_taskmanager_replicas: placement.replicas,
    fridge_flink_taskmanager_max_per_host: 2,
    fridge_flink_slots: 1,
    fridge_flink_state_dir: SIM.stateMount,
    // As on real Pis: each node has only its own disk, and pi-setup makes the leader's directory every node's
    // state directory (sshfs). The leader runs no taskmanager in the seed's placement.
    fridge_state_storage: { type: 'sshfs', server: nodeName(1), path: '/srv/fridge-state' },
    // Under QEMU (--arch armv7) a JVM starts many times slower than on a Pi: Pekko's 10 s to bring up its actor
    // system is not enough there, nor are the default ask and heartbeat timeouts. Official keys, as a user whose
    // machines are that slow would set them; on amd64 the defaults stand.
    fridge_flink_properties: input.arch === 'armv7' ? QEMU_FLINK_PROPERTIES : {},
    fridge_network: { prefix: SIM.prefix, router: SIM.gateway, dns: [SIM.gateway], interface: 'eth0' },
    fridge_services: { mosquitto: false, prometheus: false, grafana: false, visualizer: false },
    fridge_stack_name: 'flink',
    fridge_docker_install: 'apt',
    // The host kernel has no IPVS: no routing mesh, so dnsrr endpoints and host-mode ports.
    fridge_dnsrr: true,
    fridge_virtual: true,
  };
  return {
    all: {
      vars,
      children: {
        managers: { hosts: Object.fromEntries([host(1)]) },
        ...(workers.length ? { workers: { hosts: Object.fromEntries(workers) } } : {}),
      },
    },
  };
}

const HEADER = [
  '# Written by `npx zx tasks/sim.mjs up`: the virtual fridge on this machine (docker network fridge-sim, 10.77.0.0/24).',
  '# Regenerated on every `up`; edit tasks/lib/sim/inventory.ts instead.',
  '',
].join('\n');

const FIRST_BOOT_HEADER = [
  '# Written by `npx zx tasks/sim.mjs up --first-boot`: the virtual fridge booted like freshly flashed Pis.',
  '# Each host\'s ansible_host is only its name: a Pi is first on a DHCP lease (10.77.0.100-199), which its card,',
  '# written by `npx zx tasks/sd-card.mjs --boot .fridge/sim/cards/piN`, lets you log in to. Find the leases',
  '# (`npx zx tasks/discover.mjs`, or the router\'s client list: `npx zx tasks/sim.mjs status`), set each',
  '# ansible_host to its lease, and pi-setup moves every Pi to its fridge_static_ip.',
  '',
].join('\n');

/** Writes the inventory; returns true when its content changed. */
export function writeSimInventory(input: SimInventoryInput, file = input.firstBoot ? SIM_PATHS.firstBootInventory : SIM_PATHS.inventory): boolean {
  const text = (input.firstBoot ? FIRST_BOOT_HEADER : HEADER) + stringify(simInventory(input), { lineWidth: 0 });
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (old === text) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Other tools may be reading it right now: never let them see half a file.
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
  return true;
}
