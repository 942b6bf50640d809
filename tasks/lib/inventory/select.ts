// Ansible-like --limit: "a,b", "a:b", "!x" excludes, "&g" intersects, * and ? as wildcards,
// "~regex" a regular expression over host and group names, "@file" the patterns in a file (a retry file).

import { readFileSync } from 'node:fs';
import type { HostSpec, Inventory } from './types.ts';

function toRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Host names a single pattern names: a host, a group, or a wildcard or regular expression over both. */
function match(inv: Inventory, pattern: string, regex: RegExp | undefined): Set<string> | undefined {
  if (regex !== undefined || /[*?]/.test(pattern)) {
    const re = regex ?? toRegExp(pattern);
    const out = new Set<string>();
    for (const h of inv.hosts) if (re.test(h.name)) out.add(h.name);
    for (const [g, members] of Object.entries(inv.groups)) if (re.test(g)) for (const m of members) out.add(m);
    return out.size > 0 ? out : undefined;
  }
  const group = inv.groups[pattern];
  if (group) return new Set(group);
  if (inv.hosts.some((h) => h.name === pattern)) return new Set([pattern]);
  return undefined;
}

/**
 * Ansible's split: on commas when there are any, else on colons (a "[…]" range stays whole), so a
 * regular expression may contain colons when the patterns are comma-separated.
 */
function splitPatterns(limit: string): string[] {
  const parts = limit.includes(',') ? limit.split(',') : splitColons(limit);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function splitColons(limit: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inBrackets = false;
  for (const ch of limit) {
    if (ch === '[') inBrackets = true;
    else if (ch === ']') inBrackets = false;
    if (ch === ':' && !inBrackets) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** `@file` entries replaced by the file's lines, as ansible-playbook --limit @site.retry does. */
function expandFiles(patterns: string[]): string[] | { error: string } {
  const out: string[] = [];
  for (const p of patterns) {
    if (!p.startsWith('@')) {
      out.push(p);
      continue;
    }
    const file = p.slice(1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
      return { error: `--limit ${p}: cannot read ${file}: ${reason}` };
    }
    const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) return { error: `--limit ${p}: ${file} names no host (expected one host or pattern per line)` };
    out.push(...lines);
  }
  return out;
}

/**
 * The hosts --limit selects. `undefined` (no --limit) is every host; an empty or blank pattern is
 * refused, since it is almost always an unset shell variable and running everywhere would be a surprise.
 */
export function selectHosts(inv: Inventory, limit: string | undefined): { hosts: HostSpec[] } | { error: string } {
  if (limit === undefined) return { hosts: inv.hosts };
  const split = splitPatterns(limit);
  if (split.length === 0) {
    return { error: `--limit ${JSON.stringify(limit)} names no host or group (an unset shell variable?): give a pattern, or leave --limit out to work on every host` };
  }
  const patterns = expandFiles(split);
  if ('error' in patterns) return patterns;

  const include = new Set<string>();
  const intersect: Array<Set<string>> = [];
  const exclude = new Set<string>();
  const unknown: string[] = [];
  let anyInclude = false;
  for (const p of patterns) {
    const kind = p[0] === '!' ? 'exclude' : p[0] === '&' ? 'intersect' : 'include';
    const name = kind === 'include' ? p : p.slice(1);
    let regex: RegExp | undefined;
    if (name.startsWith('~')) {
      // Python's re.match, as Ansible uses: anchored at the start only, case-sensitive.
      try {
        regex = new RegExp(`^(?:${name.slice(1)})`);
      } catch (e) {
        return { error: `--limit: ${p} is not a valid regular expression: ${(e as Error).message}` };
      }
    }
    const hosts = match(inv, name, regex);
    if (!hosts) {
      unknown.push(p);
      continue;
    }
    if (kind === 'include') {
      anyInclude = true;
      for (const h of hosts) include.add(h);
    } else if (kind === 'intersect') intersect.push(hosts);
    else for (const h of hosts) exclude.add(h);
  }
  if (unknown.length > 0) {
    const known = [...Object.keys(inv.groups), ...inv.hosts.map((h) => h.name)];
    return { error: `--limit: no host or group matches ${unknown.map((u) => `"${u}"`).join(', ')} (known: ${known.join(', ')})` };
  }
  // Only exclusions or intersections: start from every host, as Ansible does with "all".
  const start = anyInclude ? include : new Set(inv.hosts.map((h) => h.name));
  const hosts = inv.hosts.filter((h) => start.has(h.name) && !exclude.has(h.name) && intersect.every((s) => s.has(h.name)));
  if (hosts.length === 0) return { error: `--limit "${limit}" leaves no host to work on` };
  return { hosts };
}
