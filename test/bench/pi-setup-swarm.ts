// Prints pi-setup + swarm timings on the virtual fridge: `npx tsx test/bench/pi-setup-swarm.ts [--fresh] [--runs N]`.
// --fresh recreates the 5 nodes and measures the cold runs too; without it the nodes are used as they are
// (pi-setup and swarm then converge them first). Leaves the fridge up with the swarm formed.
import { parseArgs } from 'node:util';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { runTask, totalChanged, type TaskRun } from '../integration/pi-setup-swarm-cli.ts';

const { values } = parseArgs({ options: { fresh: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function must(name: string, r: TaskRun): TaskRun {
  if (r.code !== 0) throw new Error(`${name} exited ${r.code}:\n${r.output}`);
  return r;
}

const up = await simUp({ nodes: 5, fresh: values.fresh });
if (!up.ok) throw new Error(up.error);
const label = values.fresh ? 'cold (fresh nodes)' : 'first run (nodes as found)';
const setup = must('pi-setup', await runTask('pi-setup'));
const swarm = must('swarm', await runTask('swarm'));
console.log(`${`pi-setup ${label}`.padEnd(40)} ${s(setup.ms)} (${totalChanged(setup.output)} changed)`);
console.log(`${`swarm ${label}`.padEnd(40)} ${s(swarm.ms)} (${totalChanged(swarm.output)} changed)`);

const commands: number[] = [];
const phases: number[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  const a = must('pi-setup', await runTask('pi-setup', ['--json']));
  const b = must('swarm', await runTask('swarm', ['--json']));
  const changed = totalChanged(a.output) + totalChanged(b.output);
  commands.push(a.ms + b.ms);
  phases.push((a.phaseMs ?? NaN) + (b.phaseMs ?? NaN));
  console.log(
    `${`no-op run ${i + 1}: pi-setup + swarm`.padEnd(40)} phases ${s(a.phaseMs ?? NaN)} + ${s(b.phaseMs ?? NaN)}, commands ${s(a.ms)} + ${s(b.ms)} (${changed} changed)`,
  );
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
console.log(`${'no-op pi-setup + swarm, median'.padEnd(40)} phases ${s(median(phases))}, commands incl. start-up ${s(median(commands))} (goal ≤ 3 s)`);
