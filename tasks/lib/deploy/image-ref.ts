// Which image the stack runs: --image, else what image-build pushed in this command or last time
// (.fridge/image.json), else the inventory's repository at its Flink version.
import fs from 'node:fs';
import path from 'node:path';
import type { Inventory } from '../inventory/types.ts';
import { writeFileAtomicSync } from '../atomic-file.ts';
import { STATE_DIR } from '../paths.ts';

export const IMAGE_STATE_FILE = path.join(STATE_DIR, 'image.json');
export const SHARED_IMAGE_KEY = 'image.ref';
/** Set in check mode when image-build would push SHARED_IMAGE_KEY: the registry does not have it yet. */
export const SHARED_IMAGE_PLANNED = 'image.planned';

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

export function resolveImageRef(inv: Inventory, arg: unknown, shared: Map<string, unknown>, file = IMAGE_STATE_FILE): string {
  if (typeof arg === 'string' && arg) return arg;
  const fromRun = shared.get(SHARED_IMAGE_KEY);
  if (typeof fromRun === 'string') return fromRun;
  const r = inv.cluster.registry;
  return lastPublished(inv, file) ?? `${r.pullHost}/${r.repository}:${inv.cluster.flink.version}`;
}
