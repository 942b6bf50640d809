// YAML parsing that keeps every node's position, so each problem can point at file:line:col.
// Also the guard against hostile or mistaken input: files too big, nested too deep, alias bombs,
// other formats (INI, Vault, several documents) are refused with a message instead of a crash.

import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type Node, type ParsedNode } from 'yaml';
import type { InventoryProblem, SourcePos } from './types.ts';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  /** Position of a node's first character; the file's start when the node is missing. */
  posOf(node: unknown): SourcePos;
  /** Resolves aliases (`*anchor`) to the anchored node. */
  deref(node: unknown): ParsedNode | null;
  /** The plain JavaScript value of a node; null (and a problem in `problems`) when it cannot be built. */
  valueOf(node: unknown): unknown;
  /** Problems found while reading values, after parsing. */
  problems: InventoryProblem[];
}

export interface ParsedYaml {
  source: YamlSource;
  problems: InventoryProblem[];
  /** False when the document is too broken to look inside. */
  usable: boolean;
}

/**
 * An inventory of a few hundred Pis is a few tens of kB; anything past this is the wrong file or a
 * generated one gone wrong, and would only make every task slow to start.
 */
export const MAX_INVENTORY_BYTES = 1024 * 1024;
/** Levels of YAML nesting: a real inventory uses about ten (all → children → group → hosts → host → vars → …). */
export const MAX_DEPTH = 64;
/** Aliases may repeat blocks of defaults, not multiply them: the document may grow this much through them. */
const MAX_ALIAS_GROWTH = 10;
const MIN_ALIAS_BUDGET = 1000;

/** Errors after which the tree is still what the author meant; everything else stops loading. */
const RECOVERABLE = new Set(['DUPLICATE_KEY']);

export function sizeProblem(file: string, bytes: number, what = 'the inventory'): InventoryProblem | undefined {
  if (bytes <= MAX_INVENTORY_BYTES) return undefined;
  return {
    pos: { file, line: 1, col: 1 },
    severity: 'error',
    message:
      `${what} is ${formatBytes(bytes)}, more than the ${formatBytes(MAX_INVENTORY_BYTES)} Fridge reads: ` +
      'an inventory of a few hundred Pis is a few tens of kB, so this is most likely not the file you meant',
  };
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MiB` : `${Math.ceil(n / 1024)} kB`;
}

export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const refused = (problem: InventoryProblem): ParsedYaml => {
    const doc = parseDocument('', { lineCounter });
    return { source: makeSource(file, doc, at, new Map()), problems: [problem], usable: false };
  };

  const tooBig = sizeProblem(file, Buffer.byteLength(text, 'utf8'));
  if (tooBig) return refused(tooBig);
  const other = otherFormat(file, text);
  if (other) return refused(other);

  // YAML 1.1 like Ansible's PyYAML, so `yes`/`no` are booleans as an Ansible user expects.
  // Duplicate keys are checked below with one set per mapping: yaml's own check is quadratic.
  const doc = withPlainEnv(() => parseDocument(text, { lineCounter, version: '1.1', uniqueKeys: false, merge: true, prettyErrors: false }));

  const problems: InventoryProblem[] = [];
  let usable = true;
  let exhausted = false;
  for (const e of doc.errors) {
    if (!RECOVERABLE.has(e.code)) usable = false;
    // Nesting deep enough to overflow yaml's stack is reported once, where it starts to matter.
    if (e.code === 'RESOURCE_EXHAUSTION' || e.message.includes('Maximum call stack size exceeded')) {
      if (!exhausted) problems.push({ pos: at(e.pos[0]), severity: 'error', message: tooDeep() });
      exhausted = true;
      continue;
    }
    const opened = e.code === 'MISSING_CHAR' ? unclosedQuote(text, e.message) : undefined;
    problems.push({
      pos: opened === undefined ? at(e.pos[0]) : at(opened),
      severity: 'error',
      message: opened === undefined ? yamlMessage(e.code, e.message) : `YAML syntax error: ${e.message.split('\n')[0] ?? ''}: the string opened here is never closed`,
    });
  }
  for (const w of doc.warnings) {
    // A vault value would be used as its ciphertext: that is an error, not a style remark.
    const vault = w.code === 'TAG_RESOLVE_FAILED' && w.message.includes('!vault');
    problems.push({ pos: at(w.pos[0]), severity: vault ? 'error' : 'warning', message: yamlMessage(w.code, w.message) });
  }

  const aliases = new Map<Alias, ParsedNode>();
  if (!exhausted) {
    const walked = walkTree(doc, aliases);
    for (const p of walked.problems) problems.push({ pos: at(p.offset), severity: 'error', message: p.message });
    if (walked.fatal) usable = false;
  }
  return { source: makeSource(file, doc, at, aliases), problems, usable };
}

/**
 * yaml's parser reads process.env.LOG_TOKENS once per token, and Node's env object is slow to read
 * (a third of the parse of a large file). A plain copy stands in while the synchronous parse runs.
 */
function withPlainEnv<T>(parse: () => T): T {
  const env = process.env;
  process.env = { ...env };
  try {
    return parse();
  } finally {
    process.env = env;
  }
}

function makeSource(file: string, doc: Document.Parsed, at: (offset: number) => SourcePos, aliases: Map<Alias, ParsedNode>): YamlSource {
  const problems: InventoryProblem[] = [];
  const deref = (node: unknown): ParsedNode | null => {
    // Through the map built while walking: yaml's own resolve() scans the whole document each time.
    if (isAlias(node)) return aliases.get(node) ?? null;
    return isScalar(node) || isMap(node) || isSeq(node) ? (node as ParsedNode) : null;
  };
  const posOf = (node: unknown): SourcePos => {
    const range = (node as Node | null | undefined)?.range;
    return range ? at(range[0]) : { file, line: 1, col: 1 };
  };
  const valueOf = (node: unknown): unknown => {
    const n = deref(node);
    if (n === null) return null;
    if (isScalar(n)) return n.value;
    try {
      return n.toJS(doc, { maxAliasCount: 100 });
    } catch (e) {
      // yaml refuses alias bombs (and would overflow on cycles) by throwing: a problem, not a crash.
      const alias = firstAlias(n);
      problems.push({ pos: posOf(alias ?? n), severity: 'error', message: aliasMessage((e as Error).message) });
      return null;
    }
  };
  return { file, doc, posOf, deref, valueOf, problems };
}

function aliasMessage(reason: string): string {
  return `YAML aliases here expand too much (${reason.replace(/ indicates.*/, '')}): an alias may repeat a block of defaults, not multiply them (a "billion laughs" alias bomb?)`;
}

function tooDeep(): string {
  return `the YAML nests more than ${MAX_DEPTH} levels deep here: an inventory needs about ten (all → children → group → hosts → host → variables)`;
}

/** The first alias inside a node, in document order, to point a problem at it. */
function firstAlias(node: ParsedNode): Alias | undefined {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (isAlias(n)) return n;
    for (const c of children(n).reverse()) stack.push(c);
  }
  return undefined;
}

function children(n: unknown): unknown[] {
  if (isMap(n) || isSeq(n)) return (n.items as unknown[]).flatMap((i) => (isPair(i) ? [i.key, i.value] : [i]));
  return [];
}

interface WalkProblem {
  offset: number;
  message: string;
}

/**
 * One pass over the tree, iterative so no input can overflow the stack: duplicate keys (a set per
 * mapping), nesting depth, and how far aliases expand the document (each alias counts as the size of
 * what it stands for, so nested aliases multiply as they would in memory).
 */
function walkTree(doc: Document.Parsed, aliases: Map<Alias, ParsedNode>): { problems: WalkProblem[]; fatal: boolean } {
  const problems: WalkProblem[] = [];
  const offsetOf = (n: unknown): number => (n as Node | null | undefined)?.range?.[0] ?? 0;
  const anchors = new Map<string, ParsedNode>();
  const size = new Map<unknown, number>();
  const open = new Set<unknown>();
  let written = 0;
  let expanded = 0;
  const aliasList: Array<{ alias: Alias; target: ParsedNode }> = [];

  type Frame = { node: unknown; depth: number; exit: boolean };
  const stack: Frame[] = [{ node: doc.contents, depth: 1, exit: false }];
  while (stack.length > 0) {
    const { node, depth, exit } = stack.pop() as Frame;
    if (exit) {
      let s = 1;
      for (const c of children(node)) s += size.get(c) ?? 0;
      size.set(node, s);
      open.delete(node);
      continue;
    }
    if (node === null || node === undefined) continue;
    if (isAlias(node)) {
      // The last anchor of that name before the alias, as YAML defines it; yaml already reported a missing one.
      const target = anchors.get(node.source);
      if (target === undefined) continue;
      aliases.set(node, target);
      if (open.has(target)) {
        problems.push({ offset: offsetOf(node), message: `alias *${node.source} refers to a node that contains it: the value would be infinite` });
        return { problems, fatal: true };
      }
      const s = size.get(target) ?? 1;
      size.set(node, s);
      expanded += s;
      aliasList.push({ alias: node, target });
      continue;
    }
    written++;
    const n = node as ParsedNode;
    if (n.anchor) anchors.set(n.anchor, n);
    if (depth > MAX_DEPTH) {
      problems.push({ offset: offsetOf(n), message: tooDeep() });
      return { problems, fatal: true };
    }
    if (isMap(n)) {
      const seen = new Set<unknown>();
      for (const pair of n.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) problems.push({ offset: offsetOf(pair.key), message: yamlMessage('DUPLICATE_KEY', '') });
        else seen.add(pair.key.value);
      }
    }
    if (isMap(n) || isSeq(n)) {
      open.add(n);
      stack.push({ node: n, depth, exit: true });
      const cs = children(n);
      for (let i = cs.length - 1; i >= 0; i--) stack.push({ node: cs[i], depth: depth + 1, exit: false });
    } else size.set(n, 1);
  }

  const budget = Math.max(MIN_ALIAS_BUDGET, MAX_ALIAS_GROWTH * written);
  if (expanded > budget) {
    // Point at the alias that stands for the most: the top of the bomb.
    const worst = aliasList.reduce((a, b) => ((size.get(b.alias) ?? 0) > (size.get(a.alias) ?? 0) ? b : a));
    problems.push({
      offset: offsetOf(worst.alias),
      message:
        `YAML aliases expand this ${written}-value file to ${expanded} values (*${worst.alias.source} alone stands for ${size.get(worst.alias) ?? 0}): ` +
        'an alias may repeat a block of defaults, not multiply them (a "billion laughs" alias bomb?)',
    });
    return { problems, fatal: true };
  }
  return { problems, fatal: false };
}

/** Ansible's other inventory formats, and Vault-encrypted files, recognised before YAML misreads them. */
function otherFormat(file: string, text: string): InventoryProblem | undefined {
  const pos = (line: number): SourcePos => ({ file, line, col: 1 });
  if (text.startsWith('$ANSIBLE_VAULT;')) {
    return { pos: pos(1), severity: 'error', message: 'this file is encrypted with Ansible Vault, which Fridge does not support: keep secrets out of the inventory and name environment variables in *_env settings' };
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line === '---') continue;
    // `[managers]`, `[all:vars]`, or `pi1 ansible_host=…`: never the start of a YAML inventory.
    const ini = /^\[[\w.-]+(:\w+)?\]$/.test(line) || /^[^\s:#=[{]+(\s+[A-Za-z_][\w]*=\S*)+$/.test(line);
    if (!ini) return undefined;
    return {
      pos: pos(i + 1),
      severity: 'error',
      message: `this looks like an INI inventory ("${line.slice(0, 40)}"): INI inventories are not supported: convert with \`ansible-inventory -i FILE --list -y\``,
    };
  }
  return undefined;
}

/**
 * yaml notices a missing closing quote only at the end of the file; point at the quote that opened
 * the string instead: the first line with an odd number of that quote character.
 */
function unclosedQuote(text: string, message: string): number | undefined {
  const quote = message.includes('"quote') ? '"' : message.includes("'quote") ? "'" : undefined;
  if (quote === undefined) return undefined;
  let offset = 0;
  for (const line of text.split('\n')) {
    const content = line.replace(/\\./g, '__');
    const count = content.split(quote).length - 1;
    if (count % 2 === 1) return offset + content.lastIndexOf(quote);
    offset += line.length + 1;
  }
  return undefined;
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'duplicate key: this name is already used in the same mapping (a host or variable written twice?)';
  if (code === 'MULTIPLE_DOCS') {
    return 'a second YAML document starts here (after "---"): an inventory is one document; merge the two or keep one';
  }
  if (code === 'TAG_RESOLVE_FAILED' && message.includes('!vault')) {
    return 'Ansible Vault values are not supported: keep secrets out of the inventory and name an environment variable in a *_env setting';
  }
  // yaml's messages end with a source excerpt after the first line; the position already says where.
  const first = message.split('\n')[0] ?? message;
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}
