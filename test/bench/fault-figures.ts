// Prints recovery figures on the virtual fridge (#14): npx tsx test/bench/fault-figures.ts [--rounds N] [--jobmanager]
// Each round powers off (docker kill) the node running the example job's taskmanager (with --jobmanager: the
// leading jobmanager's, the fridge deployed with high availability), times until Flink runs the job again from its
// last checkpoint, reads the records lost and duplicated, then brings the node back and deploys. Ends with
// min/median/max per figure. Deploys first; leaves the fridge deployed.
import { parseArgs } from 'node:util';
import { flinkUrls } from '../../tasks/lib/deploy/endpoints.ts';
import { FlinkRest } from '../../tasks/lib/flink/rest.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { loseJobmanagerNode, loseTaskmanagerNode, writeHaInventory } from '../support/faults.ts';
import { explain, runTask } from '../support/run-task.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, jobmanager: { type: 'boolean', default: false } } });
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `min ${s(sorted[0] ?? NaN)}, median ${s(sorted[Math.floor(sorted.length / 2)] ?? NaN)}, max ${s(sorted.at(-1) ?? NaN)}`;
};

async function upAndDeployed(haFile?: string) {
  const up = await simUp({ nodes: 5 });
  if (!up.ok) throw new Error(up.error);
  const r = await runTask('deploy', haFile ? ['-i', haFile] : []);
  if (r.code !== 0) throw new Error(`deploy failed\n${explain(r)}`);
  return { up, ms: r.ms };
}

await upAndDeployed();
const haFile = values.jobmanager ? writeHaInventory() : undefined;
if (haFile) {
  // Taskmanagers a `scale` added would not fit beside the ZooKeeper servers.
  const scaled = await runTask('scale', ['--replicas', '3']);
  if (scaled.code !== 0) throw new Error(`scale failed\n${explain(scaled)}`);
  await upAndDeployed(haFile);
}
const loaded = await loadInventory(haFile ?? SIM_PATHS.inventory);
if (!loaded.ok) throw new Error('the virtual fridge inventory does not load');
const inv = loaded.inventory;
const rest = new FlinkRest({ baseUrl: flinkUrls(inv), timeoutMs: 5_000 });
const storage = inv.cluster.stateStorage;
const what = haFile ? 'leading jobmanager' : 'taskmanager';
const recovered: number[] = [];
const redeploys: number[] = [];
let lost = 0;
let duplicated = 0;
for (let i = 1; i <= Number(values.rounds); i++) {
  const loss = haFile ? await loseJobmanagerNode(inv, rest, storage.kind === 'sshfs' ? [storage.server] : []) : await loseTaskmanagerNode(inv, rest);
  recovered.push(loss.recoveredMs);
  lost += loss.after.gaps;
  duplicated += loss.after.duplicates;
  const back = await upAndDeployed(haFile);
  redeploys.push(back.ms);
  const now = 'nowOn' in loss ? loss.nowOn : loss.leader;
  console.log(`round ${i}: ${loss.victim} (${what}) powered off → job RUNNING from its checkpoint on ${now ?? '?'} in ${s(loss.recoveredMs)}; gaps ${loss.after.gaps}, duplicates ${loss.after.duplicates}; node back, deploy ${s(back.ms)}`);
}
console.log(`${what} node lost → job RUNNING from its checkpoint (goal ≤ ${haFile ? 60 : 15} s): ${stats(recovered)}`);
console.log(`records lost / duplicated over ${recovered.length} rounds: ${lost} / ${duplicated}`);
console.log(`deploy after the node came back: ${stats(redeploys)}`);
