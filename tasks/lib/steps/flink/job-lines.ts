// The recap's job lines, read from what the job-submit steps recorded and how they ended (pure): a `job:` line
// only when the job runs (or, a batch job, ran to the end), else a line saying why there is none.
import type { StepStatus } from '../../engine/types.ts';
import { jobUrl, type SubmitDecision } from '../../flink/jobs.ts';
import type { JobState } from '../../flink/rest.ts';
import type { JobLook } from './job-running.ts';
import type { Submitted } from './job-submitted.ts';

/** Output key saying why there is no `job:` line. */
export const NO_JOB = 'no running job';

export interface JobOutcome {
  /** The jar's file name, as the user named it. */
  jarName: string;
  /** Flink's REST address (REST mode): the job's web UI page is shown. */
  restUrl?: string;
  /** What the submit step decided (its output). */
  decision?: SubmitDecision;
  /** How the submit step ended. */
  submitStatus?: StepStatus;
  /** The job this command submitted. */
  submitted?: Submitted;
  /** The running wait's last look, and how it ended. */
  look?: JobLook;
  waitStatus?: StepStatus;
  /** The first failure of the play (or the host's unreachability). */
  failure?: string;
}

function jobRuns(state: JobState): boolean {
  return state === 'RUNNING' || state === 'FINISHED';
}

/** Why the recap has no `job:` line. `onlyPlanned`: the submission was decided but not made (check mode). */
export function missingJob(onlyPlanned: boolean, jarName: string, d: SubmitDecision | undefined, failure: string | undefined): string {
  if (failure) return `job-submit failed: ${failure.split('\n')[0]}`;
  if (onlyPlanned && d?.kind === 'submit') return `check mode: ${jarName} would be submitted`;
  if (onlyPlanned && d?.kind === 'upgrade') return `check mode: ${d.job.name} would be upgraded to ${jarName} through a savepoint`;
  return 'no job was submitted';
}

export function jobLines(o: JobOutcome): Record<string, string> {
  const lines: Record<string, string> = {};
  const web = (jobId: string): void => {
    if (o.restUrl) lines['web UI'] = jobUrl(o.restUrl, jobId);
  };
  if (o.submitted) {
    lines['job id'] = o.submitted.jobId;
    const look = o.look;
    if (o.waitStatus === 'ok' && look?.kind === 'read' && jobRuns(look.state)) {
      lines.job = `${look.name} (${look.state})`;
      web(o.submitted.jobId);
      if (o.submitted.previous) lines['savepoint of the previous version'] = o.submitted.previous;
    }
  } else if (o.decision?.kind === 'running') {
    const job = o.decision.job;
    lines['job id'] = job.jid;
    if (jobRuns(job.state)) {
      lines.job = `${job.name} (${job.state})`;
      web(job.jid);
    } else {
      lines[NO_JOB] = `${job.name} is ${job.state}`;
    }
  }
  if (!lines.job && !lines[NO_JOB]) lines[NO_JOB] = missingJob(o.submitStatus === 'changed' && !o.submitted, o.jarName, o.decision, o.failure);
  return lines;
}
