// Checks each variable where it is written: known name, allowed place, no literal secret, valid value.

import { isMap, isSeq, isScalar, type ParsedNode, type YAMLMap, type YAMLSeq } from 'yaml';
import type { z } from 'zod';
import { registerSecret } from '../secrets.ts';
import { FRIDGE_VARS, KNOWN_ANSIBLE_VARS, UNSUPPORTED_VARS, VARS, secretAdvice } from './schema.ts';
import type { VarDef } from './structure.ts';
import { closest, didYouMean } from './suggest.ts';
import type { InventoryProblem, SourcePos } from './types.ts';
import type { YamlSource } from './yaml-source.ts';

export interface CheckedVars {
  /** Definitions that passed; the others are dropped so later rules do not pile up on them. */
  valid: VarDef[];
  rejected: VarDef[];
  problems: InventoryProblem[];
}

export function checkVars(defs: VarDef[]): CheckedVars {
  const problems: InventoryProblem[] = [];
  const valid: VarDef[] = [];
  const rejected: VarDef[] = [];
  for (const def of defs) {
    const { problems: found, value } = checkVar(def);
    problems.push(...found);
    if (found.some((p) => p.severity === 'error')) rejected.push(def);
    else valid.push({ ...def, value });
  }
  return { valid, rejected, problems };
}

function where(def: VarDef): string {
  return def.owner.kind === 'host' ? `host "${def.owner.name}"` : def.owner.name === 'all' ? 'all.vars' : `group "${def.owner.name}" vars`;
}

/** The problems, and the value as the schema parsed it (a quoted port becomes a number). */
function checkVar(def: VarDef): { problems: InventoryProblem[]; value: unknown } {
  const spec = VARS[def.name];
  const misplaced = checkName(def);
  if (!spec || misplaced.length > 0) return { problems: misplaced, value: def.value };
  const result = spec.schema.safeParse(def.value, { reportInput: true });
  if (result.success) return { problems: [], value: result.data };
  // It may be a secret pasted where its name belongs: keep it out of everything printed from now on.
  if (spec.sensitive && typeof def.value === 'string') registerSecret(def.value);
  return { problems: result.error.issues.flatMap((issue) => describeIssue(def.src, def, issue, spec.sensitive === true)), value: def.value };
}

/** Problems with the name and where it is written, before its value is looked at. */
function checkName(def: VarDef): InventoryProblem[] {
  const error = (pos: SourcePos, message: string): InventoryProblem => ({ pos, message, severity: 'error' });
  const { name } = def;

  const advice = secretAdvice(name);
  if (advice !== undefined) {
    // It is in a file already; at least keep it out of everything Fridge prints from now on.
    if (typeof def.value === 'string') registerSecret(def.value);
    return [error(def.keyPos, `${name}: secrets must not be written in the inventory (it ends up in git and logs); ${advice}`)];
  }

  const unsupported = UNSUPPORTED_VARS[name];
  if (unsupported !== undefined) return [error(def.keyPos, `${name}: ${unsupported}`)];

  const spec = VARS[name];
  if (!spec) {
    if (name.startsWith('fridge_')) {
      return [error(def.keyPos, `unknown Fridge setting "${name}"${didYouMean(name, FRIDGE_VARS) || `; known settings: ${FRIDGE_VARS.join(', ')}`}`)];
    }
    // Ansible has many more connection variables; only a near miss of one Fridge reads is suspicious.
    const near = name.startsWith('ansible_') ? closest(name, KNOWN_ANSIBLE_VARS) : undefined;
    if (near !== undefined && near !== name) {
      return [{ pos: def.keyPos, severity: 'warning', message: `"${name}" is not used by Fridge; did you mean "${near}"?` }];
    }
    return [];
  }

  if (spec.scope === 'cluster' && !(def.owner.kind === 'group' && def.owner.name === 'all')) {
    return [error(def.keyPos, `${name} is a cluster-wide setting: set it once in all.vars, not in ${where(def)}`)];
  }
  if (spec.scope === 'group' && def.owner.kind === 'host') {
    return [error(def.keyPos, `${name} applies to groups: set it in a group's vars, not on ${where(def)}`)];
  }
  return [];
}

function describeIssue(src: YamlSource, def: VarDef, issue: z.core.$ZodIssue, sensitive: boolean): InventoryProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const label = [def.name, ...path].map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  if (issue.code === 'unrecognized_keys') {
    const container = nodeAt(src, def.valueNode, path);
    return issue.keys.map((key) => {
      const keyNode = isMap(container) ? (container as YAMLMap<unknown, unknown>).items.find((p) => isScalar(p.key) && String(p.key.value) === key)?.key : undefined;
      const expected = expectedKeys(def.name, path);
      return {
        pos: keyNode ? src.posOf(keyNode) : def.valuePos,
        severity: 'error' as const,
        message: `${label}: unknown key "${key}"${didYouMean(key, expected) || `; expected ${expected.join(', ')}`}`,
      };
    });
  }
  if (issue.code === 'invalid_key') {
    // The record's own message is generic; the key's says what is wrong with this name.
    const parent = nodeAt(src, def.valueNode, path.slice(0, -1));
    const key = String(path[path.length - 1]);
    const keyNode = isMap(parent) ? (parent as YAMLMap<unknown, unknown>).items.find((p) => isScalar(p.key) && String(p.key.value) === key)?.key : undefined;
    return [
      {
        pos: keyNode ? src.posOf(keyNode) : def.valuePos,
        severity: 'error',
        message: `${label}: ${issue.issues.map((i) => i.message).join('; ') || issue.message}`,
      },
    ];
  }
  const node = nodeAt(src, def.valueNode, path);
  let message = issue.message;
  const input: unknown = 'input' in issue ? issue.input : undefined;
  if (!sensitive && (typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean' || input === null)) {
    message += `, got ${JSON.stringify(input)}`;
    if (issue.code === 'invalid_value' && typeof input === 'string') {
      message += didYouMean(input, issue.values.filter((v): v is string => typeof v === 'string'));
    }
  }
  return [{ pos: node ? src.posOf(node) : def.valuePos, severity: 'error', message: `${label}: ${message}` }];
}

function expectedKeys(name: string, path: readonly (string | number)[]): string[] {
  const spec = VARS[name];
  if (!spec || path.length > 0) return [];
  const shape: unknown = (spec.schema as { shape?: unknown }).shape;
  return typeof shape === 'object' && shape !== null ? Object.keys(shape) : [];
}

/** The node at a zod issue's path, or the deepest one that exists. */
function nodeAt(src: YamlSource, start: ParsedNode | null, path: readonly (string | number)[]): ParsedNode | null {
  let node = start;
  for (const seg of path) {
    let next: ParsedNode | null = null;
    if (isMap(node)) {
      const pair = (node as YAMLMap<unknown, unknown>).items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair) next = src.deref(pair.value) ?? src.deref(pair.key);
    } else if (isSeq(node) && typeof seg === 'number') {
      next = src.deref((node as YAMLSeq<unknown>).items[seg]);
    }
    if (next === null) return node;
    node = next;
  }
  return node;
}
