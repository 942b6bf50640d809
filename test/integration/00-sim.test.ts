// The virtual fridge for real: fresh nodes with sshd, user pi / raspberry and passwordless sudo, the model's
// memory limit seen by docker and from inside, a registry and an apt cache on the gateway, the generated
// inventory accepted by the loader, a fast warm `up`, and a `down` that leaves nothing of ours behind.
import fs from 'node:fs';
import { NodeSSH } from 'node-ssh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { MODEL_MEMORY_MIB } from '../../tasks/lib/inventory/types.ts';
import { SIM, SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { docker, run } from '../../tasks/lib/sim/run.ts';
import { serviceSpecs } from '../../tasks/lib/sim/services.ts';
import { simDown, simStatus, simUp, type SimUpResult } from '../../tasks/lib/sim/sim.ts';
import { answers, isLocalAddress, sshReady, waitFor } from '../../tasks/lib/sim/wait.ts';

const NODES = 3;
const GiB = MODEL_MEMORY_MIB['3B'] * 1024 * 1024;
const figures: Record<string, string> = {};
let up: SimUpResult;
/** Nodes there before this file (other test files share the fridge): brought back afterwards. */
let before = 0;

async function ssh(address: string): Promise<NodeSSH> {
  const password = fs.readFileSync(SIM_PATHS.passwordFile, 'utf8').trim();
  // Password only, no key and no agent: exactly what a freshly flashed Pi accepts.
  return new NodeSSH().connect({ host: address, username: 'pi', password, tryKeyboard: false, agent: undefined, readyTimeout: 20_000 });
}

async function onNode(address: string, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = await ssh(address);
  try {
    return await c.execCommand(command);
  } finally {
    c.dispose();
  }
}

/** A live process (not a zombie waiting for its parent to reap it). */
function running(pid: number): boolean {
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

beforeAll(async () => {
  before = (await simStatus()).nodes.length;
  const r = await simUp({ nodes: NODES, fresh: true });
  if (!r.ok) throw new Error(`sim up failed: ${r.error}`);
  up = r;
  figures['up --fresh (3 nodes)'] = `${(r.durationMs / 1000).toFixed(1)} s${r.imageBuilt ? ' (node image built)' : ''}`;
});

afterAll(async () => {
  if (before > 0) {
    const r = await simUp({ nodes: before });
    if (r.ok) figures[`up after down (${before} nodes)`] = `${(r.durationMs / 1000).toFixed(1)} s`;
  }
  console.log(`virtual fridge figures: ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
});

describe('virtual fridge', () => {
  it('starts fresh nodes pi1..pi3 on 10.77.0.11.. with the model memory limit', async () => {
    expect(up.created).toEqual(['pi1', 'pi2', 'pi3']);
    expect(up.nodes.map((n) => [n.name, n.address, n.state, n.memoryBytes])).toEqual([
      ['pi1', '10.77.0.11', 'running', GiB],
      ['pi2', '10.77.0.12', 'running', GiB],
      ['pi3', '10.77.0.13', 'running', GiB],
    ]);
    for (const n of up.nodes) {
      const inspect = await docker(['inspect', '--format', '{{.HostConfig.Memory}}', n.container]);
      expect(Number(inspect.stdout.trim()), `docker inspect ${n.container}`).toBe(GiB);
    }
  });

  it('lets pi log in with the password raspberry, like a freshly flashed Pi', async () => {
    for (const n of up.nodes) {
      const r = await onNode(
        n.address,
        'hostname; sudo -n id -u; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; . /etc/os-release; echo $ID $VERSION_CODENAME; test -s /boot/firmware/cmdline.txt && test -s /boot/firmware/config.txt && echo boot-ok; command -v docker || echo no-docker; test -c /dev/fuse && echo fuse; test -e /mnt/fridge-state && echo state-dir || echo no-state-dir',
      );
      expect(r.code, r.stderr).toBe(0);
      // A fresh card: FUSE in the kernel, no state directory (pi-setup makes it, and mounts the shared storage there).
      expect(r.stdout.split('\n'), n.name).toEqual(['raspberrypi', '0', String(GiB), 'debian bookworm', 'boot-ok', 'no-docker', 'fuse', 'no-state-dir']);
    }
  });

  it('serves the registry on loopback and the gateway, and Debian (only) through the apt cache', async () => {
    expect(await answers('127.0.0.1', SIM.registryPort)).toBe(true);
    const r = await onNode(
      up.nodes[0]?.address ?? '',
      [
        `curl -s -o /dev/null -w '%{http_code}\\n' http://${SIM.gateway}:${SIM.registryPort}/v2/`,
        'curl -s -o /dev/null -w "%{http_code}\\n" -x http://10.77.0.1:3142 http://deb.debian.org/debian/dists/bookworm/InRelease',
        'curl -s -o /dev/null -w "%{http_code}\\n" -x http://10.77.0.1:3142 http://example.com/',
        'apt-config dump | grep -c "Acquire::http::Proxy \\"http://10.77.0.1:3142\\""',
      ].join('; '),
    );
    expect(r.stdout.split('\n')).toEqual(['200', '200', '403', '1']);
  });

  it('writes an inventory the loader accepts, shaped like inventory/fridge.yaml', async () => {
    const loaded = await loadInventory(SIM_PATHS.inventory);
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
    const inv = loaded.inventory;
    expect(inv.hosts.map((h) => [h.name, h.address, h.staticIp, h.role, h.user, h.memoryMiB])).toEqual([
      ['pi1', '10.77.0.11', '10.77.0.11', 'manager', 'pi', 1024],
      ['pi2', '10.77.0.12', '10.77.0.12', 'worker', 'pi', 1024],
      ['pi3', '10.77.0.13', '10.77.0.13', 'worker', 'pi', 1024],
    ]);
    expect(inv.hosts[0]?.keyFile).toBe(SIM_PATHS.privateKey);
    expect(inv.hosts[0]?.passwordEnv).toBe('FRIDGE_SSH_PASSWORD');
    // The sim sets no environment: the first-login password comes from the mode-600 file.
    expect(inv.hosts[0]?.vars.fridge_ssh_password_file).toBe(SIM_PATHS.passwordFile);
    const c = inv.cluster;
    expect({ virtual: c.virtual, dnsrr: c.dnsrr, install: c.dockerInstall, platforms: c.platforms, stateDir: c.flink.stateDir }).toEqual({
      virtual: true,
      dnsrr: true,
      install: 'apt',
      platforms: ['linux/amd64'],
      stateDir: '/mnt/fridge-state',
    });
    expect(c.registry).toMatchObject({ host: '127.0.0.1:5000', pullHost: '10.77.0.1:5000', insecure: true });
    expect(c.flink).toMatchObject({ jobmanagerHost: 'pi1', taskmanagerExclude: ['pi1'], taskmanagerReplicas: 2 });
    expect(c.network).toMatchObject({ prefix: 24, router: '10.77.0.1' });
    expect(c.authorizedKeyFile).toBe(SIM_PATHS.publicKey);
    // Nothing is shared behind the pipeline's back: pi-setup shares the leader's directory, as on real Pis.
    expect(c.stateStorage).toEqual({ kind: 'sshfs', server: 'pi1', path: '/srv/fridge-state' });
    expect(fs.statSync(SIM_PATHS.privateKey).mode & 0o777).toBe(0o600);
    expect(fs.statSync(SIM_PATHS.passwordFile).mode & 0o777).toBe(0o600);
  });

  it('installs docker.io from Debian on a node and starts it with `service docker start`', async () => {
    const node = up.nodes[1]?.address ?? '';
    const r = await onNode(
      node,
      [
        'export DEBIAN_FRONTEND=noninteractive',
        'sudo -E apt-get update -qq >/dev/null',
        // Without recommends (git, perl, systemd ...): the same dockerd, a third of the download and install time.
        'sudo -E apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1 || exit 7',
        'sudo service docker start >/dev/null 2>&1',
        'for i in $(seq 1 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done',
        "sudo docker info --format '{{.Driver}} {{.CgroupDriver}}'",
        'sudo service docker status',
      ].join('\n'),
    );
    expect(r.stdout.split('\n'), r.stderr).toEqual(['overlay2 cgroupfs', 'Docker is running.']);
  }, 300_000);

  it('keeps a renamed node renamed across a restart, and starts its docker like a booting Pi', async () => {
    const n = up.nodes[1];
    if (!n) throw new Error('no pi2');
    // What pi-setup does. /etc/hostname and /etc/hosts are mount points: write them in place (sed -i and mv fail with EBUSY).
    const rename = await onNode(n.address, `echo ${n.name} | sudo tee /etc/hostname >/dev/null && sed 's/raspberrypi$/${n.name}/' /etc/hosts > /tmp/hosts && sudo tee /etc/hosts < /tmp/hosts >/dev/null && sudo hostname ${n.name}`);
    expect(rename.code, rename.stderr).toBe(0);
    expect((await docker(['restart', '-t', '5', n.container])).code).toBe(0);
    expect(await waitFor(() => sshReady(n.address), 30_000)).toBe(true);
    const r = await onNode(n.address, "hostname; for i in $(seq 1 30); do sudo docker info >/dev/null 2>&1 && break; sleep 1; done; sudo docker info --format '{{.Name}}'");
    expect(r.stdout.split('\n'), r.stderr).toEqual([n.name, n.name]);
  }, 120_000);

  it('keeps running nodes on a second up (warm) and reports them in status', async () => {
    const again = await simUp({ nodes: NODES });
    if (!again.ok) throw new Error(again.error);
    figures['up (warm)'] = `${(again.durationMs / 1000).toFixed(1)} s`;
    expect(again.created).toEqual([]);
    expect(again.durationMs).toBeLessThan(30_000);
    const st = await simStatus();
    expect(st.nodes.map((n) => `${n.name} ${n.state}`)).toEqual(['pi1 running', 'pi2 running', 'pi3 running']);
    expect(st.services.map((s) => s.state)).toEqual(['running', 'running', 'running']);
  });

  it('down removes the nodes, network, volume, processes and inventory it made', async () => {
    const pids = (await simStatus()).services.map((s) => s.pid);
    const r = await simDown();
    if (!r.ok) throw new Error(r.error);
    figures.down = `${(r.durationMs / 1000).toFixed(1)} s`;
    expect((await docker(['ps', '-aq', '--filter', `label=${SIM.label}`])).stdout.trim()).toBe('');
    expect((await docker(['network', 'inspect', SIM.network])).code).not.toBe(0);
    expect((await docker(['volume', 'ls', '-q', '--filter', `label=${SIM.label}`])).stdout.trim()).toBe('');
    for (const pid of pids) expect(pid !== undefined && running(pid), `process ${pid}`).toBe(false);
    // No listener of ours is left (checked locally: the gateway address itself is gone with the bridge).
    const listening = (await run('ss', ['-Hltn'])).stdout;
    for (const s of serviceSpecs().filter((x) => x.host === SIM.gateway)) expect(listening).not.toContain(`${s.host}:${s.port}`);
    expect(isLocalAddress(SIM.gateway)).toBe(false);
    expect(fs.existsSync(SIM_PATHS.inventory)).toBe(false);
    const st = await simStatus();
    expect(st.nodes).toEqual([]);
    expect(st.network).toBe(false);
  });
});
