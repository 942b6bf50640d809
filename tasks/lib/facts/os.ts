// Operating system, hardware and boot facts: what pi-setup's first step shows and later steps decide on.
import { commandProbe, fileProbe, fileValue, flag, str, type Kv } from './probe.ts';

export type InitSystem = 'systemd' | 'sysv';

export interface OsFacts {
  id: string;
  versionId: string;
  codename: string;
  pretty: string;
  /** /proc/device-tree/model, empty when there is none (not a Pi, or the virtual fridge). */
  model: string;
  memMiB: number;
  hostname: string;
  arch: string;
  init: InitSystem;
  raspiConfig: boolean;
  hostnamectl: boolean;
  etcHostname: string | undefined;
  etcHosts: string | undefined;
  /** Where the Pi's kernel command line lives: Bookworm moved it to /boot/firmware. */
  cmdlinePath: string | undefined;
  cmdline: string | undefined;
  procCmdline: string;
  /** dockerd runs (it reads the hostname once, at start). */
  dockerd: boolean;
  dockerInitScript: boolean;
}

export const OS_SCRIPT = [
  'if [ -r /etc/os-release ]; then . /etc/os-release; fi',
  'printf "%s\\n" "os_id=${ID:-unknown}"',
  'printf "%s\\n" "os_version=${VERSION_ID:-}"',
  'printf "%s\\n" "os_codename=${VERSION_CODENAME:-}"',
  'printf "%s\\n" "os_pretty=${PRETTY_NAME:-}"',
  'printf "%s\\n" "os_id_like=${ID_LIKE:-}"',
  // The userland's architecture, not the kernel's: 32-bit Raspberry Pi OS runs a 64-bit kernel on a Pi 4/5
  // (uname -m says aarch64) while every package it installs is armhf.
  'printf "%s\\n" "dpkg_arch=$(dpkg --print-architecture 2>/dev/null)"',
  // 64-bit Raspberry Pi OS says ID=debian in os-release; pi-gen leaves /etc/rpi-issue on every image it builds.
  'if [ -e /etc/rpi-issue ]; then echo rpi_issue=1; else echo rpi_issue=0; fi',
  `printf "%s\\n" "model=$(tr -d '\\000' < /proc/device-tree/model 2>/dev/null)"`,
  `printf "%s\\n" "mem_kib=$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"`,
  // A container (the virtual fridge) sees the host's RAM in /proc/meminfo; its cgroup limit is what it has.
  'printf "%s\\n" "mem_limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null)"',
  'printf "%s\\n" "hostname=$(cat /proc/sys/kernel/hostname)"',
  'printf "%s\\n" "arch=$(uname -m)"',
  'if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=sysv; fi',
  commandProbe('raspi_config', 'raspi-config'),
  commandProbe('hostnamectl', 'hostnamectl'),
  fileProbe('etc_hostname', '/etc/hostname'),
  fileProbe('etc_hosts', '/etc/hosts'),
  // The Bookworm stub /boot/cmdline.txt only says "moved"; the real file wins when both exist.
  'if [ -e /boot/firmware/cmdline.txt ]; then echo cmdline_path=/boot/firmware/cmdline.txt; elif [ -e /boot/cmdline.txt ]; then echo cmdline_path=/boot/cmdline.txt; else echo cmdline_path=; fi',
  fileProbe('cmdline_fw', '/boot/firmware/cmdline.txt'),
  fileProbe('cmdline_boot', '/boot/cmdline.txt'),
  'printf "%s\\n" "proc_cmdline=$(cat /proc/cmdline 2>/dev/null)"',
  'if pidof dockerd >/dev/null 2>&1 || pgrep -x dockerd >/dev/null 2>&1; then echo dockerd=1; else echo dockerd=0; fi',
  'if [ -x /etc/init.d/docker ]; then echo docker_init=1; else echo docker_init=0; fi',
].join('\n');

function memoryMiB(memTotalKiB: string, cgroupLimit: string): number {
  const total = Math.round(Number(memTotalKiB || '0') / 1024);
  const limit = /^\d+$/.test(cgroupLimit) ? Math.round(Number(cgroupLimit) / 1024 / 1024) : Infinity;
  return Math.min(total, limit);
}

export function parseOsFacts(kv: Kv): OsFacts {
  const cmdlinePath = str(kv, 'cmdline_path') || undefined;
  const cmdline = cmdlinePath === '/boot/firmware/cmdline.txt' ? fileValue(kv, 'cmdline_fw') : cmdlinePath ? fileValue(kv, 'cmdline_boot') : undefined;
  return {
    id: str(kv, 'os_id'),
    versionId: str(kv, 'os_version'),
    codename: str(kv, 'os_codename'),
    pretty: str(kv, 'os_pretty'),
    model: str(kv, 'model').trim(),
    memMiB: memoryMiB(str(kv, 'mem_kib'), str(kv, 'mem_limit')),
    hostname: str(kv, 'hostname').trim(),
    arch: str(kv, 'arch'),
    init: str(kv, 'init') === 'systemd' ? 'systemd' : 'sysv',
    raspiConfig: flag(kv, 'raspi_config'),
    hostnamectl: flag(kv, 'hostnamectl'),
    etcHostname: fileValue(kv, 'etc_hostname'),
    etcHosts: fileValue(kv, 'etc_hosts'),
    cmdlinePath,
    cmdline,
    procCmdline: str(kv, 'proc_cmdline'),
    dockerd: flag(kv, 'dockerd'),
    dockerInitScript: flag(kv, 'docker_init'),
  };
}

/** What decides how Docker is installed: the distribution, its release and the userland's architecture. */
export interface PlatformFacts {
  /** os-release ID: raspbian (32-bit Raspberry Pi OS), debian (Debian and 64-bit Raspberry Pi OS), ubuntu ... */
  id: string;
  idLike: string;
  versionId: string;
  codename: string;
  pretty: string;
  /** dpkg --print-architecture: armhf, arm64, amd64; empty without dpkg. */
  dpkgArch: string;
  /** /etc/rpi-issue exists: an image built by pi-gen (Raspberry Pi OS, 32- or 64-bit). */
  raspberryPiOs: boolean;
}

export function parsePlatformFacts(kv: Kv): PlatformFacts {
  const id = str(kv, 'os_id');
  return {
    id,
    idLike: str(kv, 'os_id_like'),
    versionId: str(kv, 'os_version'),
    codename: str(kv, 'os_codename'),
    pretty: str(kv, 'os_pretty'),
    dpkgArch: str(kv, 'dpkg_arch').trim(),
    raspberryPiOs: flag(kv, 'rpi_issue') || id === 'raspbian',
  };
}

/** The lines OS_SCRIPT prints for a captured /etc/os-release and `dpkg --print-architecture` (test fixtures, the sim). */
export function platformKvFromOsRelease(osRelease: string, dpkgArch: string, rpiIssue: boolean): Kv {
  const vars = new Map<string, string>();
  for (const line of osRelease.split('\n')) {
    const m = /^([A-Z_]+)=(?:"([^"]*)"|'([^']*)'|(.*))$/.exec(line.trim());
    if (m?.[1]) vars.set(m[1], m[2] ?? m[3] ?? m[4] ?? '');
  }
  return new Map([
    ['os_id', vars.get('ID') ?? 'unknown'],
    ['os_id_like', vars.get('ID_LIKE') ?? ''],
    ['os_version', vars.get('VERSION_ID') ?? ''],
    ['os_codename', vars.get('VERSION_CODENAME') ?? ''],
    ['os_pretty', vars.get('PRETTY_NAME') ?? ''],
    ['dpkg_arch', dpkgArch.trim()],
    ['rpi_issue', rpiIssue ? '1' : '0'],
  ]);
}
