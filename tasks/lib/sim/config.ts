// Names, addresses and paths of the virtual fridge: one place, so `down` removes exactly what `up` made.
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../paths.ts';
import type { PiModel } from '../inventory/types.ts';

export const SIM_DIR = path.join(STATE_DIR, 'sim');

export const SIM = {
  /** Every docker object we create carries this label; `down` only removes labelled objects. */
  label: 'org.fridge.sim',
  network: 'fridge-sim',
  bridge: 'fridge-sim0',
  subnet: '10.77.0.0/24',
  gateway: '10.77.0.1',
  prefix: 24,
  /** pi1 gets 10.77.0.11, pi2 10.77.0.12, ... */
  firstHostOctet: 11,
  maxNodes: 20,
  /** Size of each node's disk (a sparse file: only what the node writes takes room). */
  diskGiB: 16,
  nodeImage: 'fridge-sim/node:bookworm',
  /** `up --first-boot`: a card before its first boot, systemd as init (node-image-first-boot/). */
  firstBootImage: 'fridge-sim/node-first-boot:bookworm',
  /** The LAN's DHCP server (dnsmasq on the gateway, as a home router) leases from this range: never a static address. */
  dhcpRange: ['10.77.0.100', '10.77.0.199'] as const,
  dnsPort: 53,
  baseImage: 'fridge-sim/rootfs:bookworm',
  stateMount: '/mnt/fridge-state',
  registryPort: 5000,
  aptCachePort: 3142,
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  /** Relative CPU weight per node (docker's default is 1024): nodes yield to the host's own work. */
  cpuShares: 512,
  /** Hostname of a freshly flashed Raspberry Pi OS; pi-setup renames it. */
  freshHostname: 'raspberrypi',
  user: 'pi',
  defaultPassword: 'raspberry',
  /**
   * lxcfs's /proc/meminfo for the reading process's cgroup (prepare-host.sh keeps lxcfs running): bind-mounted
   * over a node's own, its dockerd and swarm see the node's memory limit, a Pi's memory, not this machine's.
   */
  lxcfsMeminfo: '/var/lib/lxcfs/proc/meminfo',
  /**
   * Swarm node label saying which platform a virtual node stands for: its engine runs on this machine and
   * reports this machine's architecture (x86_64), which a Pi's would not.
   */
  emulatesLabel: 'fridge.emulates',
} as const;

export const SIM_PATHS = {
  dir: SIM_DIR,
  inventory: path.join(SIM_DIR, 'inventory.yaml'),
  /** `up --first-boot`: the same fridge before anyone knows where its Pis are (ansible_host: the name). */
  firstBootInventory: path.join(SIM_DIR, 'first-boot.yaml'),
  /** Each node's disk (sim/disks.ts): `<node>.ext4` and its mount point `<node>/`. */
  disks: path.join(SIM_DIR, 'disks'),
  /** The --arch of the last `up`: `sim up` and deploy's own bring-up keep it unless told another. */
  arch: path.join(SIM_DIR, 'arch'),
  privateKey: path.join(SIM_DIR, 'id_ed25519'),
  publicKey: path.join(SIM_DIR, 'id_ed25519.pub'),
  passwordFile: path.join(SIM_DIR, 'ssh-password'),
  run: path.join(SIM_DIR, 'run'),
  /** Per-node files that must survive a node restart (docker rewrites its own /etc/hostname and /etc/hosts). */
  nodes: path.join(SIM_DIR, 'nodes'),
  build: path.join(SIM_DIR, 'build'),
  /** `up --first-boot`: each node's SD card, a directory standing for its boot partition (FAT), at /boot/firmware. */
  cards: path.join(SIM_DIR, 'cards'),
  /** Caches kept by `down` (they make the next `up` fast); `down --purge` removes them. */
  registryData: path.join(STATE_DIR, 'registry'),
  aptCache: path.join(STATE_DIR, 'apt-cache'),
} as const;

export type Arch = 'amd64' | 'armv7';

export interface SimOptions {
  nodes: number;
  arch: Arch;
  model: PiModel;
  /** Recreate node containers even when they run (fresh Pis for tests of later phases). */
  fresh: boolean;
  /**
   * Boot like a freshly flashed Pi from the card in `.fridge/sim/cards/<node>` (systemd, NetworkManager, a DHCP
   * address, no way in until the card says so) instead of the ready-made user and sshd of the fast path.
   */
  firstBoot: boolean;
  /**
   * Nodes made again with a new disk and new host keys, as a re-flashed Pi: unlike `fresh`, their old host keys
   * are NOT forgotten, so the changed key is met as on a real LAN.
   */
  renew: string[];
  /** Progress lines (the CLI prints them; the API is quiet by default). */
  log: (line: string) => void;
}

export const DEFAULT_SIM_OPTIONS: SimOptions = {
  nodes: 5,
  arch: 'amd64',
  model: '3B',
  fresh: false,
  firstBoot: false,
  renew: [],
  log: () => undefined,
};

export function nodeName(i: number): string {
  return `pi${i}`;
}

export function cardDir(name: string): string {
  return path.join(SIM_PATHS.cards, name);
}

/** The Raspberry Pi MAC a first-boot node takes at boot (node-image-first-boot/fridge-boot derives it the same way). */
export function nodeMac(i: number): string {
  return `b8:27:eb:${nodeAddress(i).split('.').slice(1).map((o) => Number(o).toString(16).padStart(2, '0')).join(':')}`;
}

export function nodeAddress(i: number): string {
  return `10.77.0.${SIM.firstHostOctet + i - 1}`;
}

/** The --arch the virtual fridge was last brought up with; undefined before the first `up`. */
export function savedArch(file: string = SIM_PATHS.arch): Arch | undefined {
  try {
    const a = fs.readFileSync(file, 'utf8').trim();
    return a === 'amd64' || a === 'armv7' ? a : undefined;
  } catch {
    return undefined;
  }
}

export function platformsFor(arch: Arch): string[] {
  return arch === 'amd64' ? ['linux/amd64'] : ['linux/arm/v7'];
}

/**
 * The platform a node stands for, which its engine cannot say: with --arch armv7 the images' own (run through
 * QEMU); otherwise that of a Pi of the model on Raspberry Pi OS: 32-bit on a 3B, as in the seed's Fridge,
 * 64-bit on a 4 or 5. A 'virtual' amd64 node stands for nothing but itself: no label.
 */
export function emulatedPlatform(model: PiModel, arch: Arch): string | undefined {
  if (arch === 'armv7') return 'linux/arm/v7';
  if (model === 'virtual') return undefined;
  return model.startsWith('3B') ? 'linux/arm/v7' : 'linux/arm64';
}
