// Prints scale and redeploy figures on the virtual fridge:
//   npx tsx test/bench/deploy-figures.ts [--runs N] [--taskmanagers 3|4|5] [--timeline]
// Deploys first when the fridge has no running job. Each round scales the taskmanagers 3 → 5 (timed), then to
// --taskmanagers (default 3, the inventory's; the e2e test redeploys with 5) untimed, and redeploys the same
// image under a new tag, sampling Flink's /jobs/overview for how long no job had all its tasks running.
// --timeline prints each redeploy's timeline (always printed for a redeploy over 30 s of downtime or 45 s
// of command). Leaves the fridge deployed with 3 taskmanagers.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { watchRedeploy } from '../support/redeploy-watch.ts';
import { explain, runTask, type TaskRun } from '../support/run-task.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, taskmanagers: { type: 'string', default: '3' }, timeline: { type: 'boolean', default: false } } });
const redeployWith = Number(values.taskmanagers);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;

function must(what: string, r: TaskRun): TaskRun {
  if (r.code !== 0) throw new Error(`${what} failed\n${explain(r)}`);
  return r;
}

const up = await simUp({ nodes: 5 });
if (!up.ok) throw new Error(up.error);
const loaded = await loadInventory(up.inventory);
if (!loaded.ok) throw new Error('the virtual fridge inventory does not load');
const inv = loaded.inventory;
must('deploy', await runTask('deploy'));
must('scale to 3', await runTask('scale', ['--replicas', '3']));

const registry = inv.cluster.registry;
const latest = `${registry.host}/${registry.repository}:latest`;
const scales: number[] = [];
const downs: number[] = [];
const commands: number[] = [];
for (let i = 1; i <= Number(values.runs); i++) {
  const scaled = must('scale to 5', await runTask('scale', ['--replicas', '5']));
  scales.push(scaled.ms);
  if (redeployWith !== 5) must(`scale to ${redeployWith}`, await runTask('scale', ['--replicas', String(redeployWith)]));

  const tag = `${registry.host}/${registry.repository}:bench-${Date.now()}`;
  execFileSync('docker', ['pull', '-q', latest], { stdio: 'ignore' });
  execFileSync('docker', ['tag', latest, tag]);
  execFileSync('docker', ['push', tag], { stdio: 'ignore' });
  const watch = watchRedeploy(inv, 'sensor-window');
  const r = await runTask('deploy', ['--skip', 'image-build', '--image', tag.replace(registry.host, registry.pullHost)], {}, watch.onLine);
  await new Promise((res) => setTimeout(res, 1_000));
  const { downtimeMs, timeline } = await watch.stop();
  if (values.timeline || downtimeMs > 30_000 || r.ms > 45_000) console.log(timeline);
  execFileSync('docker', ['rmi', tag], { stdio: 'ignore' });
  must('redeploy', r);
  downs.push(downtimeMs);
  commands.push(r.ms);
  console.log(`round ${i}: scale 3 → 5 ${s(scaled.ms)}; redeploy (${redeployWith} taskmanagers) job not fully running ${s(downtimeMs)}, command ${s(r.ms)}`);
  must('scale to 3', await runTask('scale', ['--replicas', '3']));
}
console.log(`${'scale 3 → 5, command until Flink sees 5, median'.padEnd(58)} ${s(median(scales))} (goal ≤ 20 s)`);
console.log(`${`redeploy with ${redeployWith} taskmanagers, job not fully running, median`.padEnd(58)} ${s(median(downs))} (goal ≤ 30 s)`);
console.log(`${'redeploy, whole command, median'.padEnd(58)} ${s(median(commands))}`);
