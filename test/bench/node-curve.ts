// How pi-setup + swarm scale with the number of nodes (issue #16 item 5; goal: the no-op time grows less than
// linearly): `npx tsx test/bench/node-curve.ts [--nodes 5,10,20] [--forks all,5] [--runs 3]`
// For each size: `sim up --nodes N --fresh` (fresh Pis: it WIPES the fridge, a deployed Flink included), the
// cold pi-setup then swarm (timed, apt through the shared cache), then --runs no-op rounds of pi-setup then
// swarm for each --forks value: `all` is the default (no --forks: every host at once, tasks/lib/cli/options.ts),
// a number is passed as `--forks N` (5 is Ansible's default). Prints per size the cold and median no-op
// times (wall time of the two commands as a user runs them, and time inside the phases from --json), the
// per-node cost, and the growth exponent between consecutive sizes, log(t2/t1) / log(n2/n1): below 1 is less
// than linear. Ends with the fridge back at 5 nodes, swarm pruned (`sim up --nodes 5`, `swarm --prune`), as
// the quick start expects. Needs the virtual fridge's host prerequisites; the nodes without Flink are light
// (about 60 MB each). About 10–20 minutes with the defaults (mostly the cold runs, longest at 20 nodes).
import { parseArgs } from 'node:util';
import { simUp } from '../../tasks/lib/sim/sim.ts';
import { runTask, totalChanged, type TaskRun } from '../integration/pi-setup-swarm-cli.ts';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '5,10,20' }, forks: { type: 'string', default: 'all,5' }, runs: { type: 'string', default: '3' } },
});
const sizes = values.nodes.split(',').map(Number);
const forksList = values.forks.split(',').map((f) => f.trim());
const runs = Number(values.runs);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 20)) throw new Error('--nodes: whole numbers from 1 to 20, comma-separated');
if (forksList.some((f) => f !== 'all' && !(Number.isInteger(Number(f)) && Number(f) >= 1))) throw new Error('--forks: all or whole numbers ≥ 1, comma-separated');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => {
  const v = [...xs].sort((x, y) => x - y);
  const k = Math.floor(v.length / 2);
  return v.length % 2 ? (v[k] ?? NaN) : ((v[k - 1] ?? NaN) + (v[k] ?? NaN)) / 2;
};

function must(what: string, r: TaskRun): TaskRun {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.output.slice(-6000)}`);
  return r;
}

/** pi-setup then swarm, as a user runs them; wall time, time inside the phases (--json), changes. */
async function setupAndSwarm(what: string, args: string[]): Promise<{ ms: number; phaseMs: number; changed: number }> {
  const a = must(`${what}: pi-setup`, await runTask('pi-setup', ['--json', ...args]));
  const b = must(`${what}: swarm`, await runTask('swarm', ['--json', ...args]));
  return { ms: a.ms + b.ms, phaseMs: (a.phaseMs ?? NaN) + (b.phaseMs ?? NaN), changed: totalChanged(a.output) + totalChanged(b.output) };
}

interface Row {
  nodes: number;
  label: string;
  ms: number;
  phaseMs: number;
  min: number;
  max: number;
  changed: string;
}
const rows: Row[] = [];

try {
  for (const n of sizes) {
    const up = await simUp({ nodes: n, fresh: true });
    if (!up.ok) throw new Error(up.error);
    console.log(`sim up --nodes ${n} --fresh: ${s(up.durationMs)}`);
    const cold = await setupAndSwarm(`${n} nodes, cold`, []);
    console.log(`  cold pi-setup + swarm: ${s(cold.ms)} (phases ${s(cold.phaseMs)}, ${cold.changed} changed)`);
    rows.push({ nodes: n, label: 'cold', ms: cold.ms, phaseMs: cold.phaseMs, min: cold.ms, max: cold.ms, changed: String(cold.changed) });
    for (const f of forksList) {
      const args = f === 'all' ? [] : ['--forks', f];
      const xs: Array<{ ms: number; phaseMs: number; changed: number }> = [];
      for (let i = 1; i <= runs; i++) {
        const r = await setupAndSwarm(`${n} nodes, no-op`, args);
        xs.push(r);
        console.log(`  no-op ${f === 'all' ? 'default forks (all)' : `--forks ${f}`} run ${i}: ${s(r.ms)} (phases ${s(r.phaseMs)}, ${r.changed} changed)`);
      }
      const ms = xs.map((x) => x.ms);
      rows.push({
        nodes: n,
        label: `no-op, ${f === 'all' ? 'forks all (default)' : `--forks ${f}`}`,
        ms: median(ms),
        phaseMs: median(xs.map((x) => x.phaseMs)),
        min: Math.min(...ms),
        max: Math.max(...ms),
        changed: xs.map((x) => x.changed).join(' '),
      });
    }
  }
} finally {
  // The quick start expects five nodes: the first five are kept (converged), the swarm forgets the others.
  const back = await simUp({ nodes: 5 });
  if (back.ok) {
    const pruned = await runTask('swarm', ['--prune']);
    console.log(`back to 5 nodes (${s(back.durationMs)}), swarm --prune exited ${pruned.code}`);
  } else {
    console.log(`could not bring the fridge back to 5 nodes: ${back.error}`);
  }
}

console.log();
console.log(`${'nodes'.padStart(5)}  ${'run'.padEnd(32)} ${'median'.padStart(9)} ${'min–max'.padStart(17)} ${'phases'.padStart(9)} ${'per node'.padStart(9)} ${'exponent'.padStart(9)}  changed`);
for (const r of rows) {
  const prev = [...rows].reverse().find((x) => x.label === r.label && x.nodes < r.nodes);
  const exponent = prev ? (Math.log(r.ms / prev.ms) / Math.log(r.nodes / prev.nodes)).toFixed(2) : '';
  console.log(
    `${String(r.nodes).padStart(5)}  ${r.label.padEnd(32)} ${s(r.ms).padStart(9)} ${`${s(r.min)}–${s(r.max)}`.padStart(17)} ${s(r.phaseMs).padStart(9)} ${s(r.ms / r.nodes).padStart(9)} ${exponent.padStart(9)}  ${r.changed}`,
  );
}
console.log('exponent: log(t2/t1) / log(n2/n1) against the next smaller size (1 = linear; goal for the no-op: below 1)');
const noop = rows.filter((r) => r.label.startsWith('no-op'));
const first = noop[0];
const last = [...noop].reverse().find((r) => r.label === first?.label);
if (first && last && last.nodes > first.nodes) {
  const e = Math.log(last.ms / first.ms) / Math.log(last.nodes / first.nodes);
  console.log(`no-op (${first.label.slice(7)}) ${first.nodes} → ${last.nodes} nodes: exponent ${e.toFixed(2)} (${e < 1 ? 'less than linear: goal met' : 'NOT less than linear'})`);
}
