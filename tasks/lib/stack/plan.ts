// The stack an inventory and an image give, decided purely: stack-deploy deploys it, scale reads its capacity.
import { formatConfigProblems, generateFlinkConfig, profileFromInventory } from '../flink/config.ts';
import type { Inventory } from '../inventory/types.ts';
import { generateStack } from './generate.ts';
import type { GeneratedStack } from './types.ts';

export type StackPlan = { ok: true; stack: GeneratedStack; warnings: string[] } | { ok: false; msg: string };

/** The stack this inventory and image give (pure), or the message saying why there is none. */
export function planStack(inv: Inventory, imageRef: string): StackPlan {
  const cfg = generateFlinkConfig(profileFromInventory(inv));
  if (!cfg.ok) return { ok: false, msg: formatConfigProblems(cfg.problems) };
  const stack = generateStack(inv, { imageRef, flinkConfig: cfg.config.text });
  const errors = stack.problems.filter((p) => p.severity === 'error');
  if (errors.length) return { ok: false, msg: errors.map((p) => `${p.subject}: ${p.message}`).join('; ') };
  return { ok: true, stack, warnings: stack.problems.filter((p) => p.severity === 'warning').map((w) => `${w.subject}: ${w.message}`) };
}
