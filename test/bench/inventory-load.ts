// Prints how long loading an inventory takes by size: `npx tsx test/bench/inventory-load.ts`.
// Each size is a generated valid inventory (one line per host, with its own address and static IP),
// loaded from a file as the CLI does. Linear growth is the point; issue #15 asked ≤ 2 s for 1 MB.
// A CPU reference (a fixed loop) is printed too, so figures from a busy machine can be read fairly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { generateInventory } from '../helpers/inventory-generate.ts';

const dir = mkdtempSync(join(tmpdir(), 'fridge-bench-inventory-'));
const ms = (start: number): string => `${(performance.now() - start).toFixed(0)} ms`;

function reference(): string {
  const start = performance.now();
  let x = 0;
  for (let i = 0; i < 1e8; i++) x += i % 7;
  // x is used so the loop cannot be optimised away.
  return x >= 0 ? ms(start) : '';
}

try {
  console.log(`CPU reference (1e8-iteration loop): ${reference()}`);
  for (const mb of [0.1, 0.5, 1]) {
    const text = generateInventory(mb * 1_000_000);
    const file = join(dir, `inventory-${mb}.yaml`);
    writeFileSync(file, text);
    const start = performance.now();
    const r = await loadInventory(file);
    const took = ms(start);
    if (!r.ok) throw new Error(`${mb} MB: not loaded: ${r.problems[0]?.message ?? ''}`);
    console.log(`${`${mb} MB (${(text.length / 1000).toFixed(0)} kB, ${r.inventory.hosts.length} hosts)`.padEnd(34)} ${took}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
