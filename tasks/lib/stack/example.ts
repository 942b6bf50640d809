// stacks/docker-stack.example.yaml: the generator's output for inventory/fridge.yaml, committed so a
// reader sees what Fridge deploys. A unit test keeps it current; regenerate with
//   npx tsx tasks/lib/stack/example.ts

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadInventory, formatProblems } from '../inventory/load.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { generateStack } from './generate.ts';
import type { GeneratedStack } from './types.ts';

export const EXAMPLE_INVENTORY = path.join(PROJECT_ROOT, 'inventory', 'fridge.yaml');
export const EXAMPLE_STACK = path.join(PROJECT_ROOT, 'stacks', 'docker-stack.example.yaml');

export async function renderExample(): Promise<GeneratedStack> {
  const loaded = await loadInventory(EXAMPLE_INVENTORY);
  if (!loaded.ok) throw new Error(`bug: the example inventory does not load:\n${formatProblems(loaded.problems)}`);
  const inv = loaded.inventory;
  const r = inv.cluster.registry;
  // The reference stack-deploy uses when image-build has not recorded a digest yet.
  return generateStack(inv, { imageRef: `${r.pullHost}/${r.repository}:${inv.cluster.flink.version}` });
}

export function writeExample(stack: GeneratedStack): string[] {
  const dir = path.dirname(EXAMPLE_STACK);
  const written = [EXAMPLE_STACK];
  writeFileSync(EXAMPLE_STACK, stack.yaml);
  for (const [file, content] of Object.entries(stack.files)) {
    const target = path.join(dir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    written.push(target);
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stack = await renderExample();
  for (const p of stack.problems) console.error(`${p.severity}: ${p.subject}: ${p.message}`);
  for (const f of writeExample(stack)) console.log(`wrote ${path.relative(PROJECT_ROOT, f)}`);
}
