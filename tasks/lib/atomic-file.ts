// Local state files (.fridge/: the published image, savepoints to resume from, build caches) are written to a
// temporary file beside them and renamed over the old one: a Ctrl-C or a crash mid-write leaves the old file
// or the new one, never half of either. rename(2) is atomic within a directory.
import fs from 'node:fs';
import path from 'node:path';

function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
}

export function writeFileAtomicSync(file: string, content: string | Buffer, mode?: number): void {
  const tmp = tempPath(file);
  try {
    fs.writeFileSync(tmp, content, mode !== undefined ? { mode } : {});
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeFileAtomic(file: string, content: string | Buffer, mode?: number): Promise<void> {
  const tmp = tempPath(file);
  try {
    await fs.promises.writeFile(tmp, content, mode !== undefined ? { mode } : {});
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
