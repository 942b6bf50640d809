// `discover --write FILE`: the found Pis added to an inventory file, the file otherwise left byte for byte as it
// was (comments, their alignment, order, quoting). The yaml library's Document tells where each map starts and
// ends; the new entries are spliced in as text at the end of their group, and the result is parsed again and
// compared with the old data plus the new hosts: a splice that does not mean exactly that is refused.
// (Document.toString() would keep the comments but not their alignment nor the flow maps' spacing.)
import { isIPv4 } from 'node:net';
import { Document, isMap, isPair, isScalar, isSeq, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { jsonEqual } from '../steps/common.ts';
import { byAddress, intToIp, ipToInt, type Cidr } from './cidr.ts';

export interface KnownHost {
  name: string;
  ansibleHost: string | undefined;
  staticIp: string | undefined;
}

export interface Addition {
  name: string;
  group: 'managers' | 'workers';
  ansibleHost: string;
  staticIp: string;
}

type Parsed = { ok: true; doc: Document.Parsed } | { ok: false; error: string };

function parse(text: string): Parsed {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const e = doc.errors[0];
  if (e) return { ok: false, error: `${e.message.split('\n')[0] ?? 'YAML error'} (line ${e.linePos?.[0]?.line ?? '?'})` };
  return { ok: true, doc };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

function mapAt(node: unknown, key: string): unknown {
  return isMap(node) ? node.get(key, true) : undefined;
}

/** Every host named in the file (all.hosts and the groups under all.children, at any depth), in file order. */
export function knownHosts(text: string): { ok: true; hosts: KnownHost[]; flowEntries: boolean; managers: number } | { ok: false; error: string } {
  const p = parse(text);
  if (!p.ok) return p;
  const hosts: KnownHost[] = [];
  let flow = 0;
  let block = 0;
  let managers = 0;
  const walkGroup = (group: unknown, name: string): void => {
    const hs = mapAt(group, 'hosts');
    if (isMap(hs)) {
      for (const pair of hs.items) {
        const hostName = isScalar(pair.key) ? str(pair.key.value) : undefined;
        if (!hostName) continue;
        const v = pair.value;
        if (isMap(v)) {
          if (v.flow) flow++;
          else block++;
        }
        const vars = isMap(v) ? (v.toJSON() as Record<string, unknown>) : {};
        if (name === 'managers') managers++;
        if (!hosts.some((h) => h.name === hostName)) hosts.push({ name: hostName, ansibleHost: str(vars.ansible_host), staticIp: str(vars.fridge_static_ip) });
      }
    }
    const children = mapAt(group, 'children');
    if (isMap(children)) for (const pair of children.items) if (isScalar(pair.key)) walkGroup(pair.value, str(pair.key.value) ?? '');
  };
  walkGroup(mapAt(p.doc.contents, 'all'), 'all');
  return { ok: true, hosts, flowEntries: flow >= block, managers };
}

/** `192.168.0.101-120` or `192.168.0.101-192.168.0.120`. */
export function parseStaticRange(text: string): { ok: true; first: number; last: number } | { ok: false; error: string } {
  const bad = { ok: false as const, error: `--static-range must be FIRST-LAST such as 192.168.0.101-120 or 192.168.0.101-192.168.0.120, got '${text}'` };
  const m = /^(\d+\.\d+\.\d+\.\d+)-(\d+(?:\.\d+\.\d+\.\d+)?)$/.exec(text.trim());
  if (!m?.[1] || !m[2] || !isIPv4(m[1])) return bad;
  const lastText = m[2].includes('.') ? m[2] : `${m[1].split('.').slice(0, 3).join('.')}.${m[2]}`;
  if (!isIPv4(lastText)) return bad;
  const first = ipToInt(m[1]);
  const last = ipToInt(lastText);
  if (last < first) return { ok: false, error: `--static-range ${text}: the last address comes before the first` };
  if (last - first >= 4096) return { ok: false, error: `--static-range ${text}: more than 4096 addresses` };
  return { ok: true, first, last };
}

/** The next names after the inventory's own: worker05 → worker06, pi3 → pi4; none yet → pi1. */
export function nextNames(existing: readonly string[], count: number): string[] {
  const numbered = existing.map((n) => /^(.*?)(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null);
  // The prefix most hosts share (the last one's on a tie) names the new ones.
  const tally = new Map<string, number>();
  for (const m of numbered) tally.set(m[1] ?? '', (tally.get(m[1] ?? '') ?? 0) + 1);
  const prefix = numbered.length ? [...tally.entries()].reduce((a, b) => (b[1] >= a[1] ? b : a))[0] : 'pi';
  const same = numbered.filter((m) => m[1] === prefix);
  const width = same.some((m) => (m[2] ?? '').startsWith('0')) ? Math.max(...same.map((m) => (m[2] ?? '').length)) : 1;
  let n = same.reduce((max, m) => Math.max(max, Number(m[2])), 0);
  const taken = new Set(existing);
  const names: string[] = [];
  while (names.length < count) {
    const name = `${prefix}${String(++n).padStart(width, '0')}`;
    if (!taken.has(name)) names.push(name);
  }
  return names;
}

export interface ProposeInput {
  /** The Pis to add, by their found address. */
  found: readonly string[];
  known: readonly KnownHost[];
  /** --static-range; absent: continue after the highest fridge_static_ip of the file, within `network`. */
  range: { first: number; last: number } | undefined;
  /** The LAN (router/prefix of the inventory, else the probed block): proposals stay inside it. */
  network: Cidr;
  /** Addresses never proposed: in use on the LAN, this machine's, the router. */
  taken: ReadonlySet<string>;
  /** The file has no manager yet: the first Pi added becomes one. */
  needsManager: boolean;
}

/** Names, groups and static addresses for the found Pis (pure). */
export function proposeAdditions(input: ProposeInput): { ok: true; additions: Addition[] } | { ok: false; error: string } {
  const found = [...input.found].sort(byAddress);
  if (found.length === 0) return { ok: true, additions: [] };
  const statics = input.known.flatMap((h) => (h.staticIp && isIPv4(h.staticIp) ? [ipToInt(h.staticIp)] : []));
  const size = 2 ** (32 - input.network.prefix);
  const netFirst = input.network.network + (input.network.prefix >= 31 ? 0 : 1);
  const netLast = input.network.network + size - (input.network.prefix >= 31 ? 1 : 2);
  let range = input.range;
  if (!range) {
    if (statics.length === 0) return { ok: false, error: `no fridge_static_ip in the inventory to continue from: give --static-range FIRST-LAST (addresses outside your router's DHCP pool) for the ${found.length} Pi(s) found` };
    range = { first: Math.max(...statics) + 1, last: netLast };
  }
  const used = new Set<number>([...statics, ...input.known.flatMap((h) => (h.ansibleHost && isIPv4(h.ansibleHost) ? [ipToInt(h.ansibleHost)] : [])), ...[...input.taken].filter((a) => isIPv4(a)).map(ipToInt)]);
  for (const a of found) used.add(ipToInt(a));
  const free: number[] = [];
  for (let n = Math.max(range.first, netFirst); n <= Math.min(range.last, netLast) && free.length < found.length; n++) if (!used.has(n)) free.push(n);
  if (free.length < found.length) {
    const where = input.range ? `--static-range ${intToIp(range.first)}-${intToIp(range.last)}` : `the addresses after ${intToIp(range.first - 1)}`;
    return { ok: false, error: `${where} has ${free.length} free address(es) in ${intToIp(input.network.network)}/${input.network.prefix} for ${found.length} Pi(s): give a larger --static-range` };
  }
  const names = nextNames(input.known.map((h) => h.name), found.length);
  return {
    ok: true,
    additions: found.map((address, i) => ({
      name: names[i] ?? '',
      group: input.needsManager && i === 0 ? 'managers' : 'workers',
      ansibleHost: address,
      staticIp: intToIp(free[i] ?? 0),
    })),
  };
}

// ---- splicing ----------------------------------------------------------------------------------------------

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** Offset just after the end of the line holding `offset - 1` (the newline included). */
function afterLine(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl + 1;
}

function render(value: Record<string, unknown>, column: number, indent: number, flowLeaves: boolean, leafDepth: number): string {
  const doc = new Document(value);
  // The hosts' own variables on one line each, as inventory/fridge.yaml writes them.
  const mark = (node: unknown, depth: number): void => {
    if (!isMap(node)) return;
    if (depth === leafDepth) node.flow = flowLeaves;
    else for (const p of node.items) mark(p.value, depth + 1);
  };
  mark(doc.contents, 0);
  const out = doc.toString({ indent, lineWidth: 0, flowCollectionPadding: false });
  return out
    .split('\n')
    .map((l) => (l === '' ? l : ' '.repeat(column) + l))
    .join('\n');
}

/** Appends `entries` (host name → vars) to the map at `path`, creating the maps of the path that are missing. */
function spliceEntries(text: string, path: string[], entries: Record<string, Record<string, string>>, flowLeaves: boolean): { ok: true; text: string } | { ok: false; error: string } {
  const p = parse(text);
  if (!p.ok) return p;
  let node: unknown = p.doc.contents;
  let parentPair: Pair | undefined;
  let depth = 0;
  let indent = 2;
  for (; depth < path.length; depth++) {
    if (!isMap(node)) break;
    const key = path[depth];
    const pair = (node as YAMLMap).items.find((it) => isScalar(it.key) && it.key.value === key);
    if (!pair || !isPair(pair)) break;
    const child = pair.value;
    const keyNode = pair.key as Node;
    if (isMap(child) && !child.flow && child.items.length && keyNode.range && (child.items[0]?.key as Node | undefined)?.range) {
      indent = Math.max(1, columnOf(text, (child.items[0]?.key as Node).range?.[0] ?? 0) - columnOf(text, keyNode.range[0]));
    }
    parentPair = pair;
    node = child;
  }
  const rest = path.slice(depth);
  const value: Record<string, unknown> = rest.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), entries);
  const leafDepth = rest.length + 1;
  const where = path.slice(0, depth).join('.') || 'the document';
  if (isMap(node) && !node.flow && node.items.length > 0) {
    const first = node.items[0]?.key as Node | undefined;
    const last = node.items[node.items.length - 1];
    const end = (last?.value as Node | null | undefined)?.range?.[1] ?? (last?.key as Node | undefined)?.range?.[1];
    if (!first?.range || end === undefined) return { ok: false, error: `${where}: cannot tell where its entries end` };
    const at = afterLine(text, end);
    const before = text.slice(0, at) + (at === text.length && !text.endsWith('\n') ? '\n' : '');
    return { ok: true, text: before + render(value, columnOf(text, first.range[0]), indent, flowLeaves, leafDepth) + text.slice(at) };
  }
  const empty = node === null || node === undefined || (isScalar(node) && (node.value === null || node.value === undefined)) || (isMap(node) && node.items.length === 0);
  if (!empty) {
    const what = isMap(node) ? 'a flow map ({...})' : isSeq(node) ? 'a list' : 'a value';
    return { ok: false, error: `${where} is ${what}: write it as a block map so that discover can add to it` };
  }
  if (!parentPair) {
    // An empty document: the whole path is new.
    return { ok: true, text: `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${render(value, 0, indent, flowLeaves, leafDepth)}` };
  }
  const keyNode = parentPair.key as Node;
  if (!keyNode.range) return { ok: false, error: `${where}: no position` };
  const column = columnOf(text, keyNode.range[0]) + indent;
  let cut = afterLine(text, keyNode.range[1]);
  let head = text.slice(0, cut);
  const valueRange = (node as Node | null)?.range;
  if (isMap(node) && valueRange) {
    // `hosts: {}` becomes `hosts:` followed by the block; whatever followed `{}` on the line (a comment) stays.
    let start = valueRange[0];
    while (start > 0 && text[start - 1] === ' ') start--;
    head = text.slice(0, start) + text.slice(valueRange[1], afterLine(text, valueRange[1]));
    cut = afterLine(text, valueRange[1]);
  }
  if (!head.endsWith('\n')) head += '\n';
  return { ok: true, text: head + render(value, column, indent, flowLeaves, leafDepth) + text.slice(cut) };
}

/** What the Document API would hold after setIn: plain data, maps made where missing or null. */
function setPath(root: unknown, path: string[], value: unknown): void {
  let node = root as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || next === undefined || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** The file with the additions, everything else unchanged; refused when the result would not mean exactly that. */
export function addHosts(text: string, additions: readonly Addition[], flowLeaves: boolean): { ok: true; text: string } | { ok: false; error: string } {
  const before = parse(text);
  if (!before.ok) return before;
  let out = text;
  const expected: unknown = before.doc.toJS() ?? {};
  for (const group of ['managers', 'workers'] as const) {
    const mine = additions.filter((a) => a.group === group);
    if (mine.length === 0) continue;
    const entries = Object.fromEntries(mine.map((a) => [a.name, { ansible_host: a.ansibleHost, fridge_static_ip: a.staticIp }]));
    const spliced = spliceEntries(out, ['all', 'children', group, 'hosts'], entries, flowLeaves);
    if (!spliced.ok) return spliced;
    out = spliced.text;
    for (const [name, vars] of Object.entries(entries)) setPath(expected, ['all', 'children', group, 'hosts', name], vars);
  }
  const after = parse(out);
  if (!after.ok) return { ok: false, error: `bug: the merged inventory does not parse: ${after.error}` };
  if (!jsonEqual(after.doc.toJS(), expected)) return { ok: false, error: 'bug: the merged inventory does not hold exactly the old one plus the new hosts' };
  return { ok: true, text: out };
}

