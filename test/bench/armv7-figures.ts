// Prints the figures of `sim up --arch armv7` (the Pi 3Bs' own linux/arm/v7 image run through QEMU on the
// virtual nodes' x86 engines): a deploy up to a converged Flink (job-submit left out), the time from
// `docker stack deploy` to Flink's REST answering with every taskmanager registered, the platform the containers
// run, and a no-op re-run: `npx tsx test/bench/armv7-figures.ts` (about 10 minutes; switches the fridge to armv7
// and back).
// Not a test (yet): under QEMU on 2 cores, Pekko's classic remoting must start within a fixed 10 s that no Flink
// option sets (pekko.startup-timeout does not reach it), so under load a jobmanager or taskmanager may fail to
// start and the swarm rolls the update back; and qemu-user does not fix up unaligned LDRD as ARMv7 Linux does,
// so a job's tasks die with SIGBUS. The README ("How the virtual fridge differs") says both.
import { execFileSync } from 'node:child_process';
import { flinkUrls } from '../../tasks/lib/deploy/endpoints.ts';
import { FlinkRest } from '../../tasks/lib/flink/rest.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { changedCount, runTask, type JsonRun } from '../support/run-task.ts';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const onNode = (node: string, script: string): string => execFileSync('docker', ['exec', containerName(node), 'sh', '-c', script], { encoding: 'utf8' }).trim();

const up = await simUp({ nodes: 5, arch: 'armv7' });
if (!up.ok) throw new Error(`sim up --arch armv7: ${up.error}`);
const loaded = await loadInventory(up.inventory);
if (!loaded.ok) throw new Error('the armv7 inventory does not load');
const inv = loaded.inventory;
try {
  const cold = await runTask('deploy', ['--skip', 'job-submit']);
  const converged = /converged => .*\(after ([\d.]+) s\)/.exec(cold.stdout)?.[1];
  console.log(`${'deploy to a converged Flink (armv7, QEMU)'.padEnd(50)} ${s(cold.ms)} (exit ${cold.code})`);
  console.log(`${'  stack deploy → REST ready, all taskmanagers'.padEnd(50)} ${converged ? `${converged} s` : 'did not converge'}`);
  if (cold.code !== 0) console.log(cold.stdout.split('\n').filter((l) => /failed|error|not converged/i.test(l)).slice(0, 8).join('\n'));
  const overview = await new FlinkRest({ baseUrl: flinkUrls(inv), timeoutMs: 10_000 }).overview();
  console.log(`${'  Flink overview'.padEnd(50)} ${overview.ok ? `${overview.value.taskmanagers} taskmanagers, ${overview.value['slots-total']} slots` : overview.message}`);
  const jm = inv.cluster.flink.jobmanagerHost;
  const id = onNode(jm, `docker ps -q --filter label=com.docker.swarm.service.name=${inv.cluster.stackName}_jobmanager | head -1`);
  if (id) console.log(`${'  jobmanager container: image / uname -m'.padEnd(50)} ${onNode(jm, `docker image inspect --format '{{.Os}}/{{.Architecture}}/{{.Variant}}' $(docker inspect --format '{{.Image}}' ${id})`)} / ${onNode(jm, `docker exec ${id} uname -m`)} (node: ${onNode(jm, 'uname -m')})`);
  const again = await runTask('deploy', ['--skip', 'job-submit', '--json']);
  const changed = again.code === 0 ? changedCount(JSON.parse(again.stdout) as JsonRun) : -1;
  console.log(`${'no-op re-run'.padEnd(50)} ${s(again.ms)} (exit ${again.code}, ${changed} changed)`);
} finally {
  await simUp({ nodes: 5, arch: 'amd64' });
}
