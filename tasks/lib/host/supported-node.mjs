// Fridge runs on Node 22 or newer (package.json engines). A task started under an older node (`npx zx` on a
// machine with Node 20) runs itself again under the Node that tasks/lib/host/node.sh provides, so the README's
// commands work as written; imported first by every task, before any of Fridge's code is loaded.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MIN_NODE_MAJOR = 22;

/** Resolves at once on a supported node; otherwise never resolves: the process ends with the re-run's exit. */
export function ensureSupportedNode() {
  if (Number(process.versions.node.split('.')[0]) >= MIN_NODE_MAJOR) return Promise.resolve();
  const script = fileURLToPath(new URL('./node.sh', import.meta.url));
  // The re-run's node is new enough, so a second pass here means node.sh handed back an old node: refuse.
  const found = process.env.FRIDGE_NODE_RERUN === undefined
    ? spawnSync('bash', [script, 'path'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
    : undefined;
  const node = found?.status === 0 ? found.stdout.trim() : '';
  if (node === '') {
    process.stderr.write(`Fridge needs Node.js ${MIN_NODE_MAJOR} or 24; this is ${process.version}, and ${script} could not provide one. Install Node.js ${MIN_NODE_MAJOR}+.\n`);
    process.exit(1);
  }
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, FRIDGE_NODE_RERUN: '1' } });
  // Ctrl-C reaches the child from the terminal itself; a signal sent to this process alone is passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  return new Promise(() => {});
}

await ensureSupportedNode();
