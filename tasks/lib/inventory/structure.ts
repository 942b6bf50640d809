// Reads Ansible's YAML inventory shape (groups with hosts, vars and children) into plain records
// that keep the node of every key and value, before any variable is interpreted.

import { isMap, isScalar, isSeq, type Pair, type ParsedNode, type YAMLMap, type YAMLSeq } from 'yaml';
import { didYouMean } from './suggest.ts';
import type { InventoryProblem, SourcePos } from './types.ts';
import type { YamlSource } from './yaml-source.ts';

export type VarOwner = { kind: 'group'; name: string } | { kind: 'host'; name: string };

export interface VarDef {
  name: string;
  value: unknown;
  owner: VarOwner;
  keyPos: SourcePos;
  valuePos: SourcePos;
  /** The value's node, to locate problems inside lists and mappings. */
  valueNode: ParsedNode | null;
  /** The file it is written in: the inventory, or one of its group_vars/host_vars files. */
  src: YamlSource;
}

export interface GroupDef {
  name: string;
  /** Where the group is first written. */
  pos: SourcePos;
  vars: VarDef[];
  /** Hosts listed directly under this group, in order of appearance. */
  hosts: Array<{ name: string; pos: SourcePos }>;
  children: Array<{ name: string; pos: SourcePos }>;
}

export interface HostDef {
  name: string;
  /** First appearance: it fixes the host's place in the inventory order. */
  pos: SourcePos;
  /** Host variables from every place the host is written, in order. */
  vars: VarDef[];
  /** Places where the host is written with variables of its own. */
  definedAt: SourcePos[];
}

export interface RawInventory {
  groups: Map<string, GroupDef>;
  hosts: Map<string, HostDef>;
  /** Host names in order of first appearance. */
  hostOrder: string[];
  /** Position of the document's start, for problems about something missing. */
  rootPos: SourcePos;
  /** Variables from group_vars/<group> and host_vars/<host> next to the inventory, in file order. */
  fileGroupVars: Map<string, VarDef[]>;
  fileHostVars: Map<string, VarDef[]>;
}

const GROUP_KEYS = ['hosts', 'vars', 'children'] as const;

function isMergeKey(pair: Pair): boolean {
  return isScalar(pair.key) && typeof pair.key.value === 'symbol' && pair.key.value.description === '<<';
}

interface Readers {
  keyName(pair: Pair): string | undefined;
  readVars(node: ParsedNode | null, owner: VarOwner, into: VarDef[], where: string): void;
}

function readers(src: YamlSource, problems: InventoryProblem[]): Readers {
  const error = (pos: SourcePos, message: string): void => {
    problems.push({ pos, message, severity: 'error' });
  };
  const keyName = (pair: Pair): string | undefined => {
    const k = src.deref(pair.key);
    // Names are text: the written form, so a host called `on` or `1` stays what it says.
    if (isScalar(k) && ['string', 'number', 'boolean'].includes(typeof k.value)) return k.source ?? String(k.value);
    error(src.posOf(pair.key), 'expected a plain name as key');
    return undefined;
  };

  const readVars = (node: ParsedNode | null, owner: VarOwner, into: VarDef[], where: string): void => {
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      error(src.posOf(node), `${where}: expected a mapping of variable names to values`);
      return;
    }
    // YAML merge keys (<<: *defaults) first; keys written in the mapping itself win over them.
    const defs = new Map<string, VarDef>();
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      if (!isMergeKey(pair)) continue;
      const sources = src.deref(pair.value);
      const maps = isSeq(sources) ? (sources as YAMLSeq<unknown>).items.map((i) => src.deref(i)) : [sources];
      for (const m of maps.reverse()) {
        const merged: VarDef[] = [];
        readVars(m, owner, merged, where);
        for (const d of merged) defs.set(d.name, d);
      }
    }
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      if (isMergeKey(pair)) continue;
      const name = keyName(pair);
      if (name === undefined) continue;
      defs.delete(name);
      defs.set(name, {
        name,
        value: src.valueOf(pair.value),
        owner,
        keyPos: src.posOf(pair.key),
        valuePos: pair.value ? src.posOf(pair.value) : src.posOf(pair.key),
        valueNode: src.deref(pair.value),
        src,
      });
    }
    into.push(...defs.values());
  };
  return { keyName, readVars };
}

/** A group_vars/host_vars file: a mapping of variable names to values, like a vars block. */
export function readVarsFile(src: YamlSource, owner: VarOwner): { vars: VarDef[]; problems: InventoryProblem[] } {
  const problems: InventoryProblem[] = [];
  const vars: VarDef[] = [];
  const root = src.deref(src.doc.contents);
  readers(src, problems).readVars(root, owner, vars, src.file);
  return { vars, problems };
}

export function readStructure(src: YamlSource): { raw: RawInventory; problems: InventoryProblem[]; fatal: boolean } {
  const problems: InventoryProblem[] = [];
  const error = (pos: SourcePos, message: string): void => {
    problems.push({ pos, message, severity: 'error' });
  };
  const raw: RawInventory = { groups: new Map(), hosts: new Map(), hostOrder: [], rootPos: { file: src.file, line: 1, col: 1 }, fileGroupVars: new Map(), fileHostVars: new Map() };

  const group = (name: string, pos: SourcePos): GroupDef => {
    let g = raw.groups.get(name);
    if (!g) {
      g = { name, pos, vars: [], hosts: [], children: [] };
      raw.groups.set(name, g);
    }
    return g;
  };

  const { keyName, readVars } = readers(src, problems);

  const readHosts = (node: ParsedNode | null, g: GroupDef): void => {
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      error(src.posOf(node), `group "${g.name}": hosts must be a mapping of host names (each with its variables or nothing)`);
      return;
    }
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const name = keyName(pair);
      if (name === undefined) continue;
      const pos = src.posOf(pair.key);
      g.hosts.push({ name, pos });
      let h = raw.hosts.get(name);
      if (!h) {
        h = { name, pos, vars: [], definedAt: [] };
        raw.hosts.set(name, h);
        raw.hostOrder.push(name);
      }
      const value = src.deref(pair.value);
      const before = h.vars.length;
      readVars(value, { kind: 'host', name }, h.vars, `host "${name}"`);
      if (h.vars.length > before) h.definedAt.push(pos);
    }
  };

  // Ansible lets a group be written in several places (as a child of different parents); they add up.
  const readGroup = (name: string, pos: SourcePos, node: ParsedNode | null, depth = 0): void => {
    const g = group(name, pos);
    // Aliases can make the tree cyclic; no real inventory nests this deep.
    if (depth > 32) {
      error(pos, `group "${name}": groups nest more than 32 levels deep (a cycle through YAML aliases?)`);
      return;
    }
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      error(src.posOf(node), `group "${name}": expected a mapping with hosts, vars or children`);
      return;
    }
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const key = keyName(pair);
      if (key === undefined) continue;
      const value = src.deref(pair.value);
      switch (key) {
        case 'hosts':
          readHosts(value, g);
          break;
        case 'vars':
          readVars(value, { kind: 'group', name }, g.vars, `group "${name}" vars`);
          break;
        case 'children':
          if (value === null || (isScalar(value) && value.value === null)) break;
          if (!isMap(value)) {
            error(src.posOf(value), `group "${name}": children must be a mapping of group names`);
            break;
          }
          for (const child of (value as YAMLMap<unknown, unknown>).items) {
            const childName = keyName(child);
            if (childName === undefined) continue;
            const childPos = src.posOf(child.key);
            g.children.push({ name: childName, pos: childPos });
            readGroup(childName, childPos, src.deref(child.value), depth + 1);
          }
          break;
        default: {
          const hint = didYouMean(key, GROUP_KEYS);
          error(
            src.posOf(pair.key),
            `unknown key "${key}" in group "${name}": expected hosts, vars or children${hint || ' (hosts go under "hosts:", variables under "vars:")'}`,
          );
        }
      }
    }
  };

  const root = src.deref(src.doc.contents);
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
    error(raw.rootPos, 'the inventory is empty: expected "all:" with children "managers" and "workers"');
    return { raw, problems, fatal: true };
  }
  if (!isMap(root)) {
    error(src.posOf(root), 'expected a mapping at the top level, starting with "all:"');
    return { raw, problems, fatal: true };
  }
  const all = group('all', src.posOf(root));
  for (const pair of (root as YAMLMap<unknown, unknown>).items) {
    const name = keyName(pair);
    if (name === undefined) continue;
    const pos = src.posOf(pair.key);
    if (name === 'all') all.pos = pos;
    // Top-level groups other than all are all's children, as in Ansible.
    else all.children.push({ name, pos });
    readGroup(name, pos, src.deref(pair.value));
  }
  return { raw, problems, fatal: false };
}
