// Fridge against Ansible and pyinfra, side by side, on the same 5 virtual nodes (issue #16 item 4: the no-op
// pi-setup + swarm at least 2× faster than pyinfra and 10× faster than Ansible):
//   npx tsx test/bench/side-by-side.ts [--runs 5] [--skip-converge]
// Needs the virtual fridge up with 5 nodes (`npx zx tasks/sim.mjs up`; a deployed Flink on it is fine) and
// python3 ≥ 3.11 with venv. First use installs ansible-core 2.19.14 and pyinfra 3.10.0 from PyPI into
// .fridge/bench-venv (about 30 s). Converges once with each tool (Fridge's pi-setup + swarm, the playbook,
// the deploy: test/bench/side-by-side/; the first Ansible run installs python3 and python3-apt on the nodes,
// a minute or two), then times --runs rounds of the three no-op runs, interleaved: `npx zx tasks/pi-setup.mjs`
// then `npx zx tasks/swarm.mjs`; `ansible-playbook` (pipelining, no facts, forks 25, ControlPersist: its SSH
// connections outlive a run, so rounds after the first reuse them); `pyinfra -y`. Each no-op run must change
// nothing (Fridge's and Ansible's PLAY RECAP changed=0, pyinfra's results with no "Success" operation):
// otherwise the comparison is unfair, the table says so and the bench exits 1. About 2 minutes with 5 runs.
// Prints tool, median, min–max, ratio to Fridge. Leaves the fridge as it found it, converged (plus python3).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../tasks/lib/paths.ts';
import { SIM_PATHS } from '../../tasks/lib/sim/config.ts';
import { simStatus } from '../../tasks/lib/sim/sim.ts';
import { runTask, totalChanged, type TaskRun } from '../integration/pi-setup-swarm-cli.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'skip-converge': { type: 'boolean', default: false } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');

const DIR = path.join(PROJECT_ROOT, 'test', 'bench', 'side-by-side');
const VENV = path.join(PROJECT_ROOT, '.fridge', 'bench-venv');
const BIN = path.join(VENV, 'bin');
const PINS = ['ansible-core==2.19.14', 'pyinfra==3.10.0'];
const KNOWN_HOSTS = path.join(PROJECT_ROOT, '.fridge', 'bench', 'known_hosts');

interface Run {
  code: number;
  output: string;
  ms: number;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', (e) => (output += String(e)));
    child.on('close', (code) => resolve({ code: code ?? 1, output, ms: Date.now() - t0 }));
  });
}

async function ensureVenv(): Promise<void> {
  const stamp = path.join(VENV, 'fridge-bench-pins.txt');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === PINS.join(' ')) return;
  console.log(`installing ${PINS.join(' and ')} from PyPI into ${path.relative(PROJECT_ROOT, VENV)} (first use) ...`);
  if (!fs.existsSync(path.join(BIN, 'python'))) {
    const v = await exec('python3', ['-m', 'venv', VENV]);
    if (v.code !== 0) throw new Error(`python3 -m venv failed (python3 ≥ 3.11 with venv is needed):\n${v.output}`);
  }
  const pip = await exec(path.join(BIN, 'pip'), ['install', '-q', '--disable-pip-version-check', ...PINS]);
  if (pip.code !== 0) throw new Error(`pip install ${PINS.join(' ')} failed:\n${pip.output}`);
  fs.writeFileSync(stamp, `${PINS.join(' ')}\n`);
}

/** Ansible's PLAY RECAP: changed summed over hosts; undefined when there is none or a host failed. */
function ansibleChanged(output: string): number | undefined {
  let changed = 0;
  let hosts = 0;
  for (const m of output.matchAll(/^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    if (Number(m[3]) > 0 || Number(m[4]) > 0) return undefined;
    changed += Number(m[2]);
    hosts++;
  }
  return hosts > 0 ? changed : undefined;
}

/** pyinfra's results: the "Grand total" row (hosts, success = changed, error, no change; "-" is 0). */
function pyinfraChanged(output: string): number | undefined {
  // eslint-disable-next-line no-control-regex
  const m = output.replace(/\x1b\[[0-9;]*m/g, '').match(/Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s === '-' || s === undefined ? 0 : Number(s));
  return n(m[3]) > 0 ? undefined : n(m[2]);
}

interface Sample {
  ms: number;
  changed: number | undefined;
  output: string;
  code: number;
}

const tools: Array<{ name: string; run: () => Promise<Sample> }> = [
  {
    name: 'Fridge (pi-setup, then swarm)',
    async run() {
      const a: TaskRun = await runTask('pi-setup');
      const b: TaskRun = a.code === 0 ? await runTask('swarm') : { code: -1, output: '', ms: 0 };
      const ok = a.code === 0 && b.code === 0;
      return { ms: a.ms + b.ms, changed: ok ? totalChanged(a.output) + totalChanged(b.output) : undefined, output: `${a.output}\n${b.output}`, code: ok ? 0 : a.code || b.code };
    },
  },
  {
    name: `Ansible (ansible-core ${PINS[0]?.split('==')[1]})`,
    async run() {
      const r = await exec(
        path.join(BIN, 'ansible-playbook'),
        ['-i', SIM_PATHS.inventory, path.join(DIR, 'playbook.yml'), '--ssh-extra-args', `-o UserKnownHostsFile=${KNOWN_HOSTS}`],
        { ANSIBLE_CONFIG: path.join(DIR, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', PATH: `${BIN}:${process.env.PATH ?? ''}` },
      );
      return { ...r, changed: r.code === 0 ? ansibleChanged(r.output) : undefined };
    },
  },
  {
    name: `pyinfra (${PINS[1]?.split('==')[1]})`,
    async run() {
      const r = await exec(path.join(BIN, 'pyinfra'), ['-y', path.join(DIR, 'inventory.py'), path.join(DIR, 'deploy.py')], {
        FRIDGE_BENCH_INVENTORY: SIM_PATHS.inventory,
        FRIDGE_BENCH_KNOWN_HOSTS: KNOWN_HOSTS,
        PATH: `${BIN}:${process.env.PATH ?? ''}`,
      });
      return { ...r, changed: r.code === 0 ? pyinfraChanged(r.output) : undefined };
    },
  },
];

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => {
  const v = [...xs].sort((x, y) => x - y);
  const k = Math.floor(v.length / 2);
  return v.length % 2 ? (v[k] ?? NaN) : ((v[k - 1] ?? NaN) + (v[k] ?? NaN)) / 2;
};

const status = await simStatus();
const running = status.nodes.filter((n) => n.state === 'running').length;
if (!status.inventory || running < 1) throw new Error('the virtual fridge is not up: npx zx tasks/sim.mjs up (5 nodes)');
if (running !== 5) console.log(`note: the virtual fridge has ${running} running nodes, not 5`);
await ensureVenv();
fs.mkdirSync(path.dirname(KNOWN_HOSTS), { recursive: true });
fs.rmSync(KNOWN_HOSTS, { force: true });

if (!values['skip-converge']) {
  for (const t of tools) {
    const r = await t.run();
    if (r.code !== 0) throw new Error(`${t.name}: converging run failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
    console.log(`${`converge: ${t.name}`.padEnd(48)} ${s(r.ms)} (${r.changed ?? '?'} changed)`);
  }
}

const samples = new Map<string, Sample[]>(tools.map((t) => [t.name, []]));
for (let i = 1; i <= runs; i++) {
  const line: string[] = [];
  for (const t of tools) {
    const r = await t.run();
    if (r.code !== 0) throw new Error(`${t.name}: no-op run ${i} failed (exit ${r.code}):\n${r.output.slice(-6000)}`);
    if (r.changed !== 0) console.log(`${t.name}: run ${i} changed ${r.changed ?? 'an unknown number of'} things; its output:\n${r.output.slice(-4000)}`);
    samples.get(t.name)?.push(r);
    line.push(`${t.name.split(' ')[0]} ${s(r.ms)} (${r.changed ?? '?'} changed)`);
  }
  console.log(`no-op round ${i}: ${line.join(', ')}`);
}

const fridgeMedian = median((samples.get(tools[0]?.name ?? '') ?? []).map((r) => r.ms));
const goals: Record<number, number> = { 1: 10, 2: 2 };
let fair = true;
console.log();
console.log(`${'tool'.padEnd(34)} ${'median'.padStart(9)} ${'min–max'.padStart(17)} ${'ratio'.padStart(7)}  changed per run`);
tools.forEach((t, k) => {
  const xs = samples.get(t.name) ?? [];
  const ms = xs.map((r) => r.ms);
  const changed = xs.map((r) => r.changed ?? '?');
  if (xs.some((r) => r.changed !== 0)) fair = false;
  const m = median(ms);
  const ratio = m / fridgeMedian;
  const goal = goals[k] ? ` (goal ≥ ${goals[k]}×: ${ratio >= (goals[k] ?? 0) ? 'met' : 'NOT met'})` : '';
  console.log(
    `${t.name.padEnd(34)} ${s(m).padStart(9)} ${`${s(Math.min(...ms))}–${s(Math.max(...ms))}`.padStart(17)} ${`${ratio.toFixed(1)}×`.padStart(7)}  ${changed.join(' ')}${goal}`,
  );
});
console.log('(wall time of the commands as a user runs them, process start-up included; Ansible keeps its SSH connections between runs)');
if (!fair) {
  console.log('NOT A FAIR COMPARISON: a no-op run changed something (see above)');
  process.exitCode = 1;
}
