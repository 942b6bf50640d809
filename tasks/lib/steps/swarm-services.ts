// Swarm services on reset: every stack goes (the visualizer, when enabled, is one of the stack's services).
import type { Step } from '../engine/types.ts';
import { probe, str } from '../facts/probe.ts';
import { shq } from '../transport/types.ts';
import { change, ok, sh } from './common.ts';

export interface StacksFacts {
  manager: boolean;
  stacks: string[];
  services: string[];
}

/** Reset's first step, on the leader: every stack and Fridge's own services go. */
export const removeStacksStep: Step<StacksFacts> = {
  name: 'remove stacks',
  async gather(ctx) {
    const kv = await probe(
      ctx.transport,
      [
        `if [ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ]; then echo manager=1; else echo manager=0; fi`,
        `printf "%s\\n" "stacks=$(docker stack ls --format '{{.Name}}' 2>/dev/null | tr '\\n' ' ')"`,
        `printf "%s\\n" "services=$(docker service ls --format '{{.Name}}' 2>/dev/null | tr '\\n' ' ')"`,
      ].join('\n'),
      { sudo: true },
    );
    const list = (k: string) => str(kv, k).split(/\s+/).filter((x) => x !== '');
    return { manager: str(kv, 'manager') === '1', stacks: list('stacks'), services: list('services') };
  },
  plan(f) {
    if (!f.manager) return ok('not a swarm manager: no stacks');
    if (f.stacks.length === 0) return ok('no stacks');
    return change({ summary: `remove ${f.stacks.map((s) => `stack ${s}`).join(', ')}`, actions: [sh(`docker stack rm ${f.stacks.map(shq).join(' ')}`, { timeoutMs: 120_000 })] });
  },
};
