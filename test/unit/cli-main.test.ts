// What a user sees from main(), run in-process (issue #15 items 6, 11, 13, 19): every exit path gives a clear
// message and its exit code, one JSON document under --json, annotations in GitHub Actions, and Ctrl-C ends cleanly.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useColor } from '../../tasks/lib/cli/color.ts';
import { main, runTask } from '../../tasks/lib/cli/main.ts';
import { TASKS } from '../../tasks/lib/cli/tasks.ts';
import type { Phase } from '../../tasks/lib/engine/phase.ts';
import type { Step } from '../../tasks/lib/engine/types.ts';
import { UnreachableError } from '../../tasks/lib/transport/types.ts';
import type { JsonDocument } from '../../tasks/lib/report/json.ts';
import { capture, localInventory, tempDir } from './cli-capture.ts';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const local = localInventory(dir);
const bad = path.join(dir, 'bad.yaml');
fs.writeFileSync(bad, ['all:', '  vars:', '    fridge_model: "3C"', '  children:', '    managers:', '      hosts:', '        a: {ansible_host: 10.0.0.300}', ''].join('\n'));
// "Excessive alias count" from the YAML parser: three levels of aliases.
const bomb = path.join(dir, 'bomb.yaml');
fs.writeFileSync(
  bomb,
  ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'all: {hosts: {h: {x: *c}}}', ''].join('\n'),
);

const STACK_LINE = /\n\s+at /;

function json(stdout: string): JsonDocument {
  // Exactly one document: JSON.parse fails on anything before or after it.
  return JSON.parse(stdout) as JsonDocument;
}

describe('help and version', () => {
  it.each(Object.keys(TASKS))('%s --help describes its phases, options, colours and exit codes', async (name) => {
    const r = await capture(() => main(name, ['--help']));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: npx zx tasks/${name}.mjs`);
    for (const s of ['Phases:', '--check', '--limit', '--json', '-v, --verbose', '--no-color', '--version', 'NO_COLOR', 'FORCE_COLOR', '99 interrupted']) expect(r.stdout).toContain(s);
  });

  it('--help stays text under --json', async () => {
    const r = await capture(() => main('ping', ['--json', '--help']));
    expect(r.stdout).toMatch(/^Usage: /);
    expect(r.code).toBe(0);
  });

  it('--version prints the package version and, in a checkout, the commit', async () => {
    const r = await capture(() => main('ping', ['--version']));
    const version = (JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;
    const inCheckout = fs.existsSync(path.resolve(import.meta.dirname, '../../.git'));
    expect(r.stdout).toMatch(new RegExp(`^fridge ${version.replace(/\./g, '\\.')}${inCheckout ? ' \\(commit [0-9a-f]{12}\\)' : ''}\\n$`));
    expect(r.code).toBe(0);
  });
});

describe('inventory errors (item 6)', () => {
  it('reports every problem with file:line:col and exits 4 without a stack trace', async () => {
    const r = await capture(() => main('ping', ['-i', bad]));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`${bad}:3:\\d+: error: fridge_model`));
    expect(r.stderr).toMatch(new RegExp(`${bad}:7:\\d+: error: ansible_host`));
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a YAML alias bomb is an inventory error (exit 4), not a crash', async () => {
    const r = await capture(() => main('ping', ['-i', bomb]));
    expect(r.stderr).toMatch(new RegExp(`${bomb}:\\d+:\\d+: error: `));
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(4);
  });

  it('refuses a --limit that matches nothing with exit 5, naming the known groups', async () => {
    const r = await capture(() => main('ping', ['-i', 'inventory/fridge.yaml', '--limit', 'nosuch']));
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('nosuch');
    expect(r.stderr).toContain('managers');
  });
});

describe('internal errors (item 6)', () => {
  const task = { description: 'test', phaseNames: ['boom'] };
  const boom: Phase = {
    name: 'boom',
    description: 'throws',
    async run() {
      throw new TypeError('cannot read properties of undefined');
    },
  };

  it('an exception before the inventory is read is exit 1 with a message, no stack', async () => {
    const r = await capture(() => runTask('boom', { ...task, prepare: () => Promise.reject(new Error('prepare broke')) }, async () => [boom], ['-i', local]));
    expect(r.stderr).toContain('error: internal error: prepare broke');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(1);
  });

  it('an exception loading the phases is exit 1 too', async () => {
    const r = await capture(() => runTask('boom', task, () => Promise.reject(new Error('no such module')), []));
    expect(r.stderr).toBe('error: internal error: no such module\n');
    expect(r.code).toBe(1);
  });

  it('an exception in a phase is exit 1, the stack only with FRIDGE_DEBUG', async () => {
    const r = await capture(() => runTask('boom', task, async () => [boom], ['-i', local]));
    expect(r.stderr).toContain('error: internal error: cannot read properties of undefined');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(1);
    const debug = await capture(() => runTask('boom', task, async () => [boom], ['-i', local]), { FRIDGE_DEBUG: '1' });
    expect(debug.stderr).toMatch(STACK_LINE);
  });
});

describe('a host that does not answer (#14)', () => {
  const two = path.join(dir, 'two.yaml');
  fs.writeFileSync(
    two,
    ['all:', '  vars: {fridge_model: "3B", fridge_image: a/b, ansible_connection: local}', '  children:', '    managers: {hosts: {m1: {}}}', '    workers: {hosts: {w1: {}}}', ''].join('\n'),
  );
  const ranOn: string[] = [];
  const step = (gone: string | undefined): Step<null> => ({
    name: 'look',
    async gather(ctx) {
      if (ctx.host.name === gone) throw new UnreachableError(ctx.host.name, 'connection to 10.0.0.2 lost');
      ranOn.push(ctx.host.name);
      return null;
    },
    plan: () => ({ kind: 'ok' }),
  });
  const phases = (gone: string | undefined): Phase[] => [
    { name: 'first', description: 'x', run: async (run) => void (await run.play({ name: 'first', steps: [step(gone)] })) },
    { name: 'second', description: 'x', run: async (run) => void (await run.play({ name: 'second', steps: [step(undefined)] })) },
  ];
  const task = { description: 'test', phaseNames: ['first', 'second'] };

  it('leaves the run, and the later phases go on with the others; the exit code says it (3)', async () => {
    ranOn.length = 0;
    const r = await capture(() => runTask('two', task, async () => phases('w1'), ['-i', two]));
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toContain('w1 did not answer in first: the later phases go on without it');
    expect(ranOn).toEqual(['m1', 'm1']);
  });

  it('the swarm manager that does not answer stops the run: nothing can act for it', async () => {
    ranOn.length = 0;
    const r = await capture(() => runTask('two', task, async () => phases('m1'), ['-i', two]));
    expect(r.code).toBe(3);
    expect(r.stdout + r.stderr).toContain('phase first did not succeed: later phases were not run');
    expect(ranOn).toEqual(['w1']);
  });
});

describe('--json: always exactly one document on stdout (item 11)', () => {
  it('after a bad option', async () => {
    const r = await capture(() => main('scale', ['--json', '--replicas', 'abc']));
    expect(r.code).toBe(5);
    expect(json(r.stdout)).toEqual({
      version: 1,
      ok: false,
      exitCode: 5,
      errors: [{ kind: 'options', message: "--replicas must be an integer from 1 to 1000, got 'abc'" }],
      phases: [],
      results: [],
      messages: [],
    });
  });

  it('after an option parseArgs refuses', async () => {
    const r = await capture(() => main('ping', ['--json', '--frobnicate']));
    expect(json(r.stdout)).toMatchObject({ ok: false, exitCode: 5, errors: [{ kind: 'options', message: expect.stringContaining("Unknown option '--frobnicate'") }] });
  });

  it('after inventory errors, each with file, line and col', async () => {
    const r = await capture(() => main('ping', ['--json', '-i', bad]));
    const doc = json(r.stdout);
    expect(doc.exitCode).toBe(4);
    expect(doc.errors.length).toBeGreaterThanOrEqual(2);
    expect(doc.errors).toContainEqual({ kind: 'inventory', message: expect.stringContaining('fridge_model'), file: bad, line: 3, col: expect.any(Number) });
    expect(doc.errors).toContainEqual({ kind: 'inventory', message: expect.stringContaining('ansible_host'), file: bad, line: 7, col: expect.any(Number) });
  });

  it('when there is no inventory at all', async () => {
    const r = await capture(() => main('ping', ['--json', '-i', path.join(dir, 'none.yaml')]));
    expect(json(r.stdout)).toMatchObject({ exitCode: 4, errors: [{ kind: 'inventory', file: path.join(dir, 'none.yaml'), line: 1, col: 1 }] });
  });

  it('after an internal error', async () => {
    const r = await capture(() => runTask('x', { description: '', phaseNames: ['x'] }, () => Promise.reject(new Error('bug here')), ['--json']));
    expect(json(r.stdout)).toMatchObject({ ok: false, exitCode: 1, errors: [{ kind: 'internal', message: 'internal error: bug here' }] });
  });

  it('after a run, with the recap and exit code', async () => {
    const r = await capture(() => main('ping', ['--json', '-i', local]));
    const doc = json(r.stdout);
    expect(doc).toMatchObject({ version: 1, ok: true, exitCode: 0, errors: [] });
    expect(doc.phases[0]?.recap).toEqual([{ host: 'pi1', ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: false }]);
    expect(r.code).toBe(0);
  });
});

describe('GitHub Actions annotations for inventory errors (item 13)', () => {
  it('writes ::error file=…,line=…,col=…:: for each error', async () => {
    const r = await capture(() => main('ping', ['-i', bad]), { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir });
    expect(r.code).toBe(4);
    const lines = r.stdout.split('\n');
    // The messages are the inventory loader's; what is asserted here is where they are attached.
    expect(lines.filter((l) => l.startsWith('::error file=bad.yaml,line=3,col=19::fridge_model: '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('::error file=bad.yaml,line=7,col=27::ansible_host: '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('::error file=bad.yaml,line=1,col=1::fridge_image is not set'))).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  it('annotates a bad option too', async () => {
    const r = await capture(() => main('scale', ['--replicas', 'abc']), { GITHUB_ACTIONS: 'true' });
    expect(r.stdout.split('\n')).toContain("::error::--replicas must be an integer from 1 to 1000, got 'abc'");
    expect(r.code).toBe(5);
  });
});

describe('-v / -vv (item 19)', () => {
  it('-v prints each command run per host', async () => {
    const r = await capture(() => main('ping', ['-i', local, '-v']));
    expect(r.stdout).toContain('[pi1] $ echo pong; uname -srm; hostname');
    expect(r.stdout).not.toContain('=> exit');
    expect(r.code).toBe(0);
  });

  it('-vv adds their output', async () => {
    const r = await capture(() => main('ping', ['-i', local, '-vv']));
    expect(r.stdout).toContain('[pi1]   => exit 0\n  | pong');
  });

  it('without -v, no command is shown', async () => {
    const r = await capture(() => main('ping', ['-i', local]));
    expect(r.stdout).not.toContain('$ echo pong');
  });
});

describe('colours (item 19)', () => {
  it.each([
    [false, {}, true, true],
    [false, {}, false, false],
    [true, {}, true, false],
    [false, { NO_COLOR: '1' }, true, false],
    [false, { NO_COLOR: '' }, true, true],
    [false, { FORCE_COLOR: '1' }, false, true],
    [false, { FORCE_COLOR: '0' }, true, false],
    [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, false, true],
    [true, { FORCE_COLOR: '1' }, true, false],
  ] as const)('--no-color=%s env=%j tty=%s → %s', (flag, env, tty, want) => {
    expect(useColor(flag, env, tty)).toBe(want);
  });
});

describe('Ctrl-C (item 19)', () => {
  const changing: Step<null> = {
    name: 'touch',
    gather: async () => null,
    plan: () => ({ kind: 'change', changes: [{ summary: 'touch', actions: [{ kind: 'call', label: 'touch', fn: async () => ({ ok: true }) }] }] }),
  };
  const interrupted: Phase = {
    name: 'long',
    description: 'changes a host, then waits forever',
    async run(run) {
      await run.play({ name: 'touch', steps: [changing] });
      process.emit('SIGINT');
      await new Promise(() => undefined);
    },
  };
  const task = { description: 'test', phaseNames: ['long'] };

  it('ends with exit 99, saying which hosts were changed', async () => {
    const r = await capture(() => runTask('long', task, async () => [interrupted], ['-i', local]));
    expect(r.code).toBe(99);
    expect(r.stdout).toContain('PLAY RECAP long');
    expect(r.stderr).toContain('error: interrupted (Ctrl-C): connections closed; hosts changed before the interruption: pi1');
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('in check mode says nothing was changed; under --json the document says interrupted', async () => {
    const r = await capture(() => runTask('long', task, async () => [interrupted], ['-i', local, '--check', '--json']));
    const doc = json(r.stdout);
    expect(doc).toMatchObject({ exitCode: 99, errors: [{ kind: 'interrupted', message: 'interrupted (Ctrl-C): connections closed; check mode: nothing was changed' }] });
    expect(doc.phases[0]?.recap[0]).toMatchObject({ host: 'pi1', changed: 1 });
  });
});
