// The reporter used inside GitHub Actions (GITHUB_ACTIONS=true): phases become collapsible log groups,
// failures and warnings become annotations (on the inventory's file/line when the event has one),
// the recap goes into the job summary, and every registered secret is masked by the runner too.
// This is the only module that imports @actions/core; setting the exit code stays with the CLI.

import path from 'node:path';
import * as core from '@actions/core';
import { createTwoFilesPatch } from 'diff';
import type { AnnotationProperties } from '@actions/core';
import type { HostRecap, RunSummary } from '../engine/types.ts';
import { mask, onSecret } from '../secrets.ts';
import { formatRecap, formatResult } from './console.ts';
import type { ReportEvent, Reporter } from './types.ts';

export interface GithubReporterOptions {
  /** Annotation paths are made relative to this directory (GitHub only attaches annotations to repo paths). */
  workspace?: string;
  /** Print file diffs of changed steps (--diff). */
  diff?: boolean;
}

export function isGithubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

type SummaryTableRow = Parameters<typeof core.summary.addTable>[0][number];

const RECAP_HEADER = ['host', 'ok', 'changed', 'failed', 'skipped', 'unreachable'] as const;

export function githubReporter(options: GithubReporterOptions = {}): Reporter {
  const workspace = options.workspace ?? process.env.GITHUB_WORKSPACE ?? process.cwd();
  let phase: string | undefined;
  let groupOpen = false;

  // The runner masks a value only after ::add-mask::, so secrets registered before this reporter existed
  // are replayed by onSecret as well.
  onSecret((value) => core.setSecret(value));

  const closeGroup = (): void => {
    if (groupOpen) core.endGroup();
    groupOpen = false;
  };

  const where = (file: string | undefined, line: number | undefined, col: number | undefined): AnnotationProperties => {
    const props: AnnotationProperties = {};
    if (file) props.file = annotationPath(file, workspace);
    if (file && line !== undefined) props.startLine = line;
    if (file && line !== undefined && col !== undefined) props.startColumn = col;
    return props;
  };

  const title = (extra: string): AnnotationProperties => ({ title: mask(phase ? `${phase}: ${extra}` : extra) });

  return {
    emit(event: ReportEvent): void {
      switch (event.kind) {
        case 'phase-start':
          closeGroup();
          phase = event.phase;
          core.startGroup(mask(`${event.phase}${event.check ? ' (check mode)' : ''} on ${event.hosts.join(', ')}`));
          groupOpen = true;
          return;
        case 'play-start':
          core.info(mask(`PLAY [${event.play}] ${event.hosts.join(', ')}`));
          return;
        case 'step-result':
          core.info(mask(formatResult(event.result)));
          if (options.diff) {
            for (const d of event.result.diffs ?? []) core.info(mask(createTwoFilesPatch(`${d.path} (before)`, `${d.path} (after)`, d.before, d.after)));
          }
          if (event.result.status === 'failed') {
            core.error(mask(`[${event.result.host}] ${event.result.step}: ${event.result.msg ?? 'failed'}`), title(event.result.step));
          }
          return;
        case 'unreachable':
          core.error(mask(`[${event.host}] unreachable: ${event.msg}`), title('unreachable host'));
          return;
        case 'message': {
          const text = mask(event.host ? `[${event.host}] ${event.text}` : event.text);
          const props = where(event.file, event.line, event.col);
          if (event.level === 'error') core.error(text, props);
          else if (event.level === 'warning') core.warning(text, props);
          else core.info(text);
          return;
        }
        case 'phase-end':
          closeGroup();
          for (const line of formatRecap(event.summary)) core.info(mask(line));
          phase = undefined;
          return;
        case 'step-start':
        case 'progress':
          // A log cannot be redrawn: withHeartbeat (progress.ts) prints what still runs every 30 s instead.
          return;
        default: {
          const unknown: never = event;
          throw new Error(`bug: unhandled report event ${JSON.stringify(unknown)}`);
        }
      }
    },

    async finish(summaries: RunSummary[]): Promise<void> {
      closeGroup();
      // Outside a job (a local run with GITHUB_ACTIONS=true) there is no summary file: the log has the recap.
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      for (const s of summaries) addRunSummary(s);
      await core.summary.write();
    },
  };
}

/** Job-summary HTML: addTable inserts cell text as is, so everything from a host is escaped here. */
function addRunSummary(s: RunSummary): void {
  const header: SummaryTableRow = RECAP_HEADER.map((h) => ({ data: h, header: true }));
  const rows: SummaryTableRow[] = s.recap.map((h) => recapRow(h));
  core.summary.addHeading(html(`${s.phase}${s.check ? ' (check mode)' : ''}`), 3).addTable([header, ...rows]);

  const errors = s.recap.filter((h) => h.firstError).map((h) => `${html(h.host)}: ${html(h.firstError ?? '')}`);
  if (errors.length > 0) core.summary.addRaw('First error per host:', true).addList(errors);

  const outputs = Object.entries(s.outputs);
  if (outputs.length > 0) {
    core.summary.addTable([
      [
        { data: 'output', header: true },
        { data: 'value', header: true },
      ],
      ...outputs.map(([k, v]): SummaryTableRow => [html(k), html(v)]),
    ]);
  }
}

function recapRow(h: HostRecap): SummaryTableRow {
  return [html(h.host), String(h.ok), String(h.changed), String(h.failed), String(h.skipped), h.unreachable ? 'yes' : 'no'];
}

function html(text: string): string {
  return mask(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function annotationPath(file: string, workspace: string): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(workspace, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
}
