// Issue #16 item 4: a fresh clone needs no set-up step: a task installs the locked dependencies itself when
// node_modules is missing or older than package-lock.json, saying so, and only then.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript: it runs before any dependency is installed
import { ensureDependencies, installReason } from '../../tasks/lib/host/deps.mjs';

const ensure = ensureDependencies as (o: { root: string; log: (l: string) => void; npm: string }) => boolean;
const reason = installReason as (root: string) => string | undefined;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-deps-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const lock = path.join(root, 'package-lock.json');
fs.writeFileSync(lock, '{"lockfileVersion": 3}\n');
// A stand-in for npm: records its arguments and installs as npm ci does (node_modules/.package-lock.json last).
const npm = path.join(root, 'fake-npm');
fs.writeFileSync(npm, `#!/bin/sh\necho "$@" >> "${root}/npm-calls"\n[ -n "$FAKE_NPM_FAIL" ] && exit 7\nmkdir -p node_modules && echo '{}' > node_modules/.package-lock.json\n`, { mode: 0o755 });
const calls = () => (fs.existsSync(path.join(root, 'npm-calls')) ? fs.readFileSync(path.join(root, 'npm-calls'), 'utf8').trim().split('\n') : []);
const later = (file: string, seconds: number) => {
  const t = new Date(Date.now() + seconds * 1000);
  fs.utimesSync(file, t, t);
};

describe('the dependencies of a fresh clone', () => {
  it('are installed with npm ci when node_modules is missing, saying so', () => {
    const lines: string[] = [];
    expect(ensure({ root, log: (l) => lines.push(l), npm })).toBe(true);
    expect(lines).toEqual([`node_modules is missing: installing the locked dependencies (npm ci) in ${root}`]);
    expect(calls()).toEqual(['ci --no-audit --no-fund']);
  });

  it('are not installed again while node_modules matches the lock file', () => {
    const lines: string[] = [];
    expect(ensure({ root, log: (l) => lines.push(l), npm })).toBe(true);
    expect(lines).toEqual([]);
    expect(calls()).toHaveLength(1);
  });

  it('are not installed again when the lock file is only touched (a git checkout)', () => {
    later(lock, 60);
    expect(reason(root)).toBeUndefined();
  });

  it('are installed again when the lock file changed', () => {
    fs.writeFileSync(lock, '{"lockfileVersion": 3, "packages": {}}\n');
    later(lock, 120);
    expect(reason(root)).toBe('node_modules is older than package-lock.json');
    const lines: string[] = [];
    expect(ensure({ root, log: (l) => lines.push(l), npm })).toBe(true);
    expect(lines[0]).toMatch(/^node_modules is older than package-lock.json: installing the locked dependencies \(npm ci\)/);
    expect(calls()).toHaveLength(2);
  });

  it('a failed npm ci is an error naming the way out', () => {
    fs.rmSync(path.join(root, 'node_modules'), { recursive: true });
    process.env.FAKE_NPM_FAIL = '1';
    const lines: string[] = [];
    try {
      expect(ensure({ root, log: (l) => lines.push(l), npm })).toBe(false);
    } finally {
      delete process.env.FAKE_NPM_FAIL;
    }
    expect(lines[1]).toBe(`error: npm ci failed (exit 7); run 'npm ci' in ${root} and try again`);
  });
});
