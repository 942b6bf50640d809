// Whether the assembled distribution is cached, read without assembling it (a fact for the image steps):
// the same test as flink/distribution.ts makes before it reuses the cache.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { distributionPaths } from '../flink/distribution.ts';

export async function readCachedSha512(version: string, cacheDir: string): Promise<string | undefined> {
  const p = distributionPaths(version, cacheDir);
  try {
    const [sum, marker] = await Promise.all([readFile(p.sumFile, 'utf8'), readFile(path.join(p.dir, '.fridge-complete'), 'utf8')]);
    const hex = sum.split(/\s+/)[0] ?? '';
    return /^[0-9a-f]{128}$/.test(hex) && marker.trim() === hex ? hex : undefined;
  } catch {
    return undefined;
  }
}
