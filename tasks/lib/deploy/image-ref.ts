// Which image the stack runs: --image, else what image-build pushed in this command or last time
// (.fridge/image.json), else the inventory's repository at its Flink version.
import fs from 'node:fs';
import path from 'node:path';
import type { Inventory } from '../inventory/types.ts';
import { writeFileAtomicSync } from '../atomic-file.ts';
import { outputKey } from '../engine/outputs.ts';
import { STATE_DIR } from '../paths.ts';

export const IMAGE_STATE_FILE = path.join(STATE_DIR, 'image.json');

/** What image-build made in this command (recorded for this machine, LOCALHOST). */
export interface BuiltImage {
  /** Reference the nodes pull. */
  ref: string;
  /** Check mode: image-build would push it, the registry does not have it yet. */
  planned: boolean;
}
export const BUILT_IMAGE = outputKey<BuiltImage>('image.built');

export interface PublishedImage {
  /** Reference the nodes pull, pinned by digest when known. */
  ref: string;
  builtAt: string;
}

export function recordPublishedImage(image: PublishedImage, file = IMAGE_STATE_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomicSync(file, `${JSON.stringify(image, null, 2)}\n`);
}

function lastPublished(inv: Inventory, file: string): string | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { ref?: unknown };
    const prefix = `${inv.cluster.registry.pullHost}/${inv.cluster.registry.repository}`;
    return typeof data.ref === 'string' && data.ref.startsWith(prefix) ? data.ref : undefined;
  } catch {
    return undefined;
  }
}

export function resolveImageRef(inv: Inventory, arg: unknown, built: BuiltImage | undefined, file = IMAGE_STATE_FILE): string {
  if (typeof arg === 'string' && arg) return arg;
  if (built) return built.ref;
  const r = inv.cluster.registry;
  return lastPublished(inv, file) ?? `${r.pullHost}/${r.repository}:${inv.cluster.flink.version}`;
}
