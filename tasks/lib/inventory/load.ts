// Loads an inventory: YAML with positions → structure → each variable checked where written →
// Ansible precedence and defaults → rules. Every problem is collected; none stops the others.

import { readFile } from 'node:fs/promises';
import { normalise } from './normalise.ts';
import { applyRules } from './rules.ts';
import { readStructure, type VarDef } from './structure.ts';
import { formatProblem, type InventoryProblem, type LoadResult } from './types.ts';
import { checkVars } from './validate-vars.ts';
import { parseYaml } from './yaml-source.ts';

export { selectHosts } from './select.ts';

export async function loadInventory(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return { ok: false, problems: [{ pos: { file, line: 1, col: 1 }, severity: 'error', message: `cannot read the inventory: ${reason}` }] };
  }
  return parseInventory(file, text);
}

/** The same from text already read (tests, the virtual fridge checking what it is about to write). */
export function parseInventory(file: string, text: string): LoadResult {
  const parsed = parseYaml(file, text);
  const problems: InventoryProblem[] = [...parsed.problems];
  if (parsed.usable) {
    const { raw, problems: shape, fatal } = readStructure(parsed.source);
    problems.push(...shape);
    if (fatal) return { ok: false, problems: dedupe(problems) };
    const rejected: VarDef[] = [];
    for (const g of raw.groups.values()) {
      const checked = checkVars(parsed.source, g.vars);
      problems.push(...checked.problems);
      rejected.push(...checked.rejected);
      g.vars = checked.valid;
    }
    for (const h of raw.hosts.values()) {
      const checked = checkVars(parsed.source, h.vars);
      problems.push(...checked.problems);
      rejected.push(...checked.rejected);
      h.vars = checked.valid;
    }
    const normalised = normalise(file, raw);
    problems.push(...normalised.problems);
    problems.push(...applyRules({ ...normalised, raw, src: parsed.source, rejected }));
    const unique = dedupe(problems);
    const errors = unique.filter((p) => p.severity === 'error');
    if (errors.length === 0) return { ok: true, inventory: normalised.inventory, warnings: unique };
    return { ok: false, problems: unique };
  }
  return { ok: false, problems: dedupe(problems) };
}

/** One line per problem, in file order: `file:line:col: error: message`. */
export function formatProblems(problems: readonly InventoryProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

function dedupe(problems: InventoryProblem[]): InventoryProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = formatProblem(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}
