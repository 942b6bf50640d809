// Fridge runs on Node 22+ (package.json engines); npm test provides it on a machine with an older node
// (tasks/lib/host/node.sh, tested in test/integration/02-node-provisioning.test.ts). This guard catches a
// regression of that provisioning: the suite itself must be running on 22+.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const major = (v: string) => Number(v.replace(/^v/, '').split('.')[0]);

describe('the Node the suite runs on', () => {
  it('is 22 or newer, as package.json engines says (npm test provides it on an older machine)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
    expect(pkg.engines.node).toBe('>=22');
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(22);
    // The types describe the oldest supported line, so tsc refuses an API that Node 22 lacks.
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^22\./);
  });
});
