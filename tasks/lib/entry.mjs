// Loads the TypeScript core through tsx, so `npx zx tasks/<name>.mjs` needs no build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();

export async function runTask(name, scriptUrl) {
  const script = fileURLToPath(scriptUrl);
  const at = process.argv.findIndex((a) => a === script || a.endsWith(`/${name}.mjs`) || a === `${name}.mjs`);
  const argv = at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2);
  const { main } = await import('./cli/main.ts');
  process.exitCode = await main(name, argv);
}
