// The GitHub reporter as the runner sees it: exact workflow-command lines on stdout and the job summary file,
// in the manner of actions/toolkit's own tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunSummary } from '../../tasks/lib/engine/types.ts';
import { githubReporter, isGithubActions } from '../../tasks/lib/report/github.ts';
import { registerSecret } from '../../tasks/lib/secrets.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fridge-gh-report-'));
const summaryFile = path.join(dir, 'step-summary.md');
const workspace = '/work/repo';
let out: string[] = [];
const savedEnv = { ...process.env };

beforeAll(() => {
  // @actions/core caches the summary path on first use: one file for the whole test file.
  process.env.GITHUB_STEP_SUMMARY = summaryFile;
});
afterAll(() => {
  process.env = savedEnv;
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  writeFileSync(summaryFile, '');
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const lines = (): string[] => out.join('').split('\n').filter((l) => l !== '');

const summary: RunSummary = {
  phase: 'pi-setup',
  check: false,
  durationMs: 1200,
  recap: [
    { host: 'pi1', ok: 5, changed: 2, failed: 0, skipped: 1, unreachable: false },
    { host: 'pi2', ok: 3, changed: 0, failed: 1, skipped: 0, unreachable: false, firstError: 'apt-get exited 100: <E: lock held>' },
    { host: 'pi3', ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: true, firstError: 'connect ETIMEDOUT' },
  ],
  outputs: { 'Flink UI': 'http://10.77.0.11:8081' },
};

describe('github reporter', () => {
  it('is chosen only when GITHUB_ACTIONS is "true"', () => {
    expect(isGithubActions({ GITHUB_ACTIONS: 'true' })).toBe(true);
    expect(isGithubActions({ GITHUB_ACTIONS: 'false' })).toBe(false);
    expect(isGithubActions({})).toBe(false);
  });

  it('groups a phase, annotates failures with file and line, and prints the recap', async () => {
    const r = githubReporter({ workspace });
    r.emit({ kind: 'phase-start', phase: 'pi-setup', check: false, hosts: ['pi1', 'pi2', 'pi3'] });
    r.emit({ kind: 'play-start', play: 'base packages', hosts: ['pi1', 'pi2'] });
    r.emit({ kind: 'step-result', result: { host: 'pi1', step: 'hostname', status: 'changed', changes: ['set hostname raspberrypi → pi1'], durationMs: 3 } });
    r.emit({ kind: 'step-result', result: { host: 'pi1', step: 'packages', status: 'ok', durationMs: 3 } });
    r.emit({ kind: 'step-result', result: { host: 'pi2', step: 'packages', status: 'failed', msg: 'apt-get exited 100: E: lock held', durationMs: 3 } });
    r.emit({ kind: 'unreachable', host: 'pi3', msg: 'connect ETIMEDOUT' });
    r.emit({ kind: 'message', level: 'error', text: 'unknown key fridge_lables', file: '/work/repo/inventory/fridge.yaml', line: 12, col: 7 });
    r.emit({ kind: 'message', level: 'warning', text: 'model 3B has 1 GiB: Flink memory shrunk', host: 'pi1', file: 'inventory/fridge.yaml', line: 4 });
    r.emit({ kind: 'message', level: 'info', text: 'using 3 forks' });
    r.emit({ kind: 'phase-end', summary });
    await r.finish([summary]);

    expect(lines()).toEqual([
      '::group::pi-setup on pi1, pi2, pi3',
      'PLAY [base packages] pi1, pi2',
      'changed: [pi1] hostname => set hostname raspberrypi → pi1',
      'ok: [pi1] packages',
      'failed: [pi2] packages => apt-get exited 100: E: lock held',
      '::error title=pi-setup%3A packages::[pi2] packages: apt-get exited 100: E: lock held',
      '::error title=pi-setup%3A unreachable host::[pi3] unreachable: connect ETIMEDOUT',
      '::error file=inventory/fridge.yaml,line=12,col=7::unknown key fridge_lables',
      '::warning file=inventory/fridge.yaml,line=4::[pi1] model 3B has 1 GiB: Flink memory shrunk',
      'using 3 forks',
      '::endgroup::',
      // The recap in the log is the console reporter's, after the group so it is visible without expanding.
      'PLAY RECAP pi-setup *****************************************************',
      'pi1  : ok=5 changed=2 unreachable=0 failed=0 skipped=1',
      'pi2  : ok=3 changed=0 unreachable=0 failed=1 skipped=0',
      '       first error: apt-get exited 100: <E: lock held>',
      'pi3  : ok=0 changed=0 unreachable=1 failed=0 skipped=0',
      '       first error: connect ETIMEDOUT',
      'Flink UI: http://10.77.0.11:8081',
    ]);

    const md = readFileSync(summaryFile, 'utf8');
    expect(md).toContain('<h3>pi-setup</h3>');
    expect(md).toContain(
      '<table><tr><th>host</th><th>ok</th><th>changed</th><th>failed</th><th>skipped</th><th>unreachable</th></tr>' +
        '<tr><td>pi1</td><td>5</td><td>2</td><td>0</td><td>1</td><td>no</td></tr>' +
        '<tr><td>pi2</td><td>3</td><td>0</td><td>1</td><td>0</td><td>no</td></tr>' +
        '<tr><td>pi3</td><td>0</td><td>0</td><td>0</td><td>0</td><td>yes</td></tr></table>',
    );
    // Host output is HTML-escaped: the summary is rendered as HTML.
    expect(md).toContain('<li>pi2: apt-get exited 100: &lt;E: lock held&gt;</li>');
    expect(md).toContain('<li>pi3: connect ETIMEDOUT</li>');
    expect(md).toContain('<tr><td>Flink UI</td><td>http://10.77.0.11:8081</td></tr>');
  });

  it('marks check mode in the group title, the recap and the summary', async () => {
    const r = githubReporter({ workspace });
    const checked: RunSummary = { ...summary, phase: 'swarm', check: true, recap: [summary.recap[0]!], outputs: {} };
    r.emit({ kind: 'phase-start', phase: 'swarm', check: true, hosts: ['pi1'] });
    r.emit({ kind: 'phase-end', summary: checked });
    await r.finish([checked]);
    expect(lines()).toEqual([
      '::group::swarm (check mode) on pi1',
      '::endgroup::',
      'PLAY RECAP swarm (check mode: nothing was changed) **********************',
      'pi1  : ok=5 changed=2 unreachable=0 failed=0 skipped=1',
    ]);
    expect(readFileSync(summaryFile, 'utf8')).toContain('<h3>swarm (check mode)</h3>');
  });

  it('prints file diffs of a changed step with --diff only', () => {
    const result = {
      host: 'pi1',
      step: 'cmdline.txt',
      status: 'changed' as const,
      changes: ['enable memory cgroup'],
      diffs: [{ path: '/boot/firmware/cmdline.txt', before: 'console=tty1\n', after: 'console=tty1 cgroup_memory=1\n' }],
      durationMs: 1,
    };
    githubReporter({ workspace }).emit({ kind: 'step-result', result });
    const withoutDiff = lines().filter((l) => !l.startsWith('::add-mask::'));
    out = [];
    githubReporter({ workspace, diff: true }).emit({ kind: 'step-result', result });
    const withDiff = lines().filter((l) => !l.startsWith('::add-mask::'));
    expect(withoutDiff).toEqual(['changed: [pi1] cmdline.txt => enable memory cgroup']);
    expect(withDiff).toEqual([
      'changed: [pi1] cmdline.txt => enable memory cgroup',
      '===================================================================',
      '--- /boot/firmware/cmdline.txt (before)',
      '+++ /boot/firmware/cmdline.txt (after)',
      '@@ -1,1 +1,1 @@',
      '-console=tty1',
      '+console=tty1 cgroup_memory=1',
    ]);
  });

  it('masks secrets: registered before or after the reporter, in the log and in the summary', async () => {
    registerSecret('early-registry-token-123');
    const r = githubReporter({ workspace });
    registerSecret('SWMTKN-1-late-join-token');
    r.emit({ kind: 'phase-start', phase: 'swarm', check: false, hosts: ['pi1'] });
    r.emit({
      kind: 'step-result',
      result: { host: 'pi2', step: 'join', status: 'failed', msg: 'docker swarm join --token SWMTKN-1-late-join-token failed', durationMs: 1 },
    });
    const failed: RunSummary = {
      ...summary,
      phase: 'swarm',
      recap: [{ host: 'pi2', ok: 0, changed: 0, failed: 1, skipped: 0, unreachable: false, firstError: 'login with early-registry-token-123 refused' }],
      outputs: {},
    };
    r.emit({ kind: 'phase-end', summary: failed });
    await r.finish([failed]);

    const text = lines();
    expect(text).toContain('::add-mask::early-registry-token-123');
    expect(text).toContain('::add-mask::SWMTKN-1-late-join-token');
    expect(text).toContain('::error title=swarm%3A join::[pi2] join: docker swarm join --token *** failed');
    // Outside the ::add-mask:: commands themselves, no secret is ever printed.
    const rest = text.filter((l) => !l.startsWith('::add-mask::')).join('\n');
    expect(rest).not.toContain('SWMTKN-1-late-join-token');
    const md = readFileSync(summaryFile, 'utf8');
    expect(md).toContain('<li>pi2: login with *** refused</li>');
    expect(md).not.toContain('early-registry-token-123');
  });

  it('closes a group left open and skips the summary when there is no summary file', async () => {
    const saved = process.env.GITHUB_STEP_SUMMARY;
    delete process.env.GITHUB_STEP_SUMMARY;
    try {
      const r = githubReporter({ workspace });
      r.emit({ kind: 'phase-start', phase: 'status', check: false, hosts: ['pi1'] });
      await r.finish([]);
      // Secrets registered by earlier tests are replayed as ::add-mask:: first; the rest is the group alone.
      expect(lines().filter((l) => !l.startsWith('::add-mask::'))).toEqual(['::group::status on pi1', '::endgroup::']);
    } finally {
      process.env.GITHUB_STEP_SUMMARY = saved;
    }
  });
});
