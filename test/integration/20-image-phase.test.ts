// The image-build phase through the engine: facts (inputs fingerprint, registry) → plan → apply.
// After one build the phase is ok without building; --check on an up-to-date registry is ok too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IMAGE } from '../../tasks/lib/deploy/image-ref.ts';
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import { Run, type Session } from '../../tasks/lib/engine/runner.ts';
import type { StepResult } from '../../tasks/lib/engine/types.ts';
import { loadInventory } from '../../tasks/lib/inventory/load.ts';
import { LOCALHOST } from '../../tasks/lib/inventory/local-host.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { phase } from '../../tasks/lib/phases/image-build.ts';
import type { ReportEvent, Reporter } from '../../tasks/lib/report/types.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';
import { startRegistry, type TestRegistry } from './image-registry.ts';

async function runPhase(inventory: Inventory, check: boolean): Promise<{ result: StepResult | undefined; run: Run; messages: string[] }> {
  const messages: string[] = [];
  const reporter: Reporter = {
    emit: (e: ReportEvent) => {
      if (e.kind === 'message') messages.push(e.text);
    },
    finish: async () => {},
  };
  const session: Session = { inventory, hosts: [], options: { check, diff: false, forks: 1 }, reporter, pool: new TransportPool(), args: { platforms: 'linux/amd64' }, outputs: new Outputs() };
  const run = new Run('image-build', session);
  await phase.run(run);
  return { result: run.outcomes[0]?.results[0], run, messages };
}

describe('image-build phase', () => {
  let registry: TestRegistry;
  let inventory: Inventory;
  beforeAll(async () => {
    registry = await startRegistry();
    const loaded = await loadInventory('test/fixtures/inventory/virtual.yaml');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const r = loaded.inventory.cluster.registry;
    inventory = { ...loaded.inventory, cluster: { ...loaded.inventory.cluster, registry: { ...r, host: registry.host, pullHost: registry.host, repository: 'fridge-image-test/flink', insecure: true, usernameEnv: undefined, passwordEnv: undefined } } };
  });
  afterAll(async () => registry?.stop());

  it('builds and pushes when the registry lacks the image, then is ok; --check is ok when up to date', async () => {
    const first = await runPhase(inventory, false);
    expect(first.result?.status, `${first.result?.msg}\n${first.messages.join('\n')}`).toMatch(/^(changed|ok)$/);
    expect(first.run.output(BUILT_IMAGE, LOCALHOST)?.ref).toMatch(new RegExp(`^${registry.host}/fridge-image-test/flink:[0-9a-f]{7,}$`));

    const t0 = Date.now();
    const second = await runPhase(inventory, false);
    expect(second.result?.status, second.result?.msg).toBe('ok');
    expect(second.result?.msg).toBe(`${registry.host}/fridge-image-test/flink:${inventory.cluster.flink.version} up to date [linux/amd64]`);
    expect(Date.now() - t0).toBeLessThan(15_000);

    const check = await runPhase(inventory, true);
    expect(check.result?.status).toBe('ok');
  }, 1_800_000);
});
