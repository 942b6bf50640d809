// Prints the virtual fridge's timings: `npx tsx test/bench/sim-figures.ts [--cold] [--nodes N]`.
// --cold also drops the node images first (debootstrap and build again); the registry's data and the apt
// cache are kept (other work on this machine relies on them). Leaves the fridge up, as a warm run would.
import { parseArgs } from 'node:util';
import { removeImages } from '../../tasks/lib/sim/image.ts';
import { simDown, simUp } from '../../tasks/lib/sim/sim.ts';

const { values } = parseArgs({ options: { cold: { type: 'boolean', default: false }, nodes: { type: 'string', default: '5' } } });
const nodes = Number(values.nodes);
const figures: Array<[string, number]> = [];
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function step(name: string, body: () => Promise<{ ok: boolean; durationMs: number; error?: string }>): Promise<void> {
  const r = await body();
  if (!r.ok) throw new Error(`${name}: ${r.error ?? 'failed'}`);
  figures.push([name, r.durationMs]);
  console.log(`${name.padEnd(40)} ${s(r.durationMs)}`);
}

await step('down', () => simDown());
if (values.cold) {
  await removeImages();
  await step(`up, cold (node image built, ${nodes} nodes)`, () => simUp({ nodes, log: (l) => console.log(`  ${l}`) }));
} else {
  await step(`up after down (${nodes} nodes, image cached)`, () => simUp({ nodes }));
}
await step(`up, warm (${nodes} nodes running)`, () => simUp({ nodes }));
await step(`up --fresh (${nodes} nodes recreated)`, () => simUp({ nodes, fresh: true }));
await step('down', () => simDown());
await step(`up after down (${nodes} nodes, image cached)`, () => simUp({ nodes }));
