// The TypeScript core as one prebuilt ES module bundle, so a task does not spend its start transpiling and
// resolving ~130 files through tsx's loader: `node tasks/ping.mjs --help` went from 0.65 s to ~0.1 s.
// The source stays the truth: the bundle's directory is named by a hash of every source's content (and of
// what else goes into it), computed on every start, so an edited file can never run from a stale bundle;
// a missing bundle is built (esbuild, ~0.3 s, once per change) and a failed build falls back to tsx.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Loaded from node_modules at run time, not bundled: native or optional parts (ssh2), a second zx copy, tools. */
export const EXTERNAL = ['zx', 'node-ssh', 'ssh2', 'cpu-features', 'tsx', 'esbuild', '@actions/*'];
const SELF = fileURLToPath(import.meta.url);
/**
 * When a new bundle is built, older ones go if unused for a day or beyond the most recently used few: a task
 * still running from one may yet load a chunk of it (a phase), and an edited checkout makes one per edit.
 */
const KEEP_MS = 24 * 3600 * 1000;
const KEEP_COUNT = 4;

const read = (file) => {
  try {
    return fs.readFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
};

function sources(dir) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Everything the bundle's bytes depend on: sources, the builder, the dependencies installed, where it lives. */
export function bundleKey(root, entry, srcDir) {
  const h = crypto.createHash('sha256');
  h.update(`${root}\0${entry}\0${process.versions.node.split('.')[0]}\0`);
  h.update(read(SELF));
  h.update(read(path.join(root, 'package-lock.json')));
  h.update(read(path.join(root, 'node_modules', 'esbuild', 'package.json')));
  for (const file of sources(srcDir)) {
    h.update(`\0${path.relative(root, file)}\0`);
    h.update(read(file));
  }
  return h.digest('hex').slice(0, 20);
}

/** Each source keeps its own import.meta.url (paths.ts finds the project root from it), as under tsx. */
function ownImportMeta(srcDir) {
  return {
    name: 'own-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(srcDir + path.sep)) return undefined;
        const text = fs.readFileSync(args.path, 'utf8')
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

/**
 * The bundle of `entry` (relative to root) for the sources as they are now: its main.js path, built if missing.
 * { file, built } or { error } (esbuild missing, a syntax error: the caller falls back to tsx, which reports it).
 */
export async function ensureBundle({ root, entry = 'tasks/lib/cli/main.ts', srcDir = path.join(root, 'tasks', 'lib'), cacheDir = path.join(root, 'node_modules', '.cache', 'fridge') }) {
  let key;
  try {
    key = bundleKey(root, entry, srcDir);
  } catch (err) {
    return { error: `cannot hash the sources: ${err instanceof Error ? err.message : String(err)}` };
  }
  const dir = path.join(cacheDir, `${path.basename(entry, '.ts')}-${key}`);
  const file = path.join(dir, 'main.js');
  if (fs.existsSync(file)) {
    // Marks it used, so prune() leaves it to the tasks still running from it.
    try {
      const now = new Date();
      fs.utimesSync(dir, now, now);
    } catch {}
    return { file, built: false };
  }
  let tmp;
  try {
    const esbuild = await import('esbuild');
    fs.mkdirSync(cacheDir, { recursive: true });
    tmp = fs.mkdtempSync(path.join(cacheDir, 'tmp-'));
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: { main: path.join(root, entry) },
      outdir: tmp,
      bundle: true,
      splitting: true, // the phases, the sim and the GitHub reporter stay separate chunks, loaded when used
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'], // a package's ES module build, where it has one
      target: `node${process.versions.node.split('.')[0]}`,
      external: EXTERNAL,
      sourcemap: 'linked', // used when FRIDGE_DEBUG asks for stacks
      // Bundled CommonJS packages (yauzl) require node's built-ins.
      banner: { js: "import { createRequire as __fridgeCreateRequire } from 'node:module'; const require = __fridgeCreateRequire(import.meta.url);" },
      plugins: [ownImportMeta(srcDir)],
      logLevel: 'silent',
    });
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another task built the same bundle at the same time: use theirs.
      if (!fs.existsSync(file)) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    const message = err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err);
    return { error: `cannot build the bundle: ${message}` };
  }
  prune(cacheDir, dir);
  return { file, built: true };
}

function prune(cacheDir, keep) {
  const now = Date.now();
  const others = fs.readdirSync(cacheDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && path.join(cacheDir, e.name) !== keep)
    .map((e) => {
      const p = path.join(cacheDir, e.name);
      try {
        return { p, used: fs.statSync(p).mtimeMs };
      } catch {
        return { p, used: 0 };
      }
    })
    .sort((a, b) => b.used - a.used);
  others.forEach(({ p, used }, i) => {
    if (i >= KEEP_COUNT || now - used > KEEP_MS) fs.rmSync(p, { recursive: true, force: true });
  });
}
