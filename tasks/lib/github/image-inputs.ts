// What the image workflow builds, from the same places the image-build task takes it: the inventory
// (repository, Flink version, platforms, state dir) and the build context image-build writes (docker/'s files
// plus the generated default configuration). Prints NAME=value lines for $GITHUB_OUTPUT:
//   npx tsx tasks/lib/github/image-inputs.ts inventory/fridge.yaml --context "$RUNNER_TEMP/image-context" >> "$GITHUB_OUTPUT"
// Without --context only the inventory is read.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeContext } from '../image/context.ts';
import { loadInventory } from '../inventory/load.ts';
import { formatProblem, type Inventory } from '../inventory/types.ts';
import { PROJECT_ROOT } from '../paths.ts';

export interface ImageInputs {
  /** registry/repository without a tag; Docker Hub's is written docker.io/owner/name. */
  image: string;
  flinkVersion: string;
  platforms: string;
}

export function imageInputs(inv: Inventory): ImageInputs {
  const r = inv.cluster.registry;
  return { image: `${r.host}/${r.repository}`, flinkVersion: inv.cluster.flink.version, platforms: inv.cluster.platforms.join(',') };
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { context: { type: 'string' } }, allowPositionals: true });
  const file = positionals[0] ?? path.join(PROJECT_ROOT, 'inventory', 'fridge.yaml');
  const loaded = await loadInventory(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 4;
  }
  const inv = loaded.inventory;
  const inputs = imageInputs(inv);
  const lines = [`image=${inputs.image}`, `flink-version=${inputs.flinkVersion}`, `platforms=${inputs.platforms}`];
  if (values.context) {
    const ctx = await writeContext(path.resolve(values.context), inputs.flinkVersion, inv.cluster.flink.stateDir);
    lines.push(`context=${ctx.dir}`, `conf-file=${ctx.confFile}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv.slice(2));
}
