// Ansible-like --limit: "a,b", "a:b", "!x" excludes, "&g" intersects, * and ? as wildcards.

import type { HostSpec, Inventory } from './types.ts';

function toRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Host names a single pattern names: a host, a group, or a wildcard over both. */
function match(inv: Inventory, pattern: string): Set<string> | undefined {
  if (/[*?]/.test(pattern)) {
    const re = toRegExp(pattern);
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

export function selectHosts(inv: Inventory, limit: string | undefined): { hosts: HostSpec[] } | { error: string } {
  const patterns = (limit ?? '')
    .split(/[,:]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (patterns.length === 0) return { hosts: inv.hosts };

  const include = new Set<string>();
  const intersect: Array<Set<string>> = [];
  const exclude = new Set<string>();
  const unknown: string[] = [];
  let anyInclude = false;
  for (const p of patterns) {
    const kind = p[0] === '!' ? 'exclude' : p[0] === '&' ? 'intersect' : 'include';
    const name = kind === 'include' ? p : p.slice(1);
    const hosts = match(inv, name);
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
  if (hosts.length === 0) return { error: `--limit "${limit ?? ''}" leaves no host to work on` };
  return { hosts };
}
