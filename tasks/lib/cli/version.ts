// --version: the package's version, and the commit when run from a git checkout (what CI deployed).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../paths.ts';

const run = promisify(execFile);

export async function versionText(root: string = PROJECT_ROOT): Promise<string> {
  const pkg: unknown = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  // Only this checkout's own commit: an unpacked copy inside another repository must not report that one's.
  const commit = !existsSync(path.join(root, '.git'))
    ? ''
    : await run('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], { timeout: 5_000 })
    .then((r) => r.stdout.trim())
    .catch(() => '');
  return `fridge ${version}${commit ? ` (commit ${commit})` : ''}`;
}
