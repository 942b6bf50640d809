// The one entry every tasks/<name>.mjs calls: options → inventory → phases → reporters → exit code.
// Everything, from the first option to the last recap, runs inside one error boundary: an exception becomes
// a plain message and an exit code (4 while loading the inventory, else 1), in every output mode.
import fs from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../engine/recap.ts';
import { Run, type Session } from '../engine/runner.ts';
import { Outputs } from '../engine/outputs.ts';
import { EXIT, type RunSummary } from '../engine/types.ts';
import type { Phase, PhaseOption } from '../engine/phase.ts';
import { actingLeader, actingLeaderMessage } from '../deploy/acting-leader.ts';
import { loadInventory } from '../inventory/load.ts';
import { leader } from '../inventory/types.ts';
import { selectHosts } from '../inventory/select.ts';
import { readMoveBook, withMoves } from '../inventory/moved.ts';
import { SIM_INVENTORY_FILE } from '../paths.ts';
import { mask } from '../secrets.ts';
import { TransportPool } from '../transport/open.ts';
import { offLinkAddresses } from '../transport/route-guard.ts';
import type { Reporter } from '../report/types.ts';
import { useColor } from './color.ts';
import { interruptedMessage, listenForInterrupt, EXIT_INTERRUPTED } from './interrupt.ts';
import { helpText, parseOptions } from './options.ts';
import { Output, type OutputMode } from './output.ts';
import { choosePhases, loadPhase, TASKS, type TaskDef } from './tasks.ts';
import { reporterLog, VerbosePool } from './verbose.ts';
import { versionText } from './version.ts';

export { EXIT_INTERRUPTED } from './interrupt.ts';

const MULTI_PHASE_OPTIONS: Record<string, PhaseOption> = {
  phases: { type: 'string', placeholder: 'A,B', description: 'run only these phases (in the task\'s order)' },
  skip: { type: 'string', placeholder: 'A,B', description: 'skip these phases' },
};

/** How long Ctrl-C waits for connections to close before saying so and ending. */
const CLOSE_WAIT_MS = 2_000;

function strArg(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the error boundary and the Ctrl-C handler need to know about the run so far. */
interface RunState {
  output: Output | undefined;
  session: Session | undefined;
  current: Run | undefined;
  summaries: RunSummary[];
  /** Hosts a step changed (or, in check mode, would change). */
  changed: Set<string>;
  check: boolean;
  /** --help or --version answered: nothing else is printed. */
  answered: boolean;
}

/** Before the options are understood, --json and GitHub mode are still honoured for the error document. */
async function makeOutput(mode: OutputMode, diff: boolean, color: boolean): Promise<Output> {
  const github = mode === 'github' ? (await import('../report/github.ts')).githubReporter : undefined;
  return new Output({ mode, diff, color }, () => {
    if (!github) throw new Error('bug: GitHub reporter not loaded');
    return github({ diff });
  });
}

function outputMode(json: boolean): OutputMode {
  return json ? 'json' : process.env.GITHUB_ACTIONS === 'true' ? 'github' : 'console';
}

export async function main(taskName: string, argv: string[]): Promise<number> {
  const task = TASKS[taskName];
  if (!task) {
    const output = await makeOutput(outputMode(argv.includes('--json')), false, false);
    output.error({ kind: 'options', message: `unknown task '${taskName}'; tasks: ${Object.keys(TASKS).join(', ')}` });
    return output.end(EXIT.badOptions, []);
  }
  return runTask(taskName, task, () => Promise.all(task.phaseNames.map(loadPhase)), argv);
}

/** A task with its phases (tests give their own). */
export async function runTask(taskName: string, task: TaskDef, phasesOf: () => Promise<Phase[]>, argv: string[]): Promise<number> {
  const state: RunState = { output: undefined, session: undefined, current: undefined, summaries: [], changed: new Set(), check: false, answered: false };
  const interrupt = listenForInterrupt();
  let code: number;
  try {
    code = await Promise.race([runInside(taskName, task, phasesOf, argv, state), interrupt.signalled.then(() => EXIT_INTERRUPTED)]);
    if (interrupt.fired) code = await interrupted(state, argv);
  } catch (err) {
    // A bug, not a host's failure: say so plainly; the stack only on request.
    state.output ??= await makeOutput(outputMode(argv.includes('--json')), false, false);
    state.output.error({ kind: 'internal', message: `internal error: ${errorText(err)}` });
    if (process.env.FRIDGE_DEBUG && err instanceof Error && err.stack) state.output.note(err.stack);
    code = EXIT.error;
  } finally {
    interrupt.dispose();
    if (!interrupt.fired) await state.session?.pool.closeAll();
  }
  if (state.answered) return code;
  state.output ??= await makeOutput(outputMode(argv.includes('--json')), false, false);
  return state.output.end(code, state.summaries);
}

/** After Ctrl-C: the partial recap, connections closed, which hosts were changed, exit 99 (Ansible's). */
async function interrupted(state: RunState, argv: string[]): Promise<number> {
  const output = (state.output ??= await makeOutput(outputMode(argv.includes('--json')), false, false));
  if (state.current) {
    const summary = state.current.summary();
    state.summaries.push(summary);
    output.reporter.emit({ kind: 'phase-end', summary });
  }
  output.close();
  // A connection still being opened would hold this until its timeout: the process ends anyway (entry.mjs).
  await Promise.race([state.session?.pool.closeAll(), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())]);
  output.error({ kind: 'interrupted', message: interruptedMessage([...state.changed], state.check) });
  return EXIT_INTERRUPTED;
}

async function runInside(taskName: string, task: TaskDef, phasesOf: () => Promise<Phase[]>, argv: string[], state: RunState): Promise<number> {
  const allPhases = await phasesOf();
  const extra: Record<string, PhaseOption> = Object.assign({}, ...allPhases.map((p) => p.options ?? {}));
  if (task.phaseNames.length > 1) Object.assign(extra, MULTI_PHASE_OPTIONS);
  const parsed = await parseOptions(argv, extra);
  if (!parsed.ok) {
    const output = (state.output = await makeOutput(outputMode(argv.includes('--json')), false, false));
    for (const e of parsed.errors) output.error({ kind: 'options', message: e });
    output.note(`Try: npx zx tasks/${taskName}.mjs --help`);
    return EXIT.badOptions;
  }
  const { common, args } = parsed;
  // Help and version are text whatever the mode: they are read by people.
  if (common.help) {
    process.stdout.write(`${helpText(taskName, task.description, task.phaseNames, extra)}\n`);
    state.answered = true;
    return EXIT.ok;
  }
  if (common.version) {
    process.stdout.write(`${await versionText()}\n`);
    state.answered = true;
    return EXIT.ok;
  }
  const color = useColor(common.noColor, process.env, process.stdout.isTTY === true);
  const output = (state.output = await makeOutput(outputMode(common.json), common.diff, color));
  state.check = common.check;
  const chosen = choosePhases(task.phaseNames, strArg(args.phases), strArg(args.skip));
  if ('error' in chosen) {
    output.error({ kind: 'options', message: chosen.error });
    return EXIT.badOptions;
  }
  const phases = allPhases.filter((p) => chosen.phases.includes(p.name));

  let inventoryFile = common.inventory;
  if (task.prepare) {
    const log = (line: string): void => void (common.json ? process.stderr : process.stdout).write(`${mask(line)}\n`);
    const prepared = await task.prepare(inventoryFile, log);
    if ('error' in prepared) {
      output.error({ kind: 'environment', message: prepared.error });
      return EXIT.error;
    }
    inventoryFile = prepared.inventory;
  }
  inventoryFile ??= fs.existsSync(SIM_INVENTORY_FILE) ? SIM_INVENTORY_FILE : undefined;
  if (!inventoryFile) {
    output.error({ kind: 'inventory', message: 'no inventory: pass -i FILE, set FRIDGE_INVENTORY, or bring up the virtual fridge with `npx zx tasks/sim.mjs up`' });
    return EXIT.inventory;
  }
  let loaded: Awaited<ReturnType<typeof loadInventory>>;
  try {
    loaded = await loadInventory(inventoryFile);
  } catch (err) {
    // The loader returns problems as data; this is the net for what it did not foresee (a YAML alias bomb).
    output.error({ kind: 'inventory', message: `cannot load the inventory: ${errorText(err)}`, file: inventoryFile, line: 1, col: 1 });
    if (process.env.FRIDGE_DEBUG && err instanceof Error && err.stack) output.note(err.stack);
    return EXIT.inventory;
  }
  if (!loaded.ok) {
    for (const p of loaded.problems) {
      const e = { kind: 'inventory' as const, message: p.message, file: p.pos.file, line: p.pos.line, col: p.pos.col };
      if (p.severity === 'error') output.error(e);
      else output.warning(e);
    }
    const errors = loaded.problems.filter((p) => p.severity === 'error').length;
    output.note(`${inventoryFile}: ${errors} error${errors === 1 ? '' : 's'}: nothing was run`);
    return EXIT.inventory;
  }
  // Pis that pi-setup moved to their static address are reached there (inventory/moved.ts).
  const inventory = withMoves(loaded.inventory, readMoveBook()).inventory;
  const selected = selectHosts(inventory, common.limit);
  if ('error' in selected) {
    output.error({ kind: 'options', message: selected.error });
    return EXIT.badOptions;
  }

  if (inventory.cluster.virtual && phases.some((p) => p.offline !== true)) {
    const off = await offLinkAddresses(selected.hosts.filter((h) => h.connection === 'ssh').map((h) => h.address));
    if (off.length) {
      output.error({ kind: 'environment', message: `the virtual fridge's network is not up (${off.join(', ')} would be routed off this machine): run \`npx zx tasks/sim.mjs up\` first` });
      return EXIT.error;
    }
  }
  const reporter = trackChanges(output.reporter, state.changed);
  for (const w of loaded.warnings) reporter.emit({ kind: 'message', level: 'warning', text: w.message, file: w.pos.file, line: w.pos.line, col: w.pos.col });
  const pool = common.verbose > 0 ? new VerbosePool(common.verbose, reporterLog(reporter)) : new TransportPool();
  const acting = await actingLeader(inventory, (h) => pool.get(h));
  const actingNote = actingLeaderMessage(acting);
  if (actingNote) reporter.emit({ kind: 'message', level: 'warning', text: mask(actingNote) });
  const session: Session = {
    inventory: acting.inventory,
    hosts: selected.hosts,
    options: { check: common.check, diff: common.diff, forks: common.forks },
    reporter,
    pool,
    args,
    outputs: new Outputs(),
    phases: phases.map((p) => p.name),
  };
  state.session = session;
  const runPhases = async (): Promise<number> => {
    let worst: number = EXIT.ok;
    for (const phase of phases) {
      const run = new Run(phase.name, session);
      state.current = run;
      reporter.emit({ kind: 'phase-start', phase: phase.name, check: common.check, hosts: session.hosts.map((h) => h.name) });
      await phase.run(run);
      state.current = undefined;
      const summary = run.summary();
      state.summaries.push(summary);
      reporter.emit({ kind: 'phase-end', summary });
      const phaseCode = exitCodeFor(summary.recap);
      const gone = summary.recap.filter((h) => h.unreachable).map((h) => h.host);
      const isLast = phase === phases.at(-1);
      // As Ansible does: a host that did not answer leaves the run, the others go on (a dead Pi must not stop the
      // deploy of the rest), and the exit code still says so. Not without a swarm manager to act through.
      const lead = leader(session.inventory).name;
      if (phaseCode === EXIT.unreachable && !summary.recap.some((h) => h.failed > 0) && !gone.includes(lead) && !isLast) {
        session.hosts = session.hosts.filter((h) => !gone.includes(h.name));
        reporter.emit({ kind: 'message', level: 'warning', text: `${gone.join(', ')} did not answer in ${phase.name}: the later phases go on without ${gone.length > 1 ? 'them' : 'it'}` });
        worst = EXIT.unreachable;
        continue;
      }
      if (phaseCode !== EXIT.ok) {
        if (phases.length > 1 && !isLast) reporter.emit({ kind: 'message', level: 'error', text: `phase ${phase.name} did not succeed: later phases were not run` });
        return phaseCode;
      }
    }
    return worst;
  };
  const inGithubJob = task.githubDeployment && !common.check && process.env.GITHUB_ACTIONS === 'true';
  return inGithubJob ? asGithubDeployment(inventoryFile, runPhases, state.summaries, reporter) : runPhases();
}

/** The same reporter, remembering which hosts were changed (for the Ctrl-C message). */
function trackChanges(reporter: Reporter, changed: Set<string>): Reporter {
  return {
    emit(e) {
      if (e.kind === 'step-result' && e.result.status === 'changed') changed.add(e.result.host);
      reporter.emit(e);
    },
    finish: (s) => reporter.finish(s),
  };
}

/** In a GitHub job, the deploy is recorded as a Deployment of the environment "fridge" with the dashboard's address. */
async function asGithubDeployment(inventoryFile: string, work: () => Promise<number>, summaries: RunSummary[], reporter: Reporter): Promise<number> {
  const { trackDeployment } = await import('../github/deployment.ts');
  return trackDeployment(
    `deploy ${path.basename(inventoryFile)}`,
    work,
    (code) => {
      const url = summaries.map((s) => s.result?.dashboardUrl).find((u) => u !== undefined);
      return {
        outcome: code === EXIT.ok ? 'success' : 'failure',
        description: code === EXIT.ok ? 'Flink is running' : `deploy failed (exit ${code})`,
        ...(url ? { environmentUrl: url } : {}),
      };
    },
    (msg) => reporter.emit({ kind: 'message', level: 'warning', text: msg }),
  );
}
