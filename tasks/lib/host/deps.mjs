// A fresh clone needs no set-up step: a task (and `npm test`) installs the locked dependencies itself when
// node_modules is missing or older than package-lock.json, saying so. Plain JavaScript on node's built-ins only:
// it runs before anything from node_modules can be loaded.
//
//   node tasks/lib/host/deps.mjs     installs them if needed (npm scripts call it first); exit 1 when npm ci fails
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** npm writes it at the end of every install; its mtime says when node_modules was last made to match the lock. */
const INSTALLED = path.join('node_modules', '.package-lock.json');
/** The lock file's hash as of our own last `npm ci`: a lock touched (git checkout) but unchanged needs no install. */
const STAMP = path.join('node_modules', '.fridge-installed-lock');

const mtime = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};
const lockHash = (root) => crypto.createHash('sha256').update(fs.readFileSync(path.join(root, 'package-lock.json'))).digest('hex');

/** Why an install is needed, or undefined when node_modules matches the lock file. */
export function installReason(root = PROJECT_ROOT) {
  const lock = mtime(path.join(root, 'package-lock.json'));
  if (lock === undefined) return undefined;
  const installed = mtime(path.join(root, INSTALLED));
  if (installed === undefined) return 'node_modules is missing';
  if (installed >= lock) return undefined;
  let stamp = '';
  try {
    stamp = fs.readFileSync(path.join(root, STAMP), 'utf8').trim();
  } catch {}
  return stamp === lockHash(root) ? undefined : 'node_modules is older than package-lock.json';
}

/**
 * Runs `npm ci` when installReason() says so; npm's output goes to stderr so a --json stdout stays one document.
 * Returns whether the dependencies are there now.
 */
export function ensureDependencies({ root = PROJECT_ROOT, log = (line) => process.stderr.write(`${line}\n`), npm = 'npm' } = {}) {
  const reason = installReason(root);
  if (reason === undefined) return true;
  log(`${reason}: installing the locked dependencies (npm ci) in ${root}`);
  // npm runs on this node (>= 22, see supported-node.mjs), which may not be the first on PATH.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, env, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) {
    log(`error: npm ci ${r.error ? `could not start: ${r.error.message}` : `failed (exit ${r.status ?? r.signal})`}; run 'npm ci' in ${root} and try again`);
    return false;
  }
  fs.writeFileSync(path.join(root, STAMP), `${lockHash(root)}\n`);
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = ensureDependencies() ? 0 : 1;
}
