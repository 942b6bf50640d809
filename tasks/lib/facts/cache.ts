// One round trip per host for a whole phase: the first step that needs facts reads every part at once;
// later steps reuse them until a change is applied on that host (then the next step reads again).
// The phase owns the cache: it exists only while that phase runs, so no other phase sees stale facts.
import type { Action, HostContext, Plan, Step } from '../engine/types.ts';
import { dockerScript } from './docker.ts';
import { networkScript } from './network.ts';
import { OS_SCRIPT } from './os.ts';
import { probe, type Kv } from './probe.ts';
import { sshScript } from './ssh.ts';

export type FactPart = 'os' | 'ssh' | 'docker' | 'network';
const PARTS: readonly FactPart[] = ['os', 'ssh', 'docker', 'network'];
const CACHE_KEY = 'facts.cache';

type Cache = Map<string, Promise<Map<FactPart, Kv>>>;

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

export function openFactCache(shared: Map<string, unknown>): void {
  shared.set(CACHE_KEY, new Map() as Cache);
}

export function closeFactCache(shared: Map<string, unknown>): void {
  shared.delete(CACHE_KEY);
}

function cacheOf(ctx: HostContext): Cache | undefined {
  const c = ctx.shared.get(CACHE_KEY);
  return c instanceof Map ? (c as Cache) : undefined;
}

/** Facts of one part, from the phase's cache when there is one (all parts read as root). */
export async function factsOf(ctx: HostContext, part: FactPart): Promise<Kv> {
  const cache = cacheOf(ctx);
  if (!cache) return probe(ctx.transport, scriptFor(part, ctx), { sudo: true });
  let entry = cache.get(ctx.host.name);
  if (!entry) {
    entry = probe(ctx.transport, bundleScript(ctx), { sudo: true }).then(splitBundle);
    cache.set(ctx.host.name, entry);
    entry.catch(() => cache.delete(ctx.host.name));
  }
  return (await entry).get(part) ?? new Map();
}

const forget: Action = {
  kind: 'call',
  label: 'forget cached facts',
  fn: async (ctx) => {
    cacheOf(ctx)?.delete(ctx.host.name);
    return { ok: true };
  },
};

function withForget(plan: Plan): Plan {
  if (plan.kind !== 'change') return plan;
  return { kind: 'change', changes: plan.changes.map((c) => ({ ...c, actions: [...c.actions, forget] })) };
}

/** The step, with its applied changes invalidating the host's cached facts. */
export function cached<F>(step: Step<F>): Step<F> {
  return { name: step.name, gather: (ctx) => step.gather(ctx), plan: (f, ctx) => withForget(step.plan(f, ctx)) };
}
