// What is committed next to the generator stays in step with it.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { recipeHash, SERVICES_DIR } from '../../tasks/lib/stack/build-service-images.ts';
import type { ComposeFile } from '../../tasks/lib/stack/compose-types.ts';
import { EXAMPLE_STACK, renderExample } from '../../tasks/lib/stack/example.ts';
import { mosquittoConfig } from '../../tasks/lib/stack/monitoring.ts';
import { BUILT_SERVICES } from '../../tasks/lib/stack/service-images.ts';

describe('stacks/docker-stack.example.yaml', () => {
  it('is what the generator makes of inventory/fridge.yaml (regenerate: npx tsx tasks/lib/stack/example.ts)', async () => {
    const stack = await renderExample();
    expect(stack.problems).toEqual([]);
    expect(readFileSync(EXAMPLE_STACK, 'utf8')).toBe(stack.yaml);
    for (const [file, content] of Object.entries(stack.files)) {
      expect(readFileSync(path.join(path.dirname(EXAMPLE_STACK), file), 'utf8')).toBe(content);
    }
  });

  it('describes the seed’s fridge: jobmanager on worker04, three taskmanagers elsewhere, routing mesh', () => {
    const doc = parse(readFileSync(EXAMPLE_STACK, 'utf8')) as ComposeFile;
    expect(doc.services['jobmanager']?.deploy.placement.constraints).toEqual(['node.hostname == worker04']);
    expect(doc.services['taskmanager']?.deploy).toMatchObject({
      replicas: 3,
      endpoint_mode: 'vip',
      placement: { constraints: ['node.hostname != worker01', 'node.hostname != worker04'], max_replicas_per_node: 2 },
    });
    expect(doc.services['jobmanager']?.ports?.[0]?.mode).toBe('ingress');
  });

  const hasStackConfig = spawnSync('docker', ['stack', 'config', '--help'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasStackConfig)('passes docker stack config', () => {
    const out = execFileSync('docker', ['stack', 'config', '-c', path.basename(EXAMPLE_STACK)], { cwd: path.dirname(EXAMPLE_STACK), encoding: 'utf8' });
    expect(out).toMatch(/taskmanager:/);
  });
});

describe('docker/services recipes', () => {
  it.each(Object.keys(BUILT_SERVICES) as Array<keyof typeof BUILT_SERVICES>)('%s: a changed recipe gets a new tag', (name) => {
    const { tag, recipe } = BUILT_SERVICES[name];
    expect(recipeHash(name), `docker/services/${name} changed: bump the revision of ${tag} and set recipe to ${recipeHash(name)} in tasks/lib/stack/service-images.ts`).toBe(recipe);
  });

  it('bakes the same mosquitto.conf into the image as the stack mounts', () => {
    expect(readFileSync(path.join(SERVICES_DIR, 'mosquitto', 'mosquitto.conf'), 'utf8')).toBe(mosquittoConfig());
  });
});
