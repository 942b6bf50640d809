// The job runs this jar: facts are the jobs Flink knows; the pure decision (flink/jobs.ts) is nothing to do, a
// submission (from a savepoint when one is given), an upgrade through a savepoint, or a conflict. What a
// submission makes, the new job's id, is recorded for the wait that follows and for the recap.
import { outputKey } from '../../engine/outputs.ts';
import type { CallOutcome, HostContext, Plan, Step } from '../../engine/types.ts';
import { decisionFor, jarIdentity, type JarIdentity, type JobRef, type SubmitDecision, type SubmitRequest } from '../../flink/jobs.ts';
import type { FlinkRest } from '../../flink/rest.ts';
import { findJobmanager, listJobs, runJarCli, stopWithSavepointCli, type CliSubmitRequest } from '../../flink/submit-cli.ts';
import { startJob } from '../../flink/submit-rest.ts';
import { change, fail, ok } from '../common.ts';

export interface Submitted {
  jobId: string;
  /** An upgrade: the savepoint the previous version was stopped with. */
  previous?: string;
}

/** Recorded (for the jobmanager's host) by the submission's call. */
export const SUBMITTED = outputKey<Submitted>('flink.submitted');
/** What the submit step decided; undefined when it could not read the jobs. */
export const SUBMIT_DECISION = outputKey<SubmitDecision | undefined>('flink.submitDecision');

export type SubmitFacts = { ok: true; jar: JarIdentity; jobs: JobRef[]; container?: string } | { ok: false; msg: string };

type Start = { ok: true; jobId: string } | { ok: false; msg: string };
/** Stops the running older version with a savepoint; its location. */
type Stop = { ok: true; savepoint: string } | { ok: false; msg: string };

/** How a mode starts and stops jobs; the calls a plan carries. */
interface Mechanics {
  start(ctx: HostContext, savepoint: string | undefined): Promise<Start>;
  stop(ctx: HostContext, job: JobRef): Promise<Stop>;
}

/** Pure: the decision as the runner's plan; `apply` is the call that carries it out. */
export function planFromDecision(d: SubmitDecision, jarName: string, apply: (ctx: HostContext) => Promise<CallOutcome>): Plan {
  switch (d.kind) {
    case 'running':
      return ok(`${d.job.name} already ${d.job.state.toLowerCase()} (${d.job.jid})`);
    case 'conflict':
      return fail(d.msg);
    case 'submit':
      return change({ summary: `submit ${jarName}`, actions: [{ kind: 'call', label: `submit ${jarName}`, fn: apply }] });
    case 'upgrade':
      return change({ summary: `upgrade ${d.job.name} (${d.job.jid}) to this jar through a savepoint`, actions: [{ kind: 'call', label: `upgrade ${d.job.name}`, fn: apply }] });
  }
}

/** The call for a decision: start (or stop the older version, then start from its savepoint), and record the job. */
function submission(d: SubmitDecision, req: SubmitRequest, how: Mechanics): (ctx: HostContext) => Promise<CallOutcome> {
  return async (ctx) => {
    if (d.kind === 'upgrade') {
      const sp = await how.stop(ctx, d.job);
      if (!sp.ok) return { ok: false, msg: sp.msg };
      const started = await how.start(ctx, sp.savepoint);
      if (!started.ok) return { ok: false, msg: `${started.msg}\nthe previous version was stopped; its savepoint is ${sp.savepoint}` };
      ctx.record(SUBMITTED, { jobId: started.jobId, previous: sp.savepoint });
      return { ok: true, output: `job ${started.jobId} from the savepoint of ${d.job.name}: ${sp.savepoint}` };
    }
    const started = await how.start(ctx, req.fromSavepoint);
    if (!started.ok) return { ok: false, msg: started.msg };
    ctx.record(SUBMITTED, { jobId: started.jobId });
    return { ok: true, output: `job ${started.jobId}${req.fromSavepoint ? ` from savepoint ${req.fromSavepoint}` : ''}` };
  };
}

function submitStep(name: string, req: SubmitRequest, gather: (ctx: HostContext) => Promise<SubmitFacts>, mechanics: (f: Extract<SubmitFacts, { ok: true }>) => Mechanics): Step<SubmitFacts, SubmitDecision | undefined> {
  const decide = (f: SubmitFacts): SubmitDecision | undefined => (f.ok ? decisionFor(f.jobs, f.jar, req) : undefined);
  return {
    name,
    gather,
    output: decide,
    key: SUBMIT_DECISION,
    plan(f) {
      if (!f.ok) return fail(f.msg);
      const d = decisionFor(f.jobs, f.jar, req);
      return planFromDecision(d, f.jar.name, submission(d, req, mechanics(f)));
    },
  };
}

async function identity(jarPath: string): Promise<{ ok: true; jar: JarIdentity } | { ok: false; msg: string }> {
  try {
    return { ok: true, jar: await jarIdentity(jarPath) };
  } catch (err) {
    return { ok: false, msg: `cannot read ${jarPath}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Through the REST API, from this machine. */
export function restSubmitStep(rest: FlinkRest, req: SubmitRequest): Step<SubmitFacts, SubmitDecision | undefined> {
  return submitStep(
    `job-submit (REST ${rest.baseUrl})`,
    req,
    async () => {
      const id = await identity(req.jar);
      if (!id.ok) return id;
      const jobs = await rest.jobs();
      if (!jobs.ok) return { ok: false, msg: jobs.message };
      return { ok: true, jar: id.jar, jobs: jobs.value.map((j) => ({ jid: j.jid, name: j.name, state: j.state })) };
    },
    (f) => ({
      start: (_, savepoint) => startJob(rest, req, f.jar, savepoint),
      async stop(_, job) {
        // The decision is an upgrade only when a savepoint directory was given.
        const sp = await rest.stopWithSavepoint(job.jid, req.savepointDir ?? '');
        return sp.ok ? { ok: true, savepoint: sp.value } : { ok: false, msg: `could not stop ${job.name} with a savepoint: ${sp.message}` };
      },
    }),
  );
}

/** With `flink run` inside the jobmanager's container, on the host the play runs on. */
export function cliSubmitStep(req: CliSubmitRequest): Step<SubmitFacts, SubmitDecision | undefined> {
  const sudo = req.sudo === true;
  return submitStep(
    `job-submit (flink run in ${req.stack}_jobmanager)`,
    req,
    async ({ transport }) => {
      const cid = await findJobmanager(transport, req.stack, sudo);
      if (!cid.ok) return { ok: false, msg: cid.message };
      const id = await identity(req.jar);
      if (!id.ok) return id;
      const jobs = await listJobs(transport, cid.value, sudo);
      if (!jobs.ok) return { ok: false, msg: jobs.message };
      return { ok: true, jar: id.jar, jobs: jobs.value, container: cid.value };
    },
    (f) => {
      const cid = f.container ?? '';
      return {
        start: ({ transport }, savepoint) => runJarCli(transport, cid, req, f.jar, savepoint),
        stop: ({ transport }, job) => stopWithSavepointCli(transport, cid, req.savepointDir ?? '', job, sudo),
      };
    },
  );
}
