// `sim up --arch armv7`: the virtual Pis run the linux/arm/v7 image the Fridge's Pi 3Bs run, through QEMU on
// their x86 engines (the platform's own manifest by digest, `--resolve-image never`; deploy/emulation.ts).
// Where the sim differs from a Pi here, it is harsher, and this test says so by what it leaves out: qemu-user
// does not do the Linux kernel's fix-up of unaligned 64-bit loads (LDRD) that ARMv7 Linux does for user
// programs, and the arm/v7 JVM makes them (Unsafe.getLong in Flink's memory segments), so a job's tasks die
// with SIGBUS under QEMU while they run on a Pi. The cluster itself (jobmanager, taskmanagers, REST) is checked.
// Runs last: it switches the fridge to armv7 and back to amd64 when done.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flinkUrl } from '../../tasks/lib/deploy/endpoints.ts';
import { FlinkRest } from '../../tasks/lib/flink/rest.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { changedCount, explain, runTask, type JsonRun } from '../support/run-task.ts';

const figures: Record<string, string> = {};
let inv: Inventory;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** A command in a node (its own engine). */
const onNode = (node: string, script: string): string => execFileSync('docker', ['exec', containerName(node), 'sh', '-c', script], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  const up = await simUp({ nodes: 5, arch: 'armv7' });
  if (!up.ok) throw new Error(`sim up --arch armv7 failed: ${up.error}`);
  const loaded = await loadInventory(up.inventory);
  if (!loaded.ok) throw new Error('generated inventory does not load');
  inv = loaded.inventory;
}, 600_000);

afterAll(async () => {
  console.log(`armv7 figures (under QEMU): ${Object.entries(figures).map(([k, v]) => `${k}: ${v}`).join('; ')}`);
  // Back to what the quick start and the other tests expect; the next deploy replaces the arm/v7 stack.
  await simUp({ nodes: 5, arch: 'amd64' });
}, 600_000);

describe('armv7 mode: the Pis\' own image under QEMU (the job is not run: see the top of this file)', () => {
  it('deploy builds linux/arm/v7 only, and the swarm runs it on the x86 engines until Flink sees every taskmanager', { timeout: 2_400_000 }, async () => {
    expect(inv.cluster.platforms).toEqual(['linux/arm/v7']);
    const r = await runTask('deploy', ['--skip', 'job-submit']);
    figures['deploy to a converged Flink'] = seconds(r.ms);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toMatch(/image the nodes run => linux\/arm\/v7 under QEMU on linux\/amd64 engines: \S+@sha256:[0-9a-f]{64}/);
    expect(r.stdout).toMatch(/docker stack deploy flink \(/);
    const converged = /converged => .*\(after ([\d.]+) s\)/.exec(r.stdout);
    if (converged) figures['stack deploy → Flink REST ready, 3/3 taskmanagers registered'] = `${converged[1]} s`;
    expect(r.stdout).toContain(`Flink dashboard: ${flinkUrl(inv)}`);

    const rest = new FlinkRest({ baseUrl: flinkUrl(inv), timeoutMs: 10_000 });
    const overview = await rest.overview();
    expect(overview.ok && overview.value).toMatchObject({ taskmanagers: inv.cluster.flink.taskmanagerReplicas });

    // What runs is the arm/v7 image, executed by QEMU: its userland says armv7l, the node's engine x86_64.
    const jm = inv.cluster.flink.jobmanagerHost;
    const id = onNode(jm, `docker ps -q --filter label=com.docker.swarm.service.name=${inv.cluster.stackName}_jobmanager | head -1`);
    expect(id).not.toBe('');
    expect(onNode(jm, `docker image inspect --format '{{.Os}}/{{.Architecture}}/{{.Variant}}' $(docker inspect --format '{{.Image}}' ${id})`)).toBe('linux/arm/v7');
    expect(onNode(jm, `docker exec ${id} uname -m`)).toBe('armv7l');
    expect(onNode(jm, 'uname -m')).toBe('x86_64');
  });

  it('a second deploy changes nothing', { timeout: 900_000 }, async () => {
    const r = await runTask('deploy', ['--skip', 'job-submit', '--json']);
    figures['no-op re-run'] = seconds(r.ms);
    expect(r.code, explain(r)).toBe(0);
    const result = JSON.parse(r.stdout) as JsonRun;
    expect(result.phases.map((p) => p.phase)).toEqual(['pi-setup', 'swarm', 'image-build', 'stack-deploy']);
    expect(changedCount(result)).toBe(0);
  });
});
