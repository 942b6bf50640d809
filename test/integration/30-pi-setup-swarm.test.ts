// pi-setup → swarm → reset on the virtual fridge: real sshd, real dockerd in 5 fresh node containers.
// Leaves the fridge up with the swarm formed: the end-to-end deploy test runs on these nodes next.
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIM_PATHS, nodeAddress, nodeName } from '../../tasks/lib/sim/config.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { execLocal } from '../../tasks/lib/transport/local.ts';
import { shq } from '../../tasks/lib/transport/types.ts';
import { recap, runTask, totalChanged, type TaskRun } from './pi-setup-swarm-cli.ts';

const NODES = 5;
const names = Array.from({ length: NODES }, (_, k) => nodeName(k + 1));
const figures: Record<string, number> = {};

function onNode(node: string, command: string) {
  return execLocal(`docker exec ${containerName(node)} sh -c ${shq(command)}`);
}

interface NodeRow {
  hostname: string;
  status: string;
  availability: string;
  manager: string;
}

async function nodeLs(): Promise<NodeRow[]> {
  const r = await onNode('pi1', `docker node ls --format '{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}'`);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const [hostname = '', status = '', availability = '', manager = ''] = l.split('|');
      return { hostname, status, availability, manager };
    });
}

const sshBase = `-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR`;
/** Password-only login, as someone with the default password would try. */
function passwordLogin(address: string) {
  return execLocal(`sshpass -f ${shq(SIM_PATHS.passwordFile)} ssh ${sshBase} -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive pi@${address} true`);
}
function keyLogin(address: string) {
  return execLocal(`ssh ${sshBase} -o BatchMode=yes -o IdentitiesOnly=yes -i ${shq(SIM_PATHS.privateKey)} pi@${address} true`);
}

function expectSuccess(r: TaskRun): void {
  const counts = recap(r.output);
  expect(r.code, r.output).toBe(0);
  for (const n of names) expect(counts[n]?.failed ?? -1, `${n} in\n${r.output}`).toBe(0);
}

beforeAll(async () => {
  const up = await simUp({ nodes: NODES, fresh: true });
  if (!up.ok) throw new Error(`virtual fridge did not come up: ${up.error}`);
  figures['sim up (fresh, 5 nodes)'] = up.durationMs;
}, 15 * 60_000);

describe('pi-setup and swarm on 5 fresh virtual Pis', () => {
  it('fresh nodes accept the default password (so the refusal later means something)', async () => {
    expect((await passwordLogin(nodeAddress(2))).code).toBe(0);
  });

  it('--check lists what would change and changes nothing', async () => {
    const r = await runTask('pi-setup', ['--check']);
    expect(r.code, r.output).toBe(0);
    for (const n of names) expect(recap(r.output)[n]?.changed, r.output).toBeGreaterThan(5);
    expect(r.output).toContain('install docker (apt: docker.io)');
    expect(r.output).toContain('check mode: nothing was changed');
    // Still fresh: no docker, old hostname, password login on.
    expect((await onNode('pi1', 'command -v docker || echo none')).stdout.trim()).toBe('none');
    expect((await onNode('pi1', 'cat /proc/sys/kernel/hostname')).stdout.trim()).toBe('raspberrypi');
    expect((await passwordLogin(nodeAddress(1))).code).toBe(0);
  }, 120_000);

  it('pi-setup then swarm: 5 Ready nodes with the inventory hostnames, roles and labels', async () => {
    const setup = await runTask('pi-setup');
    figures['pi-setup cold'] = setup.ms;
    expectSuccess(setup);
    expect(setup.output).toMatch(/skipped: \[pi1\] reboot for cgroup flags => virtual fridge/);
    const swarm = await runTask('swarm');
    figures['swarm cold'] = swarm.ms;
    expectSuccess(swarm);
    expect(swarm.output).toContain('5 nodes Ready/Active: pi1 (leader), pi2, pi3, pi4, pi5');
    // The join tokens never reach the output.
    const token = (await onNode('pi1', 'docker swarm join-token -q worker')).stdout.trim();
    expect(token).toMatch(/^SWMTKN-/);
    expect(setup.output + swarm.output).not.toContain(token);

    const rows = await nodeLs();
    expect(rows.map((r) => r.hostname).sort()).toEqual(names);
    for (const r of rows) expect([r.status, r.availability]).toEqual(['Ready', 'Active']);
    expect(rows.find((r) => r.hostname === 'pi1')?.manager).toBe('Leader');
    expect(rows.filter((r) => r.manager !== '').map((r) => r.hostname)).toEqual(['pi1']);
    const labels = JSON.parse((await onNode('pi1', `docker node inspect --format '{{json .Spec.Labels}}' pi3`)).stdout) as Record<string, string>;
    expect(labels).toEqual({ model: '3B', memory: '1024', role: 'worker', 'fridge.emulates': 'linux/arm/v7' });
  }, 15 * 60_000);

  it('hardening: password login refused, key login works, password locked, daemon.json in place', async () => {
    for (const n of names) {
      const i = names.indexOf(n) + 1;
      const pw = await passwordLogin(nodeAddress(i));
      expect(pw.code, `password login to ${n} must fail`).not.toBe(0);
      expect(pw.stderr).toMatch(/Permission denied/);
      expect((await keyLogin(nodeAddress(i))).code, `key login to ${n}`).toBe(0);
    }
    expect((await onNode('pi2', 'passwd -S pi')).stdout.split(' ')[1]).toBe('L');
    const daemon = JSON.parse((await onNode('pi2', 'cat /etc/docker/daemon.json')).stdout) as Record<string, unknown>;
    expect(daemon['insecure-registries']).toEqual(['10.77.0.1:5000']);
    expect((await onNode('pi2', 'cat /boot/firmware/cmdline.txt')).stdout).toContain('cgroup_memory=1 cgroup_enable=memory');
  }, 120_000);

  it('state storage: every node mounts pi1:/srv/fridge-state at /mnt/fridge-state; what one node writes, every other reads', async () => {
    const token = `written on pi2 at ${Date.now()}`;
    expect((await onNode('pi2', `printf '%s\\n' ${shq(token)} > /mnt/fridge-state/from-pi2`)).code).toBe(0);
    for (const n of names) {
      const r = await onNode(n, "findmnt -n -o SOURCE,FSTYPE --mountpoint /mnt/fridge-state | tr -s ' '; cat /mnt/fridge-state/from-pi2; stat -c '%u:%g' /mnt/fridge-state/from-pi2 /mnt/fridge-state");
      // Flink's uid (9999) on every node, whoever wrote it: the server's account has that uid.
      expect(r.stdout.trim().split('\n'), n).toEqual(['fridge-state@10.77.0.11:/srv/fridge-state fuse.sshfs', token, '9999:9999', '9999:9999']);
    }
    // Kept on the server's own disk, and nowhere else: nothing is shared behind the pipeline's back.
    expect((await onNode('pi1', 'cat /srv/fridge-state/from-pi2')).stdout.trim()).toBe(token);
    expect((await onNode('pi3', 'test -e /srv/fridge-state/from-pi2 && echo elsewhere || echo only-on-pi1')).stdout.trim()).toBe('only-on-pi1');
    // The nodes' key opens SFTP only: no shell on the server.
    const shell = await onNode(
      'pi2',
      'timeout 20 ssh -i /etc/fridge/state-storage/id_ed25519 -o UserKnownHostsFile=/etc/fridge/state-storage/known_hosts -o BatchMode=yes fridge-state@10.77.0.11 echo shell-for-$(id -un) < /dev/null',
    );
    expect(shell.stdout).not.toContain('shell-for');
    await onNode('pi2', 'rm -f /mnt/fridge-state/from-pi2');
  }, 120_000);

  it('a second run of both reports 0 changed', async () => {
    const setup = await runTask('pi-setup', ['--json']);
    const swarm = await runTask('swarm', ['--json']);
    figures['pi-setup no-op (command)'] = setup.ms;
    figures['swarm no-op (command)'] = swarm.ms;
    figures['pi-setup no-op (phase)'] = setup.phaseMs ?? NaN;
    figures['swarm no-op (phase)'] = swarm.phaseMs ?? NaN;
    expectSuccess(setup);
    expectSuccess(swarm);
    expect(totalChanged(setup.output), setup.output).toBe(0);
    expect(totalChanged(swarm.output), swarm.output).toBe(0);
  }, 120_000);

  it('reset: --check changes nothing, reset leaves the swarm everywhere, a second reset is a no-op; swarm forms again', async () => {
    const check = await runTask('reset', ['--check']);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain('leave the swarm');
    expect((await nodeLs()).length).toBe(NODES);

    const reset = await runTask('reset');
    expectSuccess(reset);
    for (const n of names) expect((await onNode(n, `docker info --format '{{.Swarm.LocalNodeState}}'`)).stdout.trim(), n).toBe('inactive');
    const again = await runTask('reset');
    expectSuccess(again);
    expect(totalChanged(again.output), again.output).toBe(0);

    const swarm = await runTask('swarm');
    expectSuccess(swarm);
    expect(swarm.output).toContain('5 nodes Ready/Active');
  }, 10 * 60_000);

  it('a stopped node is reported unreachable (exit 3) while the others finish; once it is back a re-run converges', async () => {
    // Stopped before the run: a no-op pi-setup reads each host once (one facts round trip), so "mid-run"
    // has no window to hit; the swarm run then meets the same dead node on its first round trip.
    expect((await execLocal(`docker stop ${containerName('pi3')}`)).code).toBe(0);
    for (const task of ['pi-setup', 'swarm'] as const) {
      const r = await runTask(task);
      const counts = recap(r.output);
      expect(r.code, r.output).toBe(3);
      expect(counts.pi3?.unreachable, r.output).toBe(1);
      expect(r.output).toMatch(/unreachable: \[pi3\]/);
      for (const n of names.filter((x) => x !== 'pi3')) expect(counts[n], `${n}: ${r.output}`).toMatchObject({ unreachable: 0, failed: 0 });
    }

    expect((await execLocal(`docker start ${containerName('pi3')}`)).code).toBe(0);
    const deadline = Date.now() + 60_000;
    while ((await keyLogin(nodeAddress(3))).code !== 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 500));

    const setup = await runTask('pi-setup');
    expectSuccess(setup);
    const swarm = await runTask('swarm');
    expectSuccess(swarm);
    expect(swarm.output).toContain('5 nodes Ready/Active');
    const setup2 = await runTask('pi-setup');
    const swarm2 = await runTask('swarm');
    expect(totalChanged(setup2.output) + totalChanged(swarm2.output), setup2.output + swarm2.output).toBe(0);
  }, 10 * 60_000);

  it('prints the figures', () => {
    const lines = Object.entries(figures).map(([k, v]) => `${k.padEnd(28)} ${(v / 1000).toFixed(1)} s`);
    console.log(`pi-setup/swarm figures (5 nodes):\n${lines.join('\n')}`);
    fs.mkdirSync('.fridge/bench', { recursive: true });
    fs.writeFileSync('.fridge/bench/pi-setup-swarm.json', `${JSON.stringify(figures, null, 2)}\n`);
    expect(figures['pi-setup no-op (phase)']).toBeGreaterThan(0);
  });
});
