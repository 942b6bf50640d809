// Options every task takes (Ansible's names where Ansible has one), parsed with node:util's parseArgs.
import { parseArgs } from 'node:util';
import type { PhaseOption } from '../engine/phase.ts';

export interface CommonOptions {
  inventory: string | undefined;
  check: boolean;
  diff: boolean;
  limit: string | undefined;
  forks: number;
  json: boolean;
  help: boolean;
}

export type ParsedArgs = Record<string, string | boolean | string[] | undefined>;

export const COMMON_OPTIONS: Record<string, PhaseOption> = {
  inventory: { type: 'string', short: 'i', placeholder: 'FILE', description: 'inventory file (default: $FRIDGE_INVENTORY, else the virtual fridge\'s .fridge/sim/inventory.yaml)' },
  check: { type: 'boolean', short: 'C', description: 'dry run: report what would change, change nothing' },
  diff: { type: 'boolean', short: 'D', description: 'show the changes made (or that would be made) to files' },
  limit: { type: 'string', short: 'l', placeholder: 'PATTERN', description: 'only these hosts or groups (comma-separated, !name excludes)' },
  forks: { type: 'string', short: 'f', placeholder: 'N', description: 'hosts worked on in parallel (default: all)' },
  json: { type: 'boolean', description: 'print one machine-readable JSON result on stdout instead of the console report' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export type ParseOutcome = { ok: true; common: CommonOptions; args: ParsedArgs } | { ok: false; error: string };

export function parseOptions(argv: string[], extra: Record<string, PhaseOption>): ParseOutcome {
  const all = { ...COMMON_OPTIONS, ...extra };
  const config = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  let values: ParsedArgs;
  try {
    values = parseArgs({ args: argv, options: config, strict: true, allowPositionals: false }).values as ParsedArgs;
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message.split('\n')[0] ?? String(err) : String(err) };
  }
  const forksText = values.forks;
  let forks = Number.POSITIVE_INFINITY;
  if (typeof forksText === 'string') {
    forks = Number(forksText);
    if (!Number.isInteger(forks) || forks < 1) return { ok: false, error: `--forks must be a positive integer, got '${forksText}'` };
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    ok: true,
    common: {
      inventory: str(values.inventory) ?? (process.env.FRIDGE_INVENTORY || undefined),
      check: values.check === true,
      diff: values.diff === true,
      limit: str(values.limit),
      forks,
      json: values.json === true,
      help: values.help === true,
    },
    args: values,
  };
}

export function helpText(task: string, description: string, phases: string[], extra: Record<string, PhaseOption>): string {
  const row = (name: string, o: PhaseOption) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(30)} ${o.description}`;
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
    'Exit codes: 0 ok, 1 error, 2 a host failed, 3 a host unreachable, 4 inventory error, 5 bad options.',
  ].join('\n');
}
