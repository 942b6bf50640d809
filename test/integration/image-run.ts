// buildImage runs the image build's play in a Run: a quiet one for tests and benches that call it directly,
// recording .fridge/image.json's counterpart in a file of their own (the checkout's is the quick start's).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import { Run, type Session } from '../../tasks/lib/engine/runner.ts';
import { buildImage, type ImageBuildOptions, type ImageBuildResult } from '../../tasks/lib/image/build.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { Reporter } from '../../tasks/lib/report/types.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';

const stateFile = path.join(mkdtempSync(path.join(tmpdir(), 'fridge-image-state-')), 'image.json');

export async function buildInRun(opts: ImageBuildOptions, o: { check?: boolean } = {}): Promise<ImageBuildResult> {
  const loaded = await loadInventory('test/fixtures/inventory/virtual.yaml');
  if (!loaded.ok) throw new Error(`fixture inventory: ${JSON.stringify(loaded.problems)}`);
  const reporter: Reporter = { emit: () => undefined, finish: async () => undefined };
  const session: Session = { inventory: loaded.inventory, hosts: [], options: { check: o.check ?? false, diff: false, forks: 1 }, reporter, pool: new TransportPool(), args: {}, outputs: new Outputs() };
  try {
    return await buildImage(new Run('image-build', session), opts, stateFile);
  } finally {
    await session.pool.closeAll();
  }
}
