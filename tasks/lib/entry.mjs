// Every tasks/<name>.mjs calls runTask(). Start-up is kept short (a no-op command must not spend a second before
// it reaches the hosts): the TypeScript core runs from a bundle prebuilt from the current sources (host/bundle.mjs),
// or through tsx when the bundle cannot be built, so `npx zx tasks/<name>.mjs` needs no build step either way.
import './host/supported-node.mjs'; // first: under Node < 22 the task re-runs itself under Node 22
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureDependencies, PROJECT_ROOT } from './host/deps.mjs';

// V8's code cache for the bundle: another ~30 ms off each start (node checks each entry against the source).
module.enableCompileCache?.(path.join(PROJECT_ROOT, 'node_modules', '.cache', 'fridge-v8'));

/**
 * A TypeScript entry of the core (relative to the project root): bundled unless FRIDGE_BUNDLE=0, else (or when
 * the bundle cannot be built) through tsx. Installs the locked dependencies first on a fresh clone.
 * Undefined when they cannot be installed (said on stderr).
 */
export async function loadCore(entry) {
  // A fresh clone: nothing in node_modules yet (npx fetched zx alone).
  if (!ensureDependencies()) return undefined;
  if (process.env.FRIDGE_BUNDLE !== '0') {
    const { ensureBundle } = await import('./host/bundle.mjs');
    const bundle = await ensureBundle({ root: PROJECT_ROOT, entry });
    if ('file' in bundle) {
      if (process.env.FRIDGE_DEBUG) process.setSourceMapsEnabled(true);
      return import(pathToFileURL(bundle.file).href);
    }
    if (process.env.FRIDGE_DEBUG) process.stderr.write(`debug: ${bundle.error}; running the sources through tsx\n`);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(path.join(PROJECT_ROOT, entry)).href);
}

export async function runTask(name, scriptUrl) {
  const script = fileURLToPath(scriptUrl);
  const at = process.argv.findIndex((a) => a === script || a.endsWith(`/${name}.mjs`) || a === `${name}.mjs`);
  const argv = at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2);
  let cli;
  try {
    cli = await loadCore('tasks/lib/cli/main.ts');
    if (cli === undefined) {
      process.exitCode = 1;
      return;
    }
  } catch (err) {
    // A module that does not load is a bug in Fridge, not the operator's: one line, the stack on request.
    const message = `internal error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    process.stderr.write(`error: ${message}\n`);
    if (process.env.FRIDGE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    // The shape of report/json.ts's JsonDocument, which could not be loaded either.
    if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ version: 1, ok: false, exitCode: 1, errors: [{ kind: 'internal', message }], phases: [], results: [], messages: [] }, null, 2)}\n`);
    process.exitCode = 1;
    return;
  }
  const { main, EXIT_INTERRUPTED } = cli;
  const code = await main(name, argv);
  process.exitCode = code;
  // After Ctrl-C the interrupted work may still hold timers or sockets: end once stdout is written out.
  if (code === EXIT_INTERRUPTED) process.stdout.write('', () => process.exit(code));
}
