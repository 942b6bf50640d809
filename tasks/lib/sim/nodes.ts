// The node containers (virtual Pis), their network and the shared state volume, all labelled as ours.
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_MEMORY_MIB, type PiModel } from '../inventory/types.ts';
import { SIM, SIM_PATHS, cardDir, nodeAddress, nodeName } from './config.ts';
import { diskPaths, dropDisk, mountDisk, newDisk } from './disks.ts';
import { SimError, docker, must } from './run.ts';

const NODE_LABEL = `${SIM.label}.node`;
/** `first-boot` (booted from its card, `up --first-boot`) or `ready` (the fast path: user and sshd made in the image). */
const BOOT_LABEL = `${SIM.label}.boot`;

export function containerName(node: string): string {
  return `fridge-sim-${node}`;
}

export interface NodeStatus {
  name: string;
  container: string;
  address: string;
  state: string;
  memoryBytes: number;
  image: string;
  /** Where its /etc/hostname comes from: tells a node of this checkout from one another checkout made. */
  filesDir: string;
  /** What its /proc/meminfo says: its own limit (lxcfs's view) or this machine's memory. */
  meminfo: MeminfoView;
  /** Its /var/lib/docker is its own disk (sim/disks.ts), not an anonymous volume on this machine's. */
  disk: boolean;
  /** Booted from its card like a freshly flashed Pi (`up --first-boot`). */
  firstBoot: boolean;
  /**
   * Made the way nodes are now: /dev/fuse (sshfs, for the state storage pi-setup sets up) and no state volume
   * shared behind the pipeline's back (older nodes all mounted one at /mnt/fridge-state).
   */
  current: boolean;
}

/** 'limit': lxcfs's /proc/meminfo, so the node's engine reports the model's memory; 'host': this machine's. */
export type MeminfoView = 'limit' | 'host';

export async function ensureNetwork(): Promise<boolean> {
  const r = await docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', SIM.network]);
  if (r.code === 0) {
    if (r.stdout.trim() !== `${SIM.subnet} ${SIM.gateway}`) {
      throw new SimError(`docker network ${SIM.network} exists with ${r.stdout.trim()}, expected ${SIM.subnet} ${SIM.gateway}: remove it first`);
    }
    return false;
  }
  must(
    'docker network create',
    await docker([
      'network', 'create', '--driver', 'bridge', '--subnet', SIM.subnet, '--gateway', SIM.gateway,
      '-o', `com.docker.network.bridge.name=${SIM.bridge}`, '--label', `${SIM.label}=1`, SIM.network,
    ]),
  );
  return true;
}

/**
 * Nodes once shared one docker volume at /mnt/fridge-state, which made recovery work where a real Fridge would
 * not (#14): state every node reaches is now what pi-setup sets up. Old nodes are recreated, the volume removed.
 */
export const LEGACY_STATE_VOLUME = 'fridge-sim-state';

export async function removeLegacyStateVolume(): Promise<boolean> {
  if (!(await isOurs('volume', LEGACY_STATE_VOLUME))) return false;
  return (await docker(['volume', 'rm', LEGACY_STATE_VOLUME])).code === 0;
}

/** Every node container of ours, running or not (address: the one it was given, known even while stopped). */
export async function listNodes(): Promise<NodeStatus[]> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=${NODE_LABEL}`])).stdout.split('\n').filter(Boolean);
  if (!ids.length) return [];
  const fmt = `{{index .Config.Labels "${NODE_LABEL}"}}|{{.Name}}|{{.State.Status}}|{{.HostConfig.Memory}}|{{.Config.Image}}|{{range .NetworkSettings.Networks}}{{if .IPAMConfig}}{{.IPAMConfig.IPv4Address}}{{else}}{{.IPAddress}}{{end}}{{end}}|{{range .Mounts}}{{if eq .Destination "/etc/hostname"}}{{.Source}}{{end}}{{end}}|{{range .Mounts}}{{if eq .Destination "/proc/meminfo"}}limit{{end}}{{end}}|{{range .Mounts}}{{if eq .Destination "/var/lib/docker"}}{{.Source}}{{end}}{{end}}|{{range .HostConfig.Devices}}{{.PathOnHost}} {{end}}|{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}|{{index .Config.Labels "${BOOT_LABEL}"}}`;
  // A container removed between ps and inspect makes inspect fail for it only; the others are still printed.
  const r = await docker(['inspect', '--format', fmt, ...ids]);
  const nodes = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', container = '', state = '', mem = '0', image = '', address = '', hostnameFile = '', meminfo = '', dockerDir = '', devices = '', volumes = '', boot = ''] = line.split('|');
      const filesDir = hostnameFile ? path.dirname(hostnameFile) : '';
      const view: MeminfoView = meminfo === 'limit' ? 'limit' : 'host';
      const disk = dockerDir === diskPaths(name).mount;
      const current = devices.split(' ').includes('/dev/fuse') && !volumes.split(' ').includes(LEGACY_STATE_VOLUME);
      const firstBoot = boot === 'first-boot';
      return { name, container: container.replace(/^\//, ''), state, memoryBytes: Number(mem), image, address, filesDir, meminfo: view, disk, current, firstBoot };
    });
  return nodes.sort((a, b) => Number(a.name.slice(2)) - Number(b.name.slice(2)));
}

/** Raspberry Pi OS's /etc/hosts on a fresh card. */
export const FRESH_HOSTS = `127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n127.0.1.1\t\t${SIM.freshHostname}\n`;

export function nodeFilesDir(name: string): string {
  return path.join(SIM_PATHS.nodes, name);
}

/** A fresh card's /etc/hostname and /etc/hosts, kept on the host so a renamed node stays renamed across restarts. */
function writeFreshFiles(name: string): void {
  const dir = nodeFilesDir(name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'hostname'), `${SIM.freshHostname}\n`);
  fs.writeFileSync(path.join(dir, 'hosts'), FRESH_HOSTS);
}

export function nodeRunArgs(i: number, model: PiModel, meminfo: MeminfoView, firstBoot = false): string[] {
  const name = nodeName(i);
  const files = nodeFilesDir(name);
  return [
    'run', '-d', '--name', containerName(name), '--hostname', SIM.freshHostname,
    '--label', `${SIM.label}=1`, '--label', `${NODE_LABEL}=${name}`, '--label', `${BOOT_LABEL}=${firstBoot ? 'first-boot' : 'ready'}`,
    '--network', SIM.network, '--ip', nodeAddress(i),
    '--memory', `${MODEL_MEMORY_MIB[model]}m`, '--cpu-shares', String(SIM.cpuShares),
    // Docker-in-Docker without --privileged (which fails here: no CAP_SYS_RESOURCE in the bounding set).
    '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE',
    '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--security-opt', 'systempaths=unconfined',
    // A private cgroup namespace: the node sees its own cgroup (and memory limit) as the root, and its
    // dockerd nests below it. fridge-init makes the hierarchies writable.
    '--cgroupns', 'private',
    // The inner dockerd cannot put overlay2 on the container's own overlay root: it gets the node's own disk.
    '-v', `${diskPaths(name).mount}:/var/lib/docker`,
    // A Pi's kernel has FUSE: pi-setup mounts the shared state storage with sshfs.
    '--device', '/dev/fuse',
    // Our own files instead of docker's (which it rewrites at every start): a rename by pi-setup survives a
    // restart, as on a Pi. Both are still mount points: write them in place, never replace them with mv.
    '-v', `${path.join(files, 'hostname')}:/etc/hostname`,
    '-v', `${path.join(files, 'hosts')}:/etc/hosts`,
    // dockerd takes the memory it reports (and swarm schedules against) from /proc/meminfo, which is this
    // machine's inside a container: lxcfs's file says the node's own limit instead. The node's containers
    // get a /proc of their own and are not affected.
    ...(meminfo === 'limit' ? ['-v', `${SIM.lxcfsMeminfo}:/proc/meminfo:ro`] : []),
    ...(firstBoot
      ? [
          // systemd as init wants an empty /run at every boot, as a Pi's tmpfs.
          '--tmpfs', '/run', '--tmpfs', '/run/lock',
          // The card: its boot partition where Raspberry Pi OS mounts it.
          '-v', `${cardDir(name)}:/boot/firmware`,
          // A reboot ends the container with SIGHUP (129): docker starts it again, as the Pi's power stays on.
          '--restart', 'on-failure',
          SIM.firstBootImage,
        ]
      : [SIM.nodeImage]),
  ];
}

export async function createNode(i: number, model: PiModel, meminfo: MeminfoView, firstBoot = false): Promise<void> {
  writeFreshFiles(nodeName(i));
  await newDisk(nodeName(i));
  must(`start ${nodeName(i)}`, await docker(nodeRunArgs(i, model, meminfo, firstBoot)));
}

const nodeOf = (container: string): string => container.replace(/^fridge-sim-/, '');

export async function startNode(container: string): Promise<void> {
  await mountDisk(nodeOf(container));
  must(`start ${container}`, await docker(['start', container]));
}

/** A reboot: the node's mounts are made again (a restarted lxcfs's among them). */
export async function restartNode(container: string): Promise<void> {
  await mountDisk(nodeOf(container));
  must(`restart ${container}`, await docker(['restart', '--time', '10', container]));
}

/**
 * Removes node containers with their disks (and the anonymous volumes of nodes made before they had disks). The
 * disk is the one the container has, which another checkout may have made: it is not left mounted there.
 */
export async function removeNodes(containers: string[]): Promise<void> {
  const disks = await Promise.all(
    containers.map(async (c) => (await docker(['inspect', '--format', '{{range .Mounts}}{{if eq .Destination "/var/lib/docker"}}{{.Source}}{{end}}{{end}}', c])).stdout.trim()),
  );
  const results = await Promise.all(containers.map((c) => docker(['rm', '-f', '-v', c])));
  results.forEach((r, k) => must(`docker rm ${containers[k] ?? ''}`, r));
  await Promise.all(containers.map((c, k) => dropDisk(nodeOf(c), disks[k])));
}

/** True when the object exists and carries our label (never touch a same-named object of someone else). */
async function isOurs(kind: 'network' | 'volume', name: string): Promise<boolean> {
  const r = await docker([kind, 'inspect', '--format', `{{index .Labels "${SIM.label}"}}`, name]);
  return r.code === 0 && r.stdout.trim() === '1';
}

export async function removeNetworkAndVolume(): Promise<string[]> {
  const removed: string[] = [];
  if (await isOurs('network', SIM.network)) {
    must('docker network rm', await docker(['network', 'rm', SIM.network]));
    removed.push(`network ${SIM.network}`);
  }
  if (await removeLegacyStateVolume()) removed.push(`volume ${LEGACY_STATE_VOLUME}`);
  return removed;
}
