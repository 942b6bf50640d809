// The one entry every tasks/<name>.mjs calls: options → inventory → phases → reporters → exit code.
import fs from 'node:fs';
import path from 'node:path';
import { exitCodeFor } from '../engine/recap.ts';
import { Run, type Session } from '../engine/runner.ts';
import { EXIT, type RunSummary } from '../engine/types.ts';
import type { PhaseOption } from '../engine/phase.ts';
import { loadInventory } from '../inventory/load.ts';
import { selectHosts } from '../inventory/select.ts';
import { formatProblem } from '../inventory/types.ts';
import { SIM_INVENTORY_FILE } from '../paths.ts';
import { ConsoleReporter } from '../report/console.ts';
import { JsonReporter } from '../report/json.ts';
import type { Reporter } from '../report/types.ts';
import { mask } from '../secrets.ts';
import { TransportPool } from '../transport/open.ts';
import { offLinkAddresses } from '../transport/route-guard.ts';
import { helpText, parseOptions } from './options.ts';
import { choosePhases, loadPhase, TASKS } from './tasks.ts';

const MULTI_PHASE_OPTIONS: Record<string, PhaseOption> = {
  phases: { type: 'string', placeholder: 'A,B', description: 'run only these phases (in the task\'s order)' },
  skip: { type: 'string', placeholder: 'A,B', description: 'skip these phases' },
};

function strArg(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function stderr(line: string): void {
  process.stderr.write(`${mask(line)}\n`);
}

async function makeReporter(json: boolean, diff: boolean): Promise<Reporter> {
  if (json) return new JsonReporter();
  if (process.env.GITHUB_ACTIONS === 'true') {
    const { githubReporter } = await import('../report/github.ts');
    return githubReporter();
  }
  return new ConsoleReporter({ diff, color: process.stdout.isTTY === true && !process.env.NO_COLOR });
}

export async function main(taskName: string, argv: string[]): Promise<number> {
  const task = TASKS[taskName];
  if (!task) {
    stderr(`unknown task '${taskName}'; tasks: ${Object.keys(TASKS).join(', ')}`);
    return EXIT.badOptions;
  }
  const allPhases = await Promise.all(task.phaseNames.map(loadPhase));
  const extra: Record<string, PhaseOption> = Object.assign({}, ...allPhases.map((p) => p.options ?? {}));
  if (task.phaseNames.length > 1) Object.assign(extra, MULTI_PHASE_OPTIONS);
  const parsed = parseOptions(argv, extra);
  if (!parsed.ok) {
    stderr(`error: ${parsed.error}`);
    stderr(`Try: npx zx tasks/${taskName}.mjs --help`);
    return EXIT.badOptions;
  }
  const { common, args } = parsed;
  if (common.help) {
    process.stdout.write(`${helpText(taskName, task.description, task.phaseNames, extra)}\n`);
    return EXIT.ok;
  }
  const chosen = choosePhases(task.phaseNames, strArg(args.phases), strArg(args.skip));
  if ('error' in chosen) {
    stderr(`error: ${chosen.error}`);
    return EXIT.badOptions;
  }
  const phases = allPhases.filter((p) => chosen.phases.includes(p.name));

  let inventoryFile = common.inventory;
  if (task.prepare) {
    const prepared = await task.prepare(inventoryFile, (line) => (common.json ? stderr(line) : process.stdout.write(`${mask(line)}\n`)));
    if ('error' in prepared) {
      stderr(`error: ${prepared.error}`);
      return EXIT.error;
    }
    inventoryFile = prepared.inventory;
  }
  inventoryFile ??= fs.existsSync(SIM_INVENTORY_FILE) ? SIM_INVENTORY_FILE : undefined;
  if (!inventoryFile) {
    stderr('error: no inventory: pass -i FILE, set FRIDGE_INVENTORY, or bring up the virtual fridge with `npx zx tasks/sim.mjs up`');
    return EXIT.inventory;
  }
  const loaded = await loadInventory(inventoryFile);
  if (!loaded.ok) {
    for (const p of loaded.problems) stderr(formatProblem(p));
    const errors = loaded.problems.filter((p) => p.severity === 'error').length;
    stderr(`${inventoryFile}: ${errors} error${errors === 1 ? '' : 's'}: nothing was run`);
    return EXIT.inventory;
  }
  const selected = selectHosts(loaded.inventory, common.limit);
  if ('error' in selected) {
    stderr(`error: ${selected.error}`);
    return EXIT.badOptions;
  }

  if (loaded.inventory.cluster.virtual) {
    const off = await offLinkAddresses(selected.hosts.filter((h) => h.connection === 'ssh').map((h) => h.address));
    if (off.length) {
      stderr(`error: the virtual fridge's network is not up (${off.join(', ')} would be routed off this machine): run \`npx zx tasks/sim.mjs up\` first`);
      return EXIT.error;
    }
  }
  const reporter = await makeReporter(common.json, common.diff);
  for (const w of loaded.warnings) reporter.emit({ kind: 'message', level: 'warning', text: w.message, file: w.pos.file, line: w.pos.line, col: w.pos.col });
  const session: Session = {
    inventory: loaded.inventory,
    hosts: selected.hosts,
    options: { check: common.check, diff: common.diff, forks: common.forks },
    reporter,
    pool: new TransportPool(),
    args,
    shared: new Map(),
    phases: phases.map((p) => p.name),
  };
  const summaries: RunSummary[] = [];
  const runPhases = async (): Promise<number> => {
    for (const phase of phases) {
      const run = new Run(phase.name, session);
      reporter.emit({ kind: 'phase-start', phase: phase.name, check: common.check, hosts: session.hosts.map((h) => h.name) });
      await phase.run(run);
      const summary = run.summary();
      summaries.push(summary);
      reporter.emit({ kind: 'phase-end', summary });
      const phaseCode = exitCodeFor(summary.recap);
      if (phaseCode !== EXIT.ok) {
        if (phases.length > 1) reporter.emit({ kind: 'message', level: 'error', text: `phase ${phase.name} did not succeed: later phases were not run` });
        return phaseCode;
      }
    }
    return EXIT.ok;
  };
  let code: number = EXIT.ok;
  try {
    code = task.githubDeployment && !common.check && process.env.GITHUB_ACTIONS === 'true' ? await asGithubDeployment(inventoryFile, runPhases, summaries, reporter) : await runPhases();
  } catch (err) {
    // A bug, not a host's failure: say so plainly; the stack only on request.
    const msg = err instanceof Error ? err.message : String(err);
    reporter.emit({ kind: 'message', level: 'error', text: `internal error: ${msg}` });
    if (process.env.FRIDGE_DEBUG && err instanceof Error && err.stack) stderr(err.stack);
    code = EXIT.error;
  } finally {
    await session.pool.closeAll();
  }
  await reporter.finish(summaries);
  return code;
}

/** In a GitHub job, the deploy is recorded as a Deployment of the environment "fridge" with the dashboard's address. */
async function asGithubDeployment(inventoryFile: string, work: () => Promise<number>, summaries: RunSummary[], reporter: Reporter): Promise<number> {
  const { trackDeployment } = await import('../github/deployment.ts');
  return trackDeployment(
    `deploy ${path.basename(inventoryFile)}`,
    work,
    (code) => {
      const url = summaries.map((s) => s.outputs['Flink dashboard']).find((u) => u !== undefined);
      return {
        outcome: code === EXIT.ok ? 'success' : 'failure',
        description: code === EXIT.ok ? 'Flink is running' : `deploy failed (exit ${code})`,
        ...(url ? { environmentUrl: url } : {}),
      };
    },
    (msg) => reporter.emit({ kind: 'message', level: 'warning', text: msg }),
  );
}
