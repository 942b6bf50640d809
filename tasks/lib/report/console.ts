// Ansible-style console output: a line per host per step while it runs, then PLAY RECAP.
import { createTwoFilesPatch } from 'diff';
import type { RunSummary, StepResult } from '../engine/types.ts';
import { mask } from '../secrets.ts';
import type { Reporter, ReportEvent } from './types.ts';

export interface ConsoleOptions {
  diff: boolean;
  color: boolean;
  write?: (line: string) => void;
}

const COLORS = { ok: 32, changed: 33, failed: 31, skipped: 36, unreachable: 31, warning: 35, info: 0, error: 31 } as const;

function banner(text: string): string {
  return `${text} ${'*'.repeat(Math.max(3, 72 - text.length))}`;
}

export function formatResult(r: StepResult): string {
  const label = r.status === 'failed' ? 'failed' : r.status;
  const detail = r.status === 'changed' && r.changes?.length ? ` => ${r.changes.join('; ')}` : r.msg ? ` => ${r.msg}` : '';
  return `${label}: [${r.host}] ${r.step}${detail}`;
}

export function formatRecap(summary: RunSummary): string[] {
  const width = Math.max(4, ...summary.recap.map((h) => h.host.length));
  const lines = [banner(`PLAY RECAP ${summary.phase}${summary.check ? ' (check mode: nothing was changed)' : ''}`)];
  for (const h of summary.recap) {
    lines.push(
      `${h.host.padEnd(width)} : ok=${h.ok} changed=${h.changed} unreachable=${h.unreachable ? 1 : 0} failed=${h.failed} skipped=${h.skipped}` +
        (h.firstError ? `\n${' '.repeat(width)}   first error: ${h.firstError.split('\n')[0]}` : ''),
    );
  }
  for (const [k, v] of Object.entries(summary.outputs)) lines.push(`${k}: ${v}`);
  return lines;
}

export class ConsoleReporter implements Reporter {
  private readonly write: (line: string) => void;
  constructor(private readonly opts: ConsoleOptions) {
    this.write = opts.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  private out(text: string, color: number = 0): void {
    const masked = mask(text);
    this.write(this.opts.color && color ? `\u001b[${color}m${masked}\u001b[0m` : masked);
  }

  emit(e: ReportEvent): void {
    switch (e.kind) {
      case 'phase-start':
        this.out(banner(`PHASE [${e.phase}]${e.check ? ' (check mode)' : ''}`));
        break;
      case 'play-start':
        this.out(banner(`PLAY [${e.play}] ${e.hosts.length ? `(${e.hosts.join(', ')})` : '(no hosts)'}`));
        break;
      case 'step-result':
        this.out(formatResult(e.result), COLORS[e.result.status]);
        if (this.opts.diff) for (const d of e.result.diffs ?? []) this.out(createTwoFilesPatch(`${d.path} (before)`, `${d.path} (after)`, d.before, d.after));
        break;
      case 'unreachable':
        this.out(`unreachable: [${e.host}] => ${e.msg}`, COLORS.unreachable);
        break;
      case 'message': {
        const where = e.file ? `${e.file}:${e.line ?? 0}:${e.col ?? 0}: ` : e.host ? `[${e.host}] ` : '';
        this.out(`${e.level === 'info' ? '' : `${e.level}: `}${where}${e.text}`, COLORS[e.level]);
        break;
      }
      case 'phase-end':
        for (const line of formatRecap(e.summary)) this.out(line);
        break;
    }
  }

  async finish(): Promise<void> {}
}
