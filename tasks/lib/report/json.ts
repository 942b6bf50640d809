// --json: nothing but one JSON document on stdout at the end, for scripts.
import type { RunSummary, StepResult } from '../engine/types.ts';
import { mask } from '../secrets.ts';
import type { Reporter, ReportEvent } from './types.ts';

export class JsonReporter implements Reporter {
  private readonly results: StepResult[] = [];
  private readonly messages: Array<{ level: string; text: string; host?: string }> = [];
  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  emit(e: ReportEvent): void {
    if (e.kind === 'step-result') this.results.push(e.result);
    if (e.kind === 'unreachable') this.messages.push({ level: 'error', text: e.msg, host: e.host });
    if (e.kind === 'message') this.messages.push({ level: e.level, text: e.text, ...(e.host ? { host: e.host } : {}) });
  }

  async finish(summaries: RunSummary[]): Promise<void> {
    this.write(`${mask(JSON.stringify({ phases: summaries, results: this.results, messages: this.messages }, null, 2))}\n`);
  }
}
