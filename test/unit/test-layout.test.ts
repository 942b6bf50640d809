// Issue #16 item 6: test/unit holds unit tests only (no Flink download, no JVM, no docker, no task process), and
// a test that cannot run here is reported skipped, never passed without asserting anything.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = path.resolve(import.meta.dirname);
const files = fs.readdirSync(UNIT).filter((f) => f.endsWith('.ts') && f !== 'test-layout.test.ts');
const text = (f: string) => fs.readFileSync(path.join(UNIT, f), 'utf8');

describe('test/unit', () => {
  it.each([
    ['downloads Flink', /\bensureFlinkDistribution\b/],
    ['starts a JVM', /\b(execFile|spawn)\w*\(\s*['"]java['"]/],
    ['starts a task process (zx, tasks/*.mjs)', /zx\/build\/cli\.js|tasks\/[\w-]+\.mjs['"]/],
    // `docker stack config` only parses a file, with no daemon: allowed.
    ['talks to a docker daemon', /\b(execFile|spawn)\w*\(\s*['"]docker['"],\s*\[\s*['"](?!stack['"],\s*['"]config)|execLocal\(\s*['`"]docker (?!stack config)/],
  ])('has no test that %s (those go to test/integration)', (_what, pattern) => {
    expect(files.filter((f) => pattern.test(text(f)))).toEqual([]);
  });

  it('has no test that returns early instead of being skipped', () => {
    const early = /\bit(\.each\([^)]*\))?\(\s*['"`][^'"`]*['"`],\s*async\s*\(\)\s*=>\s*\{\s*if\s*\([^{}]*\)\s*return;/;
    expect(files.filter((f) => early.test(text(f)))).toEqual([]);
  });
});
