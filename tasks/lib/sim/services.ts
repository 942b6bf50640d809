// Host-side services of the virtual fridge: the registry standing in for Docker Hub (two listeners, loopback
// for pushing, the gateway for the nodes; docker-registry binds one address per process) and the apt cache.
// Each runs detached with a pid file under .fridge/sim/run, so `down` stops exactly the processes `up` started.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SIM, SIM_PATHS } from './config.ts';
import { SimError } from './run.ts';
import { answers, isLocalAddress, waitFor } from './wait.ts';

export interface ServiceSpec {
  name: string;
  /** Address:port it must answer on. */
  host: string;
  port: number;
  /** Binary as it appears in /proc/PID/cmdline (to recognise our own process behind a pid file). */
  binary: string;
  args: string[];
  /** Files written before starting (configuration). */
  files: Record<string, string>;
}

export type ServiceState = 'running' | 'stopped' | 'foreign';

export interface ServiceStatus {
  name: string;
  address: string;
  state: ServiceState;
  pid: number | undefined;
}

function registrySpec(host: string): ServiceSpec {
  const config = path.join(SIM_PATHS.run, `registry-${host}.yml`);
  return {
    name: `registry-${host}`,
    host,
    port: SIM.registryPort,
    binary: 'docker-registry',
    args: ['serve', config],
    files: {
      [config]: [
        'version: 0.1',
        'log: {level: warn}',
        'storage:',
        `  filesystem: {rootdirectory: ${JSON.stringify(SIM_PATHS.registryData)}}`,
        '  delete: {enabled: true}',
        `http: {addr: "${host}:${SIM.registryPort}"}`,
        '',
      ].join('\n'),
    },
  };
}

function aptCacheSpec(): ServiceSpec {
  const dir = path.join(SIM_PATHS.run, 'apt-cacher-ng');
  return {
    name: 'apt-cacher-ng',
    host: SIM.gateway,
    port: SIM.aptCachePort,
    binary: 'apt-cacher-ng',
    args: ['-c', dir, 'ForeGround=1'],
    files: {
      [path.join(dir, 'acng.conf')]: [
        `CacheDir: ${SIM_PATHS.aptCache}`,
        `LogDir: ${dir}`,
        'SupportDir: /usr/lib/apt-cacher-ng',
        `Port: ${SIM.aptCachePort}`,
        `BindAddress: ${SIM.gateway}`,
        `SocketPath: ${path.join(dir, 'socket')}`,
        // Only Debian's archive and its security archive, nothing else (ForceManaged refuses any other host).
        'Remap-debrep: deb.debian.org/debian ; http://deb.debian.org/debian',
        'Remap-secdeb: deb.debian.org/debian-security security.debian.org/debian-security ; http://deb.debian.org/debian-security',
        'ForceManaged: 1',
        'ExThreshold: 4',
        // Fewer upstream refreshes of the indexes while five nodes update at once. It does not prevent the
        // concurrent-refresh failure (EEXIST moving the old InRelease aside) that can hang one node's apt:
        // pi-setup's bounded, retried apt attempts get through that.
        'FreshIndexMaxAge: 3600',
        '',
      ].join('\n'),
    },
  };
}

/**
 * The LAN router's DHCP and DNS (`up --first-boot`): dnsmasq on the sim bridge only, leasing from SIM.dhcpRange
 * with the gateway as router and name server, as a home router does. Names are those the Pis send with their
 * DHCP requests; nothing is forwarded upstream. Its lease file is the router's client list.
 */
export const DHCP_LEASES = path.join(SIM_PATHS.run, 'dnsmasq.leases');
export const LEASE_SECONDS = 12 * 3600;

function dhcpSpec(): ServiceSpec {
  const conf = path.join(SIM_PATHS.run, 'dnsmasq.conf');
  return {
    name: 'dnsmasq',
    host: SIM.gateway,
    port: SIM.dnsPort,
    binary: 'dnsmasq',
    args: ['--keep-in-foreground', `--conf-file=${conf}`],
    files: {
      [conf]: [
        `interface=${SIM.bridge}`,
        'bind-interfaces',
        'except-interface=lo',
        `listen-address=${SIM.gateway}`,
        'no-resolv',
        'no-hosts',
        'user=root',
        `dhcp-range=${SIM.dhcpRange[0]},${SIM.dhcpRange[1]},255.255.255.0,${LEASE_SECONDS}`,
        `dhcp-option=option:router,${SIM.gateway}`,
        `dhcp-option=option:dns-server,${SIM.gateway}`,
        `dhcp-leasefile=${DHCP_LEASES}`,
        'dhcp-authoritative',
        'log-dhcp',
        '',
      ].join('\n'),
    },
  };
}

/** Every service `down` stops; `up` starts the DHCP server only with --first-boot. */
export function serviceSpecs(opts: { firstBoot?: boolean; all?: boolean } = {}): ServiceSpec[] {
  const base = [registrySpec('127.0.0.1'), registrySpec(SIM.gateway), aptCacheSpec()];
  return opts.firstBoot || opts.all ? [...base, dhcpSpec()] : base;
}

export interface Lease {
  /** When dnsmasq's lease ends (epoch seconds): granted 12 h before. */
  expires: number;
  mac: string;
  address: string;
  hostname: string | undefined;
}

/** dnsmasq's lease file: `expiry mac address hostname client-id` per line (`*` for no name). */
export function parseLeases(text: string): Lease[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4 && /^[0-9a-f:]{17}$/i.test(f[1] ?? ''))
    .map((f) => ({ expires: Number(f[0]), mac: (f[1] ?? '').toLowerCase(), address: f[2] ?? '', hostname: f[3] === '*' ? undefined : f[3] }));
}

export function readLeases(file: string = DHCP_LEASES): Lease[] {
  try {
    return parseLeases(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

const pidFile = (s: ServiceSpec) => path.join(SIM_PATHS.run, `${s.name}.pid`);
const logFile = (s: ServiceSpec) => path.join(SIM_PATHS.run, `${s.name}.log`);

/** The pid in our pid file, if that process is still the one we started. */
function ourPid(s: ServiceSpec): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(s), 'utf8').trim());
  } catch {
    return undefined;
  }
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((a) => path.basename(a) === s.binary) && cmdline.includes(s.args[1] ?? '') ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function serviceStatus(s: ServiceSpec): Promise<ServiceStatus> {
  const pid = ourPid(s);
  const address = `${s.host}:${s.port}`;
  if (pid) return { name: s.name, address, state: 'running', pid };
  const foreign = isLocalAddress(s.host) && (await answers(s.host, s.port));
  return { name: s.name, address, state: foreign ? 'foreign' : 'stopped', pid: undefined };
}

/**
 * Starts the service unless ours already runs. Something else answering on the address (another checkout's
 * virtual fridge, a registry started by hand) is used as it is and never stopped by `down`.
 */
export async function ensureService(s: ServiceSpec): Promise<ServiceStatus> {
  const st = await serviceStatus(s);
  if (st.state !== 'stopped') return st;
  if (!isLocalAddress(s.host)) throw new SimError(`${s.name}: ${s.host} is not an address of this machine (is the ${SIM.network} network up?)`);
  for (const [file, content] of Object.entries(s.files)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  const out = fs.openSync(logFile(s), 'a');
  const child = spawn(s.binary, s.args, { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid === undefined) throw new SimError(`${s.name}: cannot start ${s.binary}: ${(await spawnError).message}`);
  fs.writeFileSync(pidFile(s), `${child.pid}\n`);
  child.unref();
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  let gone = false;
  void exited.then(() => (gone = true));
  const up = await waitFor(async () => gone || (await answers(s.host, s.port)), 10_000);
  if (!up || gone) {
    if (!gone) child.kill('SIGKILL');
    fs.rmSync(pidFile(s), { force: true });
    const tail = fs.readFileSync(logFile(s), 'utf8').trim().split('\n').slice(-2).join(' | ');
    throw new SimError(`${s.name} did not start on ${s.host}:${s.port} (log ${logFile(s)}: ${tail})`);
  }
  return { name: s.name, address: `${s.host}:${s.port}`, state: 'running', pid: child.pid };
}

/** Stops the service if we started it; returns true when a process was stopped. */
export async function stopService(s: ServiceSpec): Promise<boolean> {
  const pid = ourPid(s);
  fs.rmSync(pidFile(s), { force: true });
  if (!pid) return false;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    } catch {
      return false;
    }
  };
  process.kill(pid, 'SIGTERM');
  if (!(await waitFor(() => !alive(), 5_000))) process.kill(pid, 'SIGKILL');
  return true;
}
