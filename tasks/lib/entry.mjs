// Loads the TypeScript core through tsx, so `npx zx tasks/<name>.mjs` needs no build step.
import './host/supported-node.mjs'; // first: under Node < 22 the task re-runs itself under Node 22
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();

export async function runTask(name, scriptUrl) {
  const script = fileURLToPath(scriptUrl);
  const at = process.argv.findIndex((a) => a === script || a.endsWith(`/${name}.mjs`) || a === `${name}.mjs`);
  const argv = at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2);
  let cli;
  try {
    cli = await import('./cli/main.ts');
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
