// group_vars/ and host_vars/ next to the inventory, found the way Ansible's host_group_vars plugin finds
// them: for a group or host NAME, the first of NAME (a file, or a directory read recursively in sorted
// order), NAME.yml, NAME.yaml, NAME.json. Files Ansible would not read are reported, never skipped silently.

import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { InventoryProblem } from './types.ts';
import { sizeProblem } from './yaml-source.ts';

export type VarsDirKind = 'group' | 'host';

export interface VarsFileText {
  kind: VarsDirKind;
  /** The group or host the file is for. */
  name: string;
  /** Path as printed in messages: the inventory's directory joined with group_vars/… */
  file: string;
  text: string;
}

export interface AdjacentVars {
  files: VarsFileText[];
  problems: InventoryProblem[];
}

export const VARS_DIRS: Record<VarsDirKind, string> = { group: 'group_vars', host: 'host_vars' };
/** Ansible's order of preference for NAME: the first that exists is the only one read. */
const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

const warning = (file: string, message: string): InventoryProblem => ({ pos: { file, line: 1, col: 1 }, severity: 'warning', message });
const error = (file: string, message: string): InventoryProblem => ({ pos: { file, line: 1, col: 1 }, severity: 'error', message });

export async function readAdjacentVars(inventoryFile: string): Promise<AdjacentVars> {
  const out: AdjacentVars = { files: [], problems: [] };
  for (const kind of ['group', 'host'] as const) {
    const dir = join(dirname(inventoryFile), VARS_DIRS[kind]);
    const info = await stat(dir).catch(() => undefined);
    if (!info) continue;
    if (!info.isDirectory()) {
      out.problems.push(error(dir, `${VARS_DIRS[kind]} is not a directory: Ansible reads ${VARS_DIRS[kind]}/NAME.yml files from a directory next to the inventory`));
      continue;
    }
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !hidden(e.name)).sort((a, b) => compare(a.name, b.name));
    // NAME → the entries that could hold its variables, in Ansible's order of preference.
    const byName = new Map<string, Array<{ path: string; isDir: boolean }>>();
    for (const e of entries) {
      const path = join(dir, e.name);
      const isDir = e.isDirectory();
      const ext = extname(e.name);
      const known = EXTENSIONS.includes(ext) && (ext === '' || !isDir);
      const name = ext === '' || !known ? e.name : e.name.slice(0, -ext.length);
      if (!known) {
        out.problems.push(warning(path, `not read: Ansible and Fridge read only NAME, NAME.yml, NAME.yaml or NAME.json in ${VARS_DIRS[kind]}/`));
        continue;
      }
      byName.set(name, [...(byName.get(name) ?? []), { path, isDir }]);
    }
    for (const [name, candidates] of byName) {
      candidates.sort((a, b) => EXTENSIONS.indexOf(extname(a.path)) - EXTENSIONS.indexOf(extname(b.path)));
      const [chosen, ...ignored] = candidates;
      if (!chosen) continue;
      for (const i of ignored) {
        out.problems.push(warning(i.path, `not read: ${chosen.path} holds the variables of ${kind} "${name}" (Ansible reads only the first of NAME, NAME.yml, NAME.yaml, NAME.json)`));
      }
      const paths = chosen.isDir ? await filesUnder(chosen.path, out.problems) : [chosen.path];
      for (const path of paths) {
        const text = await readText(path, out.problems);
        if (text !== undefined) out.files.push({ kind, name, file: path, text });
      }
    }
  }
  return out;
}

/** Ansible's _get_dir_vars_files: sorted, recursive, hidden files and backups~ skipped. */
async function filesUnder(dir: string, problems: InventoryProblem[]): Promise<string[]> {
  const found: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !hidden(e.name)).sort((a, b) => compare(a.name, b.name));
  for (const e of entries) {
    const path = join(dir, e.name);
    const ext = extname(e.name);
    if (e.isDirectory() && ext === '') found.push(...(await filesUnder(path, problems)));
    else if (e.isFile() && EXTENSIONS.includes(ext)) found.push(path);
    else problems.push(warning(path, 'not read: Ansible and Fridge read only files without extension or ending in .yml, .yaml or .json here'));
  }
  return found;
}

async function readText(path: string, problems: InventoryProblem[]): Promise<string | undefined> {
  try {
    const info = await stat(path);
    const tooBig = sizeProblem(path, info.size, 'this variables file');
    if (tooBig) {
      problems.push(tooBig);
      return undefined;
    }
    return await readFile(path, 'utf8');
  } catch (e) {
    problems.push(error(path, `cannot read: ${(e as Error).message}`));
    return undefined;
  }
}

function hidden(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~');
}

// Python's sorted(): by code point, not locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
