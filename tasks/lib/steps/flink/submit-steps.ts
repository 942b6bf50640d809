// job-submit as steps, in the order a play runs them on the jobmanager's host. Flink's readiness comes first,
// in a play of its own: nothing (not even the jar) is prepared for a Flink that is not there.
import path from 'node:path';
import type { Run } from '../../engine/runner.ts';
import type { AnyStep, Step, WaitStep } from '../../engine/types.ts';
import type { SubmitDecision, SubmitRequest } from '../../flink/jobs.ts';
import { FlinkRest } from '../../flink/rest.ts';
import type { CliSubmitRequest } from '../../flink/submit-cli.ts';
import { jobmanagerReadyStep, restReadyStep, type Readiness } from './flink-ready.ts';
import { jarUploadedStep } from './jar-uploaded.ts';
import { leftoversStep } from './job-leftovers.ts';
import { cliJobRunningStep, restJobRunningStep, type JobLook } from './job-running.ts';
import type { JobOutcome } from './job-lines.ts';
import { cliSubmitStep, restSubmitStep, SUBMITTED, type SubmitFacts } from './job-submitted.ts';

export type SubmitTarget = { mode: 'rest'; restUrl: string } | { mode: 'cli'; stack: string; sudo: boolean; stagingDir?: string };

/** The steps after readiness, and the two the recap reads. */
export interface SubmitSteps {
  steps: AnyStep[];
  submit: Step<SubmitFacts, SubmitDecision | undefined>;
  running: WaitStep<JobLook>;
}

/** What the recap's job lines are made of, read from what the play recorded for `host` (pure but for reading). */
export function jobOutcome(
  run: Pick<Run, 'output' | 'statusOf'>,
  { submit, running }: Pick<SubmitSteps, 'submit' | 'running'>,
  host: string,
  o: { jarName: string; restUrl?: string; failure?: string },
): JobOutcome {
  const decision = run.output(submit, host);
  const submitStatus = run.statusOf(submit, host);
  const submitted = run.output(SUBMITTED, host);
  const look = run.output(running, host);
  const waitStatus = run.statusOf(running, host);
  return {
    jarName: o.jarName,
    ...(o.restUrl ? { restUrl: o.restUrl } : {}),
    ...(decision ? { decision } : {}),
    ...(submitStatus ? { submitStatus } : {}),
    ...(submitted ? { submitted } : {}),
    ...(look ? { look } : {}),
    ...(waitStatus ? { waitStatus } : {}),
    ...(o.failure ? { failure: o.failure } : {}),
  };
}

/** The jar's name as the user gave it (sensor-window.jar), for messages before it is read. */
export function jarFileName(jar: string): string {
  return path.basename(jar);
}

export function readyStep(target: SubmitTarget, jarName: string): WaitStep<Readiness> {
  return target.mode === 'rest' ? restReadyStep(target.restUrl, jarName) : jobmanagerReadyStep(target.stack, jarName, target.sudo);
}

/**
 * `cluster`: the address remembered savepoints are filed under. `ready`: the readiness step that ran before
 * (`flink run` mode reads the container it found).
 */
export function submitSteps(target: SubmitTarget, req: SubmitRequest, cluster: string, ready: WaitStep<Readiness>): SubmitSteps {
  const jarName = jarFileName(req.jar);
  const base = jarName.replace(/\.jar$/i, '');
  if (target.mode === 'rest') {
    const rest = new FlinkRest({ baseUrl: target.restUrl });
    const submit = restSubmitStep(rest, req);
    const running = restJobRunningStep(rest, base, req.startTimeoutMs);
    return { submit, running, steps: [jarUploadedStep(rest, req.jar, jarName), submit, running, leftoversStep({ rest, cluster, jarPath: req.jar, jarName: base })] };
  }
  const cli: CliSubmitRequest = { ...req, stack: target.stack, sudo: target.sudo, ...(target.stagingDir ? { stagingDir: target.stagingDir } : {}) };
  const submit = cliSubmitStep(cli);
  const container = (ctx: Parameters<WaitStep<Readiness>['poll']>[0]): string | undefined => {
    const r = ctx.output(ready);
    return r?.ok ? r.container : undefined;
  };
  const running = cliJobRunningStep(target.stack, container, base, target.sudo, req.startTimeoutMs);
  return { submit, running, steps: [submit, running, leftoversStep({ cluster, jarPath: req.jar, jarName: base })] };
}
