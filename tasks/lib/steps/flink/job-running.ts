// After a submission: wait until the job really runs. Over REST a streaming job counts as running once every
// task runs (the job's own state says RUNNING as soon as it is scheduled, before its tasks could fail); `flink
// run` sees only the job's state. A batch job that FINISHED ran. A job that fails or does not get there in time
// is reported with its root exception, when Flink has one.
import type { HostContext, Plan, WaitStep, WaitVerdict } from '../../engine/types.ts';
import { DEFAULT_START_TIMEOUT_MS, type JobReading, type SubmitDecision } from '../../flink/jobs.ts';
import { isTerminal, type FlinkRest } from '../../flink/rest.ts';
import { readJobCli } from '../../flink/submit-cli.ts';
import { describeTasks, readJob, rootCause } from '../../flink/submit-rest.ts';
import { fail, ok, skip, unmet } from '../common.ts';
import { SUBMIT_DECISION, SUBMITTED } from './job-submitted.ts';

/** One look: nothing was submitted in this command (with what the submit step decided), or the submitted job. */
export type JobLook = { kind: 'none'; decision: SubmitDecision | undefined } | (JobReading & { jobId: string; previous?: string });

interface Reader {
  read(ctx: HostContext, jobId: string): Promise<JobReading>;
  /** Every task running (REST), or the job's state alone (`flink run`). */
  tasksSeen: boolean;
  /** Where the root exception is, when the reader cannot fetch it. */
  causeHint?: (jobId: string) => string;
  cause?: (jobId: string) => Promise<{ message: string; stacktrace: string } | undefined>;
}

/** Pure: what one look means. */
export function jobVerdict(look: JobLook, tasksSeen: boolean, causeHint?: (jobId: string) => string): WaitVerdict {
  if (look.kind === 'none') return { kind: 'done' };
  if (look.kind === 'unread') return look.final ? { kind: 'failed', why: look.msg } : { kind: 'waiting', state: look.msg };
  const { name, state, tasks } = look;
  if (state === 'FINISHED') return { kind: 'done' };
  if (isTerminal(state)) {
    const cause = look.rootCause ? `: ${look.rootCause.message}` : causeHint ? `: ${causeHint(look.jobId)}` : '';
    return { kind: 'failed', why: `job ${name} ${state}${cause}` };
  }
  if (!tasksSeen) return state === 'RUNNING' ? { kind: 'done' } : { kind: 'waiting', state: `job ${name} ${state}` };
  if (state === 'RUNNING' && tasks && tasks.total > 0 && tasks.running + tasks.finished === tasks.total) return { kind: 'done' };
  return { kind: 'waiting', state: `job ${name} ${state}, tasks: ${tasks ? describeTasks(tasks) : 'not reported'}` };
}

/** The first lines of a Java stack trace: enough to see where, not a page of frames. */
function traceHead(stacktrace: string | undefined): string {
  return stacktrace ? `\n${stacktrace.split('\n').slice(0, 12).join('\n')}` : '';
}

function jobRunningStep(name: string, timeoutMs: number, intervalMs: number, r: Reader): WaitStep<JobLook> {
  return {
    kind: 'wait',
    name,
    timeoutMs,
    intervalMs,
    async poll(ctx) {
      const s = ctx.output(SUBMITTED);
      if (!s) return { kind: 'none', decision: ctx.output(SUBMIT_DECISION) };
      const look = await r.read(ctx, s.jobId);
      return { ...look, jobId: s.jobId, ...(s.previous ? { previous: s.previous } : {}) };
    },
    verdict: (look) => jobVerdict(look, r.tasksSeen, r.causeHint),
    async explain(look) {
      if (look.kind === 'none' || !r.cause) return '';
      const c = await r.cause(look.jobId);
      return c ? `${c.message}\n${c.stacktrace}` : '';
    },
    conclude(end, _ctx, explanation): Plan {
      const look = end.state;
      if (look.kind === 'none') {
        const d = look.decision;
        if (d?.kind === 'running') return skip(`nothing submitted: ${d.job.name} is ${d.job.state}`);
        // A real run records the job it submitted, or its submit step failed and this one does not run.
        return unmet('no job was submitted', 'check mode: once submitted, this step waits until the job runs');
      }
      const took = `${(end.waitedMs / 1000).toFixed(1)} s`;
      const previous = look.previous ? `\nthe previous version was stopped; its savepoint is ${look.previous}` : '';
      switch (end.kind) {
        case 'done':
          return ok(look.kind === 'read' ? `${look.name} ${look.state.toLowerCase()} (after ${took})` : `done after ${took}`);
        case 'notYet':
          return skip(`not yet; a real run would wait: ${end.why}`);
        case 'failed':
          return fail(`${end.why}${previous}${traceHead(look.kind === 'read' ? look.rootCause?.stacktrace : undefined)}`);
        case 'timedOut': {
          const [message, ...trace] = explanation.split('\n');
          return fail(`job ${look.jobId} did not start: ${end.why}${message ? `: ${message}` : ''}${previous}${traceHead(trace.join('\n') || undefined)}`);
        }
      }
    },
  };
}

/** Over REST: every task running. */
export function restJobRunningStep(rest: FlinkRest, jarName: string, timeoutMs = DEFAULT_START_TIMEOUT_MS): WaitStep<JobLook> {
  return jobRunningStep(`${jarName} running`, timeoutMs, 500, {
    read: (_, jobId) => readJob(rest, jobId),
    tasksSeen: true,
    cause: (jobId) => rootCause(rest, jobId),
  });
}

/** With `flink run`: the job's state in `flink list -a`. */
export function cliJobRunningStep(stack: string, container: (ctx: HostContext) => string | undefined, jarName: string, sudo: boolean, timeoutMs = DEFAULT_START_TIMEOUT_MS): WaitStep<JobLook> {
  return jobRunningStep(`${jarName} running`, timeoutMs, 2_000, {
    read: async (ctx, jobId) => {
      const cid = container(ctx);
      return cid ? readJobCli(ctx.transport, cid, jobId, sudo) : { kind: 'unread', msg: `no running container named ${stack}_jobmanager on ${ctx.transport.host}`, final: true };
    },
    tasksSeen: false,
    causeHint: (jobId) => `its root exception is in the web UI or GET /jobs/${jobId}/exceptions`,
  });
}
