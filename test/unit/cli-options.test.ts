// Issue #15 items 9 and 10: every task option is checked against its declaration before the inventory is
// read: exit 5 with a message naming the option and what it accepts; nothing is contacted.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../tasks/lib/cli/main.ts';
import { parseOptions } from '../../tasks/lib/cli/options.ts';
import { checkValue, numberOption, parseDurationMs, type PhaseOption } from '../../tasks/lib/engine/phase.ts';
import { checkJar } from '../../tasks/lib/flink/jar-check.ts';
import { capture, tempDir, zipFile } from './cli-capture.ts';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// Were the inventory read, these runs would end with exit 4: exit 5 proves the options were refused first.
const NO_INVENTORY = path.join(dir, 'never-read.yaml');

const jar = path.join(dir, 'job.jar');
fs.writeFileSync(jar, zipFile({ 'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\nMain-Class: a.B\n', 'a/B.class': 'x' }));
const noManifest = path.join(dir, 'plain.jar');
fs.writeFileSync(noManifest, zipFile({ 'a/B.class': 'x' }));
const tarball = path.join(dir, 'job.tar.gz');
fs.writeFileSync(tarball, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));

describe('task options refused before anything is contacted (exit 5)', () => {
  it.each([
    ['scale', ['--replicas', 'abc'], "--replicas must be an integer from 1 to 1000, got 'abc'"],
    ['scale', ['--replicas=-1'], "--replicas must be an integer from 1 to 1000, got '-1'"],
    ['scale', ['--replicas', '2.5'], "--replicas must be an integer from 1 to 1000, got '2.5'"],
    ['scale', [], '--replicas is required: an integer from 1 to 1000'],
    ['scale', ['--replicas', '3', '--service', 'jobmanager'], "--service must be one of taskmanager, mosquitto, got 'jobmanager'"],
    ['scale', ['--replicas', '3', '--converge-timeout', 'abc'], "--converge-timeout must be a duration such as 90s, 5m, 1h or 500ms (a plain number means seconds), at most 24h, got 'abc'"],
    ['scale', ['--replicas', '3', '--converge-timeout', '0'], '--converge-timeout must be a duration'],
    ['stack-deploy', ['--converge-timeout', 'NaN'], "got 'NaN'"],
    ['job-submit', ['--parallelism', '0'], "--parallelism must be an integer from 1 to 32768, got '0'"],
    ['job-submit', ['--mode', 'ftp'], "--mode must be one of rest, cli, got 'ftp'"],
    ['job-submit', ['--timeout', '5 minutes'], "--timeout must be a duration such as 90s"],
    ['job-submit', ['--rest-url', 'ftp://x'], "--rest-url must be a http or https URL, got 'ftp://x'"],
    ['job-submit', ['--jar', path.join(dir, 'missing.jar')], `--jar: ${path.join(dir, 'missing.jar')}: no such file`],
    ['job-submit', ['--jar', tarball], `--jar: ${tarball} is not a jar (not a zip archive)`],
    ['job-submit', ['--jar', noManifest], `--jar: ${noManifest} is not a jar: it has no META-INF/MANIFEST.MF`],
    ['job-submit', ['--jar', dir], `--jar: ${dir} is not a file`],
    ['image-build', ['--platforms', 'linux/s390x'], "--platforms must be a comma-separated list of linux/amd64"],
    ['deploy', ['--converge-timeout', '-5', '--phases', 'stack-deploy'], "argument is ambiguous"],
    ['ping', ['--forks', '0'], "--forks must be a positive integer, got '0'"],
  ])('%s %j', async (task, args, message) => {
    const r = await capture(() => main(task, ['-i', NO_INVENTORY, ...args]));
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain(`Try: npx zx tasks/${task}.mjs --help`);
    expect(r.code).toBe(5);
  });

  it('reports every bad option at once', async () => {
    const r = await capture(() => main('job-submit', ['-i', NO_INVENTORY, '--parallelism', 'x', '--mode', 'ftp']));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('--parallelism must be');
    expect(r.stderr).toContain('--mode must be one of rest, cli');
  });

  it('lets good values through to the inventory (then exit 4: no such file)', async () => {
    const r = await capture(() => main('job-submit', ['-i', NO_INVENTORY, '--jar', jar, '--parallelism', '2', '--mode', 'cli', '--timeout', '2m', '--rest-url', 'http://127.0.0.1:8081']));
    expect(r.stderr).toContain(`${NO_INVENTORY}:1:1: error: cannot read the inventory`);
    expect(r.code).toBe(4);
    const s = await capture(() => main('scale', ['-i', NO_INVENTORY, '--replicas', '3', '--converge-timeout', '5m']));
    expect(s.code).toBe(4);
  });
});

describe('durations and numbers', () => {
  it.each([
    ['90', 's', 90_000],
    ['90s', 's', 90_000],
    ['5m', 's', 300_000],
    ['1h', 's', 3_600_000],
    ['1.5m', 's', 90_000],
    ['500ms', 's', 500],
    ['500', 'ms', 500],
    [' 2m ', 's', 120_000],
    ['abc', 's', undefined],
    ['5 m', 's', undefined],
    ['-1', 's', undefined],
    ['1e3', 's', undefined],
    ['', 's', undefined],
    ['Infinity', 's', undefined],
  ] as const)('%j (plain number in %s) → %s ms', (text, unit, ms) => {
    expect(parseDurationMs(text, unit)).toBe(ms);
  });

  const options: Record<string, PhaseOption> = {
    timeout: { type: 'string', description: '', check: { kind: 'duration', unit: 's' } },
    n: { type: 'string', description: '', check: { kind: 'int', min: 1 } },
    name: { type: 'string', description: '' },
  };

  it('gives phases numbers, never NaN', () => {
    expect(numberOption({ timeout: '5m' }, options, 'timeout')).toBe(300_000);
    expect(numberOption({}, options, 'timeout')).toBeUndefined();
    expect(numberOption({ n: '7' }, options, 'n')).toBe(7);
    // The CLI refuses these first; a phase reached with one is a bug, not a wait that never ends.
    expect(() => numberOption({ timeout: 'abc' }, options, 'timeout')).toThrow(/bug/);
    expect(() => numberOption({ name: 'x' }, options, 'name')).toThrow(/bug/);
  });

  it('does not echo a long value whole (it may be a secret given by mistake)', () => {
    const r = checkValue('n', options.n as PhaseOption, 'x'.repeat(100));
    expect(r).toEqual({ ok: false, error: `--n must be a positive integer, got '${'x'.repeat(37)}...'` });
  });

  it('checks a jar by its central directory', async () => {
    expect(await checkJar(jar)).toEqual({ ok: true });
    expect(await checkJar(noManifest)).toMatchObject({ ok: false });
  });
});

describe('option parsing', () => {
  it('takes Ansible-style short and long options', async () => {
    const r = await parseOptions(['-i', 'x.yaml', '-C', '--diff', '-l', 'workers', '--forks', '2', '--json', '-vv', '--no-color'], {});
    expect(r).toMatchObject({ ok: true, common: { inventory: 'x.yaml', check: true, diff: true, limit: 'workers', forks: 2, json: true, verbose: 2, noColor: true } });
  });
  it('refuses a non-numeric --forks', async () => {
    expect(await parseOptions(['--forks', 'many'], {})).toEqual({ ok: false, errors: ["--forks must be a positive integer, got 'many'"] });
  });
});
