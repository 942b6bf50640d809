// The small workflow runner the workflow tests rely on: expressions, GITHUB_ENV/GITHUB_OUTPUT, step order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { condition, evaluate, interpolate, type ExprScope } from '../support/github-expressions.ts';
import { parseCommandFile, runJob } from '../support/github-workflow-runner.ts';

const scope = (): ExprScope => ({
  context: {
    github: { ref: 'refs/heads/main', event_name: 'push', repository_owner: 'DigitalJazz' },
    vars: {},
    secrets: { TOKEN: 's3cret' },
    inputs: { replicas: 3, service: 'taskmanager' },
    steps: { meta: { outputs: { tags: 'a,b' } } },
  },
  failed: false,
  unresolved: new Set(),
});

describe('GitHub expressions', () => {
  it.each([
    ["github.ref == 'refs/heads/main' && github.event_name == 'push'", true],
    ["github.ref == 'refs/heads/main' && github.event_name == 'pull_request'", false],
    ["github.event_name != 'push'", false],
    ["vars.FRIDGE_IMAGE || format('docker.io/{0}/flink-fridge', github.repository_owner)", 'docker.io/DigitalJazz/flink-fridge'],
    ['inputs.replicas', 3],
    ["inputs['service']", 'taskmanager'],
    ['steps.meta.outputs.tags', 'a,b'],
    ["!(github.ref == 'refs/heads/dev')", true],
    ["contains(github.ref, 'MAIN')", true],
    ["startsWith(github.ref, 'refs/heads/')", true],
    ["'it''s'", "it's"],
  ])('%s → %j', (expr, want) => {
    expect(evaluate(expr, scope())).toEqual(want);
  });

  it('records paths that resolve to nothing, as GitHub would silently use an empty string', () => {
    const s = scope();
    expect(interpolate('x=${{ secrets.MISSING }} y=${{ secrets.TOKEN }}', s)).toBe('x= y=s3cret');
    expect([...s.unresolved]).toEqual(['secrets.MISSING']);
  });

  it('adds success() to conditions without a status function, as the runner does', () => {
    const s = { ...scope(), failed: true };
    expect(condition(undefined, s)).toBe(false);
    expect(condition("github.event_name == 'push'", s)).toBe(false);
    expect(condition('always()', s)).toBe(true);
    expect(condition('${{ failure() }}', s)).toBe(true);
  });

  it('rejects what it does not understand instead of guessing', () => {
    expect(() => evaluate('hashFiles("x")', scope())).toThrow(/unexpected/);
    expect(() => evaluate('fromJSON(x)', scope())).toThrow(/unsupported function fromJSON/);
  });
});

describe('workflow runner', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fridge-gh-runner-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses GITHUB_ENV and GITHUB_OUTPUT files, heredoc blocks included', () => {
    expect(parseCommandFile('A=1\nB<<EOF\nline 1\nline 2\nEOF\nC=x=y\n')).toEqual({ A: '1', B: 'line 1\nline 2', C: 'x=y' });
  });

  it('runs run steps in order with env, GITHUB_ENV, outputs and if: always() after a failure', async () => {
    const file = path.join(dir, 'wf.yml');
    writeFileSync(
      file,
      [
        'on: push',
        'env:',
        '  WF: from-workflow',
        'jobs:',
        '  j:',
        "    if: github.event_name == 'push'",
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/checkout@v6',
        '      - id: one',
        '        run: |',
        '          echo "SHARED=$WF-$STEP" >> "$GITHUB_ENV"',
        '          echo "answer=42" >> "$GITHUB_OUTPUT"',
        '        env:',
        '          STEP: ${{ inputs.service }}',
        '      - name: two',
        '        run: test "$SHARED" = from-workflow-taskmanager && test "${{ steps.one.outputs.answer }}" = 42 && exit 3',
        '      - name: skipped after a failure',
        '        run: echo never',
        '      - name: cleanup',
        '        if: always()',
        '        run: echo "cleaned $SHARED"',
      ].join('\n'),
    );
    const job = await runJob({ workflowFile: file, job: 'j', context: { github: { event_name: 'push' }, secrets: {}, vars: {}, inputs: { service: 'taskmanager' }, needs: {} }, workspace: dir, baseEnv: { PATH: process.env.PATH ?? '' } });
    expect(job.jobRuns).toBe(true);
    expect(job.steps.map((s) => [s.name, s.status, s.exitCode])).toEqual([
      ['Run actions/checkout@v6', 'skipped', undefined],
      ['step 2', 'success', 0],
      ['two', 'failure', 3],
      ['skipped after a failure', 'skipped', undefined],
      ['cleanup', 'success', 0],
    ]);
    expect(job.steps[4]!.output).toBe('cleaned from-workflow-taskmanager\n');
    expect(job.ok).toBe(false);
    rmSync(job.runnerTemp, { recursive: true, force: true });
  });

  it('refuses to run a script that still names a forbidden string', async () => {
    const file = path.join(dir, 'wf2.yml');
    writeFileSync(file, 'on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: npx zx tasks/deploy.mjs -i inventory/fridge.yaml\n');
    await expect(
      runJob({ workflowFile: file, job: 'j', context: { github: {}, secrets: {}, vars: {}, inputs: {}, needs: {} }, workspace: dir, baseEnv: {}, forbidden: ['inventory/fridge.yaml'] }),
    ).rejects.toThrow(/refusing to run step "step 1": it still names inventory\/fridge.yaml/);
  });
});
