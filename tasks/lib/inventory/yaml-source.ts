// YAML parsing that keeps every node's position, so each problem can point at file:line:col.

import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, type Document, type Node, type ParsedNode } from 'yaml';
import type { InventoryProblem, SourcePos } from './types.ts';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  /** Position of a node's first character; the file's start when the node is missing. */
  posOf(node: unknown): SourcePos;
  /** Resolves aliases (`*anchor`) to the anchored node. */
  deref(node: unknown): ParsedNode | null;
  /** The plain JavaScript value of a node. */
  valueOf(node: unknown): unknown;
}

export interface ParsedYaml {
  source: YamlSource;
  problems: InventoryProblem[];
  /** False when the document is too broken to look inside. */
  usable: boolean;
}

/** Errors after which the tree is still what the author meant; everything else stops loading. */
const RECOVERABLE = new Set(['DUPLICATE_KEY']);

export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // YAML 1.1 like Ansible's PyYAML, so `yes`/`no` are booleans as an Ansible user expects.
  const doc = parseDocument(text, { lineCounter, version: '1.1', uniqueKeys: true, merge: true, prettyErrors: false });
  const at = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const deref = (node: unknown): ParsedNode | null => {
    if (isAlias(node)) return (node.resolve(doc) as ParsedNode | undefined) ?? null;
    return isScalar(node) || isMap(node) || isSeq(node) ? (node as ParsedNode) : null;
  };
  const posOf = (node: unknown): SourcePos => {
    const range = (node as Node | null | undefined)?.range;
    return range ? at(range[0]) : { file, line: 1, col: 1 };
  };
  const valueOf = (node: unknown): unknown => {
    const n = deref(node);
    return n === null ? null : n.toJS(doc, { maxAliasCount: 100 });
  };

  const problems: InventoryProblem[] = [];
  let usable = true;
  for (const e of doc.errors) {
    if (!RECOVERABLE.has(e.code)) usable = false;
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
  return { source: { file, doc, posOf, deref, valueOf }, problems, usable };
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
  if (code === 'TAG_RESOLVE_FAILED' && message.includes('!vault')) {
    return 'Ansible Vault values are not supported: keep secrets out of the inventory and name an environment variable in a *_env setting';
  }
  // yaml's messages end with a source excerpt after the first line; the position already says where.
  const first = message.split('\n')[0] ?? message;
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}
