// Docker engine on each Pi: installed, configured (daemon.json, restart only when it changed),
// running, usable by the inventory user; on Raspberry Pi OS the memory cgroup flags and a reboot.
import type { CallOutcome, HostContext, Step } from '../engine/types.ts';
import type { DockerFacts } from '../facts/docker.ts';
import { factsOf } from '../facts/cache.ts';
import { gatherDocker, gatherOs } from '../facts/gather.ts';
import { parsePlatformFacts, type OsFacts, type PlatformFacts } from '../facts/os.ts';
import { waitFor, waitingProgress, type Probe } from '../engine/wait.ts';
import type { Inventory } from '../inventory/types.ts';
import { onNewConnection } from '../transport/new-connection.ts';
import { shq } from '../transport/types.ts';
import { aptInstallCommand } from './apt.ts';
import { change, diffOf, fail, jsonEqual, ok, sh, skip, writeFile } from './common.ts';
import { restartDocker, startDocker, stopDocker, type ServiceControl } from './services.ts';

const ctl = (f: DockerFacts): ServiceControl => ({ init: f.init, initScript: f.initScript });

export const ENGINE_PACKAGES = ['docker.io', 'docker-ce', 'moby-engine'];

export function installCommand(how: Inventory['cluster']['dockerInstall']): string {
  if (how === 'get.docker.com') return 'curl -fsSL https://get.docker.com | sh';
  // --no-install-recommends keeps git and friends off a small SD card.
  return aptInstallCommand(['docker.io', 'ca-certificates']);
}

type InstallMethod = Inventory['cluster']['dockerInstall'];

export type InstallChoice = { kind: 'install'; method: InstallMethod; note?: string } | { kind: 'refuse'; msg: string };

const SIXTY_FOUR_BIT = 'flash the 64-bit Raspberry Pi OS (arm64) to get Docker\'s current engine';

/**
 * How Docker gets onto this OS and architecture (the matrix of issue #13 item 5), from os-release and dpkg.
 *
 * 32-bit Raspberry Pi OS (dpkg armhf, whatever the kernel): Docker Engine v28 was the last release Docker packaged
 * for it (docker/packaging PR 336), so get.docker.com either fails or leaves an engine that gets no more fixes.
 * Of the three ways out (pin 28, the distribution's docker.io, refuse) Fridge takes the distribution's docker.io:
 * it is maintained by Debian's security team (Raspbian rebuilds it for armhf: 20.10 on Bookworm, 26.1 on Trixie),
 * runs swarm mode, and keeps the seed's own Fridge (Pi 3B on the 32-bit OS) working; pinning 28 would install an
 * unmaintained engine and refusing would strand every 32-bit card. The step says so on every such host and
 * recommends the 64-bit OS. arm64 and amd64 keep the configured method (Docker's packages exist for Debian
 * Bookworm and Trixie on both). Releases Docker no longer packages (Debian 10 and older) are refused with
 * get.docker.com rather than left to fail half-way.
 */
export function dockerInstallChoice(p: PlatformFacts | undefined, configured: InstallMethod): InstallChoice {
  if (!p) return { kind: 'install', method: configured };
  const what = p.pretty || `${p.id} ${p.versionId}`.trim();
  const major = Number.parseInt(p.versionId, 10);
  const debianFamily = p.id === 'debian' || p.id === 'raspbian';
  if (configured === 'get.docker.com' && debianFamily && Number.isFinite(major) && major < 11) {
    return { kind: 'refuse', msg: `${what}: Docker no longer publishes packages for Debian ${major}; flash Raspberry Pi OS Bookworm or Trixie (64-bit) or set fridge_docker_install: apt` };
  }
  if (p.dpkgArch === 'armhf') {
    const os = p.raspberryPiOs ? '32-bit Raspberry Pi OS' : `32-bit ${what}`;
    if (configured === 'apt') return { kind: 'install', method: 'apt', note: `${os}: the distribution's docker.io (${SIXTY_FOUR_BIT})` };
    return {
      kind: 'install',
      method: 'apt',
      note: `warning: ${os} (armhf): Docker's own packages ended with v28 (docker/packaging PR 336), so get.docker.com is not used; installing the distribution's maintained docker.io instead (${SIXTY_FOUR_BIT})`,
    };
  }
  return { kind: 'install', method: configured };
}

/** Docker facts plus the platform they are installed on (absent in table tests written before the matrix). */
export type EngineFacts = DockerFacts & { platform?: PlatformFacts };

export const engineStep: Step<EngineFacts> = {
  name: 'docker engine installed',
  gather: async (ctx) => ({ ...(await gatherDocker(ctx)), platform: parsePlatformFacts(await factsOf(ctx, 'os')) }),
  plan(f, ctx) {
    const choice = dockerInstallChoice(f.platform, ctx.inventory.cluster.dockerInstall);
    if (f.packages.length > 0) {
      // An engine installed from Docker's repository on armhf is left alone, but the operator hears it is the end of that line.
      const eol = f.platform?.dpkgArch === 'armhf' && f.packages.includes('docker-ce') ? ': Docker CE on armhf gets no release after v28 (docker/packaging PR 336); the 64-bit OS is recommended' : '';
      return ok(`${f.packages.join(', ')} installed${f.serverVersion ? ` (${f.serverVersion})` : ''}${eol}`);
    }
    if (f.cli && f.running) return ok(`docker ${f.serverVersion} present (not from a known package)`);
    if (choice.kind === 'refuse') return fail(choice.msg);
    const how = choice.method === 'apt' ? 'apt: docker.io' : 'get.docker.com';
    return change({ summary: `install docker (${how})${choice.note ? ` — ${choice.note}` : ''}`, actions: [sh(installCommand(choice.method), { timeoutMs: 20 * 60_000 })] });
  },
};

export const dockerGroupStep: Step<DockerFacts> = {
  name: 'docker group',
  gather: (ctx) => gatherDocker(ctx),
  plan(f, ctx) {
    const user = ctx.host.user;
    if (user === 'root') return ok('root uses docker directly');
    if (f.userGroups.includes('docker')) return ok(`${user} is in the docker group`);
    // On a fresh host in check mode the group does not exist yet: the engine package creates it.
    return change({ summary: `add ${user} to the docker group`, actions: [sh(`usermod -aG docker ${shq(user)}`)] });
  },
};

/** The daemon.json Fridge wants, merged over what the operator already has. */
export function daemonConfig(inv: Inventory, current: Record<string, unknown>): Record<string, unknown> {
  const reg = inv.cluster.registry;
  const out: Record<string, unknown> = { ...current };
  const union = (key: string, values: string[]): void => {
    const have = Array.isArray(out[key]) ? (out[key] as unknown[]).filter((v): v is string => typeof v === 'string') : [];
    const merged = [...have, ...values.filter((v) => !have.includes(v))];
    if (merged.length > 0) out[key] = merged;
  };
  if (reg.insecure) union('insecure-registries', [reg.pullHost]);
  // A private registry also serves as a mirror: images named the Docker Hub way resolve from it when pushed there.
  if (reg.pullHost !== 'docker.io') union('registry-mirrors', [`${reg.insecure ? 'http' : 'https'}://${reg.pullHost}`]);
  return out;
}

export const DAEMON_JSON = '/etc/docker/daemon.json';

export const daemonJsonStep: Step<DockerFacts> = {
  name: 'docker daemon.json',
  gather: (ctx) => gatherDocker(ctx),
  plan(f, ctx) {
    let current: Record<string, unknown> = {};
    if (f.daemonJson !== undefined && f.daemonJson.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(f.daemonJson);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fail(`${DAEMON_JSON} is not a JSON object: fix or remove it`);
        current = parsed as Record<string, unknown>;
      } catch (err) {
        return fail(`${DAEMON_JSON} is not valid JSON (${err instanceof Error ? err.message : String(err)}): fix or remove it`);
      }
    }
    const wanted = daemonConfig(ctx.inventory, current);
    if (f.daemonJson !== undefined && jsonEqual(wanted, current)) return ok(`${DAEMON_JSON} up to date`);
    if (f.daemonJson === undefined && Object.keys(wanted).length === 0) return ok('no daemon.json needed');
    const content = `${JSON.stringify(wanted, null, 2)}\n`;
    // The notify-handler pattern: the restart belongs to this change and runs only with it.
    const restart = f.running ? [sh(restartDocker(ctl(f)), { timeoutMs: 180_000 })] : [];
    return change({
      summary: `write ${DAEMON_JSON}${f.running ? ' and restart docker' : ''}`,
      actions: [writeFile(DAEMON_JSON, content), ...restart],
      diff: diffOf(DAEMON_JSON, f.daemonJson, content),
    });
  },
};

export const dockerRunningStep: Step<DockerFacts> = {
  name: 'docker running',
  gather: (ctx) => gatherDocker(ctx),
  plan(f) {
    const enabledOk = f.init !== 'systemd' || f.enabled;
    if (f.running && enabledOk) return ok(`dockerd ${f.serverVersion} running${f.init === 'systemd' ? ', enabled at boot' : ''}`);
    const how = f.init === 'systemd' ? 'systemctl' : f.initScript ? '/etc/init.d/docker' : 'a background dockerd';
    return change({ summary: f.running ? 'enable docker at boot' : `start docker (${how})`, actions: [sh(startDocker(ctl(f)), { timeoutMs: 120_000 })] });
  },
};

export const CGROUP_FLAGS = ['cgroup_enable=cpuset', 'cgroup_memory=1', 'cgroup_enable=memory'];

/** cmdline.txt is a single line; missing flags are appended to it. */
export function cmdlineWithFlags(cmdline: string): string {
  const line = cmdline.split('\n')[0]?.trim() ?? '';
  const tokens = line.split(/\s+/).filter((t) => t !== '');
  const missing = CGROUP_FLAGS.filter((f) => !tokens.includes(f));
  return missing.length === 0 ? cmdline : `${[...tokens, ...missing].join(' ')}\n`;
}

export const cgroupStep: Step<OsFacts> = {
  name: 'cgroup memory flags',
  gather: (ctx) => gatherOs(ctx),
  plan(f) {
    if (!f.cmdlinePath || f.cmdline === undefined) return skip('no cmdline.txt in /boot/firmware or /boot: not Raspberry Pi OS, nothing to set');
    const after = cmdlineWithFlags(f.cmdline);
    if (after === f.cmdline) return ok(`${f.cmdlinePath} enables the memory cgroup`);
    return change({
      summary: `add ${CGROUP_FLAGS.join(' ')} to ${f.cmdlinePath}`,
      actions: [writeFile(f.cmdlinePath, after, 0o755)],
      diff: diffOf(f.cmdlinePath, f.cmdline, after),
    });
  },
};

const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';

/** One look after the reboot: a NEW connection that sees a boot id other than `before`. */
async function bootedAgain(ctx: HostContext, before: string): Promise<Probe<true>> {
  const look = await onNewConnection(ctx.host, async (t) => (await t.exec(BOOT_ID)).stdout.trim());
  if (!look.reached) return { done: false, last: `no SSH connection yet (${look.why})` };
  return look.value && look.value !== before ? { done: true, result: true } : { done: false, last: 'still the boot before the reboot' };
}

/** Reboots and waits until a NEW connection sees a new boot id; the old connection is dead afterwards. */
export async function rebootAndWait(ctx: HostContext, timeoutMs = 5 * 60_000): Promise<CallOutcome> {
  const before = (await ctx.transport.exec(BOOT_ID)).stdout.trim();
  await ctx.transport.exec('nohup sh -c "sleep 2; reboot" >/dev/null 2>&1 &', { sudo: true });
  const back = await waitFor(() => bootedAgain(ctx, before), {
    timeoutMs,
    intervalMs: 5_000,
    // The reboot starts 2 s after the command and the old sshd answers until it is down: earlier looks find the old boot.
    startAfterMs: 10_000,
    ...waitingProgress(ctx.progress),
  });
  return back === true ? { ok: true, output: 'rebooted' } : { ok: false, msg: `${ctx.host.name} did not come back within ${Math.round(timeoutMs / 1000)} s after the reboot` };
}

export const rebootStep: Step<OsFacts> = {
  name: 'reboot for cgroup flags',
  gather: (ctx) => gatherOs(ctx),
  plan(f, ctx) {
    if (!f.cmdlinePath) return skip('not Raspberry Pi OS: no reboot needed');
    const live = f.procCmdline.split(/\s+/);
    if (CGROUP_FLAGS.every((flag) => live.includes(flag))) return ok('the running kernel has the memory cgroup flags');
    if (ctx.inventory.cluster.virtual) return skip(`virtual fridge: a node container cannot reboot (it shares the host's kernel); the flags in ${f.cmdlinePath} are for a real Pi`);
    return change({ summary: 'reboot so that the kernel picks up the cgroup flags', actions: [{ kind: 'call', label: 'reboot', fn: (c) => rebootAndWait(c) }] });
  },
};

export const purgeEngineStep: Step<DockerFacts> = {
  name: 'purge docker engine',
  gather: (ctx) => gatherDocker(ctx),
  plan(f) {
    if (f.packages.length === 0 && !f.cli) return ok('no docker engine installed');
    const pkgs = [...f.packages, 'docker-ce-cli', 'containerd.io', 'containerd', 'runc'].map(shq).join(' ');
    const script = [
      stopDocker(ctl(f)),
      'export DEBIAN_FRONTEND=noninteractive',
      // Only the packages that are installed: apt-get purge fails on unknown names.
      `apt-get purge -y -qq $(dpkg-query -W -f='\${Package} \${Status}\\n' ${pkgs} 2>/dev/null | awk '/install ok installed/{print $1}')`,
      // /var/lib/docker may be a mount point (the virtual fridge's nodes): empty it, do not remove it.
      'if [ -d /var/lib/docker ]; then find /var/lib/docker -mindepth 1 -maxdepth 1 -exec rm -rf {} +; fi',
      'rm -rf /etc/docker',
    ].join('\n');
    return change({ summary: `purge ${f.packages.join(', ') || 'docker'} and its data`, actions: [sh(script, { timeoutMs: 10 * 60_000 })] });
  },
};
