// Options every task takes (Ansible's names where Ansible has one), parsed with node:util's parseArgs,
// then every value checked against its option's declaration: all before the inventory is even read.
import { parseArgs } from 'node:util';
import { checkValue, describeCheck, type PhaseOption } from '../engine/phase.ts';
import { checkJar, checkLocalFile } from '../flink/jar-check.ts';

export interface CommonOptions {
  inventory: string | undefined;
  check: boolean;
  diff: boolean;
  limit: string | undefined;
  forks: number;
  json: boolean;
  help: boolean;
  version: boolean;
  /** 0, 1 (-v: commands run per host) or 2 (-vv: and their output). */
  verbose: number;
  noColor: boolean;
}

export type ParsedArgs = Record<string, string | boolean | string[] | undefined>;

export const COMMON_OPTIONS: Record<string, PhaseOption> = {
  inventory: { type: 'string', short: 'i', placeholder: 'FILE', description: 'inventory file (default: $FRIDGE_INVENTORY, else the virtual fridge\'s .fridge/sim/inventory.yaml)' },
  check: { type: 'boolean', short: 'C', description: 'dry run: report what would change, change nothing' },
  diff: { type: 'boolean', short: 'D', description: 'show the changes made (or that would be made) to files' },
  limit: { type: 'string', short: 'l', placeholder: 'PATTERN', description: 'only these hosts or groups (comma-separated, !name excludes)' },
  forks: { type: 'string', short: 'f', placeholder: 'N', description: 'hosts worked on in parallel (default: all)', check: { kind: 'int', min: 1 } },
  json: { type: 'boolean', description: 'print one machine-readable JSON document on stdout (also for errors) instead of the console report' },
  verbose: { type: 'boolean', short: 'v', multiple: true, description: '-v: print each command run on a host; -vv: and its output (secrets masked)' },
  'no-color': { type: 'boolean', description: 'no colours (also NO_COLOR=1; FORCE_COLOR=1 forces them when not on a terminal)' },
  version: { type: 'boolean', description: 'print the version (and git commit) and exit' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export type ParseOutcome = { ok: true; common: CommonOptions; args: ParsedArgs } | { ok: false; errors: string[] };

function firstLine(err: unknown): string {
  return err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
}

/** Every problem with the values given, in option order (files are looked at: they must exist). */
async function checkValues(values: ParsedArgs, all: Record<string, PhaseOption>): Promise<string[]> {
  const errors: string[] = [];
  for (const [name, option] of Object.entries(all)) {
    const v = values[name];
    if (v === undefined) {
      if (option.required) errors.push(`--${name} is required${option.check ? `: ${describeCheck(option.check)}` : ''}`);
      continue;
    }
    if (option.type !== 'string') continue;
    for (const raw of Array.isArray(v) ? v : typeof v === 'string' ? [v] : []) {
      const checked = checkValue(name, option, raw);
      if (!checked.ok) {
        errors.push(checked.error);
        continue;
      }
      if (option.check?.kind === 'file') {
        const file = option.check.jar ? await checkJar(raw) : await checkLocalFile(raw);
        if (!file.ok) errors.push(`--${name}: ${file.msg}`);
      }
    }
  }
  return errors;
}

export async function parseOptions(argv: string[], extra: Record<string, PhaseOption>): Promise<ParseOutcome> {
  const all = { ...COMMON_OPTIONS, ...extra };
  const config = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  let values: ParsedArgs;
  try {
    values = parseArgs({ args: argv, options: config, strict: true, allowPositionals: false }).values as ParsedArgs;
  } catch (err) {
    return { ok: false, errors: [firstLine(err)] };
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const common: CommonOptions = {
    inventory: str(values.inventory) ?? (process.env.FRIDGE_INVENTORY || undefined),
    check: values.check === true,
    diff: values.diff === true,
    limit: str(values.limit),
    forks: typeof values.forks === 'string' ? Number(values.forks) : Number.POSITIVE_INFINITY,
    json: values.json === true,
    help: values.help === true,
    version: values.version === true,
    verbose: Array.isArray(values.verbose) ? values.verbose.length : 0,
    noColor: values['no-color'] === true,
  };
  // --help and --version answer whatever else is wrong with the command line.
  if (common.help || common.version) return { ok: true, common, args: values };
  const errors = await checkValues(values, all);
  return errors.length ? { ok: false, errors } : { ok: true, common, args: values };
}

export function helpText(task: string, description: string, phases: string[], extra: Record<string, PhaseOption>): string {
  const row = (name: string, o: PhaseOption) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
    const accepts = o.check?.kind === 'duration' ? ` (${o.check.unit === 's' ? 'seconds' : 'milliseconds'}, or 90s, 5m, 1h, 500ms)` : '';
    return `  ${flag.padEnd(30)} ${o.description}${accepts}${o.required ? ' (required)' : ''}`;
  };
  return [
    `Usage: npx zx tasks/${task}.mjs [options]`,
    '',
    description,
    '',
    `Phases: ${phases.join(' → ')}`,
    '',
    'Options:',
    ...Object.entries(extra).map(([n, o]) => row(n, o)),
    ...Object.entries(COMMON_OPTIONS).map(([n, o]) => row(n, o)),
    '',
    'Environment: FRIDGE_INVENTORY (default inventory), NO_COLOR (no colours), FORCE_COLOR (colours even when not on a terminal;',
    '  --no-color wins), FRIDGE_DEBUG (stack traces of internal errors), GITHUB_ACTIONS=true (annotations, job summary).',
    '',
    'Exit codes: 0 ok, 1 error, 2 a host failed, 3 a host unreachable, 4 inventory error, 5 bad options, 99 interrupted (Ctrl-C).',
  ].join('\n');
}
