// Issue #16 item 4: tasks run the core from a prebuilt bundle, and an edited source never runs from a stale one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript: it runs before tsx or any dependency can be loaded
import { ensureBundle } from '../../tasks/lib/host/bundle.mjs';

type Bundle = { file: string; built: boolean } | { error: string };
const build = ensureBundle as (o: { root: string; entry: string; srcDir?: string; cacheDir?: string }) => Promise<Bundle>;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-bundle-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const src = path.join(root, 'tasks', 'lib');
const main = path.join(src, 'cli', 'main.ts');
const helper = path.join(src, 'word.ts');
fs.mkdirSync(path.dirname(main), { recursive: true });
fs.writeFileSync(main, "import { word } from '../word.ts';\nexport const said: string = word;\nexport const here: string = import.meta.url;\nexport const later = () => import('../word.ts');\n");
fs.writeFileSync(helper, "export const word = 'one';\n");

const load = async (b: Bundle) => {
  if (!('file' in b)) throw new Error(b.error);
  return (await import(pathToFileURL(b.file).href)) as { said: string; here: string };
};

describe('the start-up bundle', () => {
  let first: string;

  it('is built from the sources, each keeping its own import.meta.url', async () => {
    const b = await build({ root, entry: 'tasks/lib/cli/main.ts' });
    expect(b).toMatchObject({ built: true });
    const m = await load(b);
    expect(m.said).toBe('one');
    expect(m.here).toBe(pathToFileURL(main).href);
    first = 'file' in b ? b.file : '';
    expect(first.startsWith(path.join(root, 'node_modules', '.cache', 'fridge') + path.sep)).toBe(true);
  });

  it('is reused while no source changes', async () => {
    expect(await build({ root, entry: 'tasks/lib/cli/main.ts' })).toEqual({ file: first, built: false });
  });

  it('is rebuilt when a source changes, even with the same size and modification time', async () => {
    const before = fs.statSync(helper);
    fs.writeFileSync(helper, "export const word = 'two';\n");
    fs.utimesSync(helper, before.atime, before.mtime);
    const b = await build({ root, entry: 'tasks/lib/cli/main.ts' });
    expect(b).toMatchObject({ built: true });
    expect('file' in b && b.file).not.toBe(first);
    expect((await load(b)).said).toBe('two');
  });

  it('is rebuilt when a source is added', async () => {
    fs.writeFileSync(path.join(src, 'unused.ts'), 'export {};\n');
    expect(await build({ root, entry: 'tasks/lib/cli/main.ts' })).toMatchObject({ built: true });
  });

  it('reports a source that does not compile, so the task falls back to tsx (which names it)', async () => {
    fs.writeFileSync(helper, 'export const word = ;\n');
    const b = await build({ root, entry: 'tasks/lib/cli/main.ts' });
    expect(b).toMatchObject({ error: expect.stringContaining('cannot build the bundle') });
    expect(fs.readdirSync(path.join(root, 'node_modules', '.cache', 'fridge')).filter((d) => d.startsWith('tmp-'))).toEqual([]);
  });
});
