// Issue #15 item 6: whatever the inventory loader throws (a parser's ReferenceError, a bug) becomes an
// inventory error with the file's position and exit 4 in every output mode, never a stack trace.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../tasks/lib/cli/main.ts';
import { capture, tempDir } from './cli-capture.ts';

const loader = vi.hoisted(() => ({ load: (_file: string): Promise<never> => Promise.reject(new ReferenceError('Excessive alias count indicates a resource exhaustion attack')) }));
vi.mock('../../tasks/lib/inventory/load.ts', () => ({ loadInventory: (file: string) => loader.load(file) }));

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'inventory.yaml');
fs.writeFileSync(file, 'all: {}\n');

describe('an exception while loading the inventory', () => {
  it('is exit 4 with file:line:col and no stack trace', async () => {
    const r = await capture(() => main('ping', ['-i', file]));
    expect(r.stderr).toBe(`${file}:1:1: error: cannot load the inventory: Excessive alias count indicates a resource exhaustion attack\n`);
    expect(r.code).toBe(4);
  });

  it('is one JSON document under --json', async () => {
    const r = await capture(() => main('ping', ['-i', file, '--json']));
    expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 4, errors: [{ kind: 'inventory', file, line: 1, col: 1, message: expect.stringContaining('Excessive alias count') }] });
  });

  it('is an annotation on the file in GitHub Actions', async () => {
    const r = await capture(() => main('ping', ['-i', file]), { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir });
    expect(r.stdout.split('\n')).toContain('::error file=inventory.yaml,line=1,col=1::cannot load the inventory: Excessive alias count indicates a resource exhaustion attack');
  });
});
