// Loads an inventory: YAML with positions → structure → each variable checked where written →
// Ansible precedence and defaults → rules. Every problem is collected; none stops the others.
// Nothing here throws: whatever goes wrong becomes a problem with a position, so the CLI exits 4.

import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readAdjacentVars, VARS_DIRS, type VarsFileText } from './adjacent-vars.ts';
import { normalise } from './normalise.ts';
import { applyRules } from './rules.ts';
import { readStructure, readVarsFile, type RawInventory, type VarDef } from './structure.ts';
import { didYouMean } from './suggest.ts';
import { formatProblem, type InventoryProblem, type LoadResult } from './types.ts';
import { checkVars } from './validate-vars.ts';
import { parseYaml, sizeProblem } from './yaml-source.ts';

export { selectHosts } from './select.ts';

export async function loadInventory(file: string): Promise<LoadResult> {
  const at1 = { file, line: 1, col: 1 };
  let text: string;
  try {
    // The size first: a runaway file is refused without being read.
    const tooBig = sizeProblem(file, (await stat(file)).size);
    if (tooBig) return { ok: false, problems: [tooBig] };
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return { ok: false, problems: [{ pos: at1, severity: 'error', message: `cannot read the inventory: ${reason}` }] };
  }
  let adjacent: Awaited<ReturnType<typeof readAdjacentVars>>;
  try {
    adjacent = await readAdjacentVars(file);
  } catch (e) {
    return { ok: false, problems: [{ pos: at1, severity: 'error', message: `cannot read group_vars/host_vars next to the inventory: ${(e as Error).message}` }] };
  }
  const result = parseInventory(file, text, adjacent.files);
  if (adjacent.problems.length === 0) return result;
  return withProblems(file, result, adjacent.problems);
}

/**
 * The same from text already read (tests, the virtual fridge checking what it is about to write), with
 * the group_vars/host_vars files next to it when there are any.
 */
export function parseInventory(file: string, text: string, varsFiles: readonly VarsFileText[] = []): LoadResult {
  try {
    return parseChecked(file, text, varsFiles);
  } catch (e) {
    // A bug or an input nothing above foresaw; the operator still gets a line, not a stack trace.
    const reason = e instanceof RangeError ? 'it nests too deeply or is too large to read' : (e as Error).message;
    return { ok: false, problems: [{ pos: { file, line: 1, col: 1 }, severity: 'error', message: `cannot read the inventory: ${reason}` }] };
  }
}

function parseChecked(file: string, text: string, varsFiles: readonly VarsFileText[]): LoadResult {
  const parsed = parseYaml(file, text);
  const problems: InventoryProblem[] = [...parsed.problems];
  if (!parsed.usable) return { ok: false, problems: dedupe(file, problems) };

  const { raw, problems: shape, fatal } = readStructure(parsed.source);
  problems.push(...shape, ...parsed.source.problems);
  if (fatal) return { ok: false, problems: dedupe(file, problems) };
  problems.push(...readVarsFiles(file, raw, varsFiles));

  const rejected: VarDef[] = [];
  const check = (defs: VarDef[]): VarDef[] => {
    const checked = checkVars(defs);
    problems.push(...checked.problems);
    rejected.push(...checked.rejected);
    return checked.valid;
  };
  for (const g of raw.groups.values()) g.vars = check(g.vars);
  for (const h of raw.hosts.values()) h.vars = check(h.vars);
  for (const [name, defs] of raw.fileGroupVars) raw.fileGroupVars.set(name, check(defs));
  for (const [name, defs] of raw.fileHostVars) raw.fileHostVars.set(name, check(defs));

  const normalised = normalise(file, raw);
  problems.push(...normalised.problems);
  problems.push(...applyRules({ ...normalised, raw, src: parsed.source, rejected }));
  const unique = dedupe(file, problems);
  const errors = unique.filter((p) => p.severity === 'error');
  if (errors.length === 0) return { ok: true, inventory: normalised.inventory, warnings: unique };
  return { ok: false, problems: unique };
}

/** group_vars/host_vars files into raw.fileGroupVars/fileHostVars; files for no known name are reported. */
function readVarsFiles(inventoryFile: string, raw: RawInventory, varsFiles: readonly VarsFileText[]): InventoryProblem[] {
  const problems: InventoryProblem[] = [];
  const hostNames = [...raw.hosts.keys()];
  const groupNames = [...raw.groups.keys()];
  for (const f of varsFiles) {
    const known = f.kind === 'group' ? raw.groups.has(f.name) : raw.hosts.has(f.name);
    if (!known) {
      const names = f.kind === 'group' ? groupNames : hostNames;
      const dir = relative(join(inventoryFile, '..'), join(f.file, '..')) || VARS_DIRS[f.kind];
      problems.push({
        pos: { file: f.file, line: 1, col: 1 },
        severity: 'warning',
        message: `not read: there is no ${f.kind} "${f.name}" in the inventory, so Ansible ignores ${dir}/ for it too${didYouMean(f.name, names)}`,
      });
      continue;
    }
    const parsed = parseYaml(f.file, f.text);
    problems.push(...parsed.problems);
    if (!parsed.usable) continue;
    const read = readVarsFile(parsed.source, { kind: f.kind, name: f.name });
    problems.push(...read.problems, ...parsed.source.problems);
    const into = f.kind === 'group' ? raw.fileGroupVars : raw.fileHostVars;
    into.set(f.name, [...(into.get(f.name) ?? []), ...read.vars]);
  }
  return problems;
}

function withProblems(file: string, result: LoadResult, extra: InventoryProblem[]): LoadResult {
  const all = dedupe(file, [...(result.ok ? result.warnings : result.problems), ...extra]);
  if (result.ok && !extra.some((p) => p.severity === 'error')) return { ...result, warnings: all };
  return { ok: false, problems: all };
}

/** One line per problem, in file order: `file:line:col: error: message`. */
export function formatProblems(problems: readonly InventoryProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

function dedupe(inventoryFile: string, problems: InventoryProblem[]): InventoryProblem[] {
  const seen = new Set<string>();
  // The inventory's own problems first, then each group_vars/host_vars file's by path, each in line order.
  const fileOrder = (a: string, b: string): number => (a === b ? 0 : a === inventoryFile ? -1 : b === inventoryFile ? 1 : a < b ? -1 : 1);
  return problems
    .filter((p) => {
      const key = formatProblem(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => fileOrder(a.pos.file, b.pos.file) || a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}
