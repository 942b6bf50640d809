// Is a local file a Java archive Flink can run? Checked before anything is contacted, so that a typo'd
// path or a tarball given as --jar is refused with exit 5 instead of failing on the jobmanager.
import { open, stat } from 'node:fs/promises';
import yauzl from 'yauzl';

export type JarCheck = { ok: true } | { ok: false; msg: string };

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const MANIFEST = 'META-INF/MANIFEST.MF';

/** An existing regular file, readable. */
export async function checkLocalFile(file: string): Promise<JarCheck> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return { ok: false, msg: `${file} is not a file` };
    const fh = await open(file, 'r');
    await fh.close();
    return { ok: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, msg: code === 'ENOENT' ? `${file}: no such file` : code === 'EACCES' ? `${file}: permission denied` : `${file}: ${(e as Error).message}` };
  }
}

/** A zip (magic PK\x03\x04) whose central directory lists META-INF/MANIFEST.MF. */
export async function checkJar(file: string): Promise<JarCheck> {
  const exists = await checkLocalFile(file);
  if (!exists.ok) return exists;
  const head = Buffer.alloc(4);
  const fh = await open(file, 'r');
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (!head.equals(ZIP_MAGIC)) return { ok: false, msg: `${file} is not a jar (not a zip archive)` };
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  } catch (e) {
    return { ok: false, msg: `${file} is not a readable jar: ${(e as Error).message}` };
  }
  try {
    for await (const entry of zip.eachEntry()) if (entry.fileName === MANIFEST) return { ok: true };
    return { ok: false, msg: `${file} is not a jar: it has no ${MANIFEST}` };
  } catch (e) {
    return { ok: false, msg: `${file} is not a readable jar: ${(e as Error).message}` };
  } finally {
    zip.close();
  }
}
