// What earlier builds on this machine left in the cache directory, read as facts and written by the steps'
// actions: the inputs each per-platform image was built from, the layer chains that passed the smoke tests,
// and what was last pushed (image-published.json).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import type { ManifestEntry } from './options.ts';

async function readJson<T>(file: string, fallback: T): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
}

/** A per-platform image and the inputs it was built from. */
export interface BuiltRecord {
  inputs: string;
  imageId: string;
}

const builtFile = (cacheDir: string): string => path.join(cacheDir, 'image-built.json');

export async function readBuilt(cacheDir: string, ref: string): Promise<BuiltRecord | undefined> {
  return (await readJson<Record<string, BuiltRecord>>(builtFile(cacheDir), {}))[ref];
}

export async function writeBuilt(cacheDir: string, ref: string, record: BuiltRecord): Promise<void> {
  const all = await readJson<Record<string, BuiltRecord>>(builtFile(cacheDir), {});
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(builtFile(cacheDir), `${JSON.stringify({ ...all, [ref]: record }, null, 2)}\n`);
}

/** Layer chains that already passed the smoke tests: a rebuild from cache or a new label does not repeat them. */
const smokeFile = (cacheDir: string): string => path.join(cacheDir, 'image-smoke-passed.json');

export async function smokePassed(cacheDir: string, contentKey: string): Promise<boolean> {
  return (await readJson<string[]>(smokeFile(cacheDir), [])).includes(contentKey);
}

export async function addSmokePassed(cacheDir: string, contentKey: string): Promise<void> {
  const ids = await readJson<string[]>(smokeFile(cacheDir), []);
  await mkdir(cacheDir, { recursive: true });
  await writeFile(smokeFile(cacheDir), JSON.stringify([...ids.filter((x) => x !== contentKey), contentKey].slice(-50)));
}

/** What these inputs were last pushed as. */
export interface Published {
  fingerprint: string;
  tags: string[];
  entries: ManifestEntry[];
}

const publishedFile = (cacheDir: string): string => path.join(cacheDir, 'image-published.json');

export async function readPublished(cacheDir: string): Promise<Published | undefined> {
  return readJson<Published | undefined>(publishedFile(cacheDir), undefined);
}

export async function writePublished(cacheDir: string, p: Published): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(publishedFile(cacheDir), `${JSON.stringify(p, null, 2)}\n`);
}
