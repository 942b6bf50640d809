// One round trip per host for a whole phase: the first step that needs facts reads every part at once;
// later steps reuse them until a change is applied on that host (the runner then forgets them, and the next
// step reads again). The runner owns the cache per phase (Run), so no other phase sees stale facts.
import type { HostContext } from '../engine/types.ts';
import { dockerScript } from './docker.ts';
import { networkScript } from './network.ts';
import { OS_SCRIPT } from './os.ts';
import { probe, type Kv } from './probe.ts';
import { sshScript } from './ssh.ts';
import { storageScript } from './storage.ts';

export type FactPart = 'os' | 'ssh' | 'docker' | 'network' | 'storage';
const PARTS: readonly FactPart[] = ['os', 'ssh', 'docker', 'network', 'storage'];

function scriptFor(part: FactPart, ctx: HostContext): string {
  switch (part) {
    case 'os':
      return OS_SCRIPT;
    case 'ssh':
      return sshScript(ctx.host.user);
    case 'docker':
      return dockerScript(ctx.host.user);
    case 'network':
      return networkScript(ctx.inventory.cluster.network.interface);
    case 'storage':
      return storageScript(ctx.inventory);
  }
}

/** Every part in one script, each line prefixed with its part's name. */
export function bundleScript(ctx: HostContext): string {
  return PARTS.map((p) => `{\n${scriptFor(p, ctx)}\n} | sed 's/^/${p}./'`).join('\n');
}

export function splitBundle(all: Kv): Map<FactPart, Kv> {
  const out = new Map<FactPart, Map<string, string>>(PARTS.map((p) => [p, new Map()]));
  for (const [k, v] of all) {
    const dot = k.indexOf('.');
    const part = out.get(k.slice(0, dot) as FactPart);
    if (dot > 0 && part) part.set(k.slice(dot + 1), v);
  }
  return out;
}

/** Facts of one part, from the phase's cache when there is one (all parts read as root). */
export async function factsOf(ctx: HostContext, part: FactPart): Promise<Kv> {
  const cache = ctx.factCache;
  if (!cache) return probe(ctx.transport, scriptFor(part, ctx), { sudo: true });
  let entry = cache.get(ctx.host.name);
  if (!entry) {
    const read: Promise<ReadonlyMap<string, Kv>> = probe(ctx.transport, bundleScript(ctx), { sudo: true }).then(splitBundle);
    entry = read;
    cache.set(ctx.host.name, read);
    read.catch(() => {
      if (cache.get(ctx.host.name) === read) cache.delete(ctx.host.name);
    });
  }
  return (await entry).get(part) ?? new Map();
}
