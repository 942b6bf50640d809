// package.json says only what is true: every dependency is used, every install script is decided on, and
// `npm run bench` runs something.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mjs)$/.test(e.name))
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'));
}

describe('package.json', () => {
  it('declares no dependency that nothing in tasks/ imports', () => {
    const code = sources('tasks').join('\n');
    const unused = Object.keys(pkg.dependencies).filter((name) => {
      const quoted = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      return !new RegExp(`(from|import\\(?)\\s*'${quoted}(/[^']*)?'`).test(code);
    });
    expect(unused).toEqual([]);
  });

  it('decides on every install script in the lock file (npm ci prints no install-scripts warning)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript === true)
      .map(([where]) => where.replace(/^.*node_modules\//, ''))
      .sort();
    expect(withScripts.length).toBeGreaterThan(0);
    expect(Object.keys(pkg.allowScripts ?? {}).sort()).toEqual(withScripts);
    // esbuild's postinstall checks its platform binary (tsx runs on it); ssh2's and cpu-features' build optional
    // native addons with node-gyp, which ssh2 does without, and which would be built for npm's node, not the tests'.
    expect(pkg.allowScripts).toEqual({ esbuild: true, ssh2: false, 'cpu-features': false });
  });

  it('npm run bench lists each bench with how to run it, and refuses an unknown one', () => {
    expect(pkg.scripts.bench).toBe('bash test/bench/run.sh');
    const list = spawnSync('bash', ['test/bench/run.sh'], { cwd: ROOT, encoding: 'utf8' });
    expect(list.status).toBe(0);
    const benches = fs.readdirSync(path.join(ROOT, 'test/bench')).filter((f) => f.endsWith('.ts'));
    expect(benches.length).toBeGreaterThan(0);
    for (const f of benches) {
      expect(list.stdout).toContain(`\n${f.replace(/\.ts$/, '')}\n`);
      expect(list.stdout).toContain(`npx tsx test/bench/${f}`);
    }
    const bad = spawnSync('bash', ['test/bench/run.sh', 'no-such-bench'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(5);
    expect(bad.stderr).toContain("no bench named 'no-such-bench'; the benches are: ");
  });
});
