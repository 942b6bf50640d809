// A stack update restarts Flink: running jobs are kept by stopping them with a savepoint first (job-submit
// resumes them from it). Only when the stack changes: an unchanged stack, or nothing deployed yet, stops nothing.
import { flinkUrls } from '../../deploy/endpoints.ts';
import { rememberStopped, savepointDir, STOPPED_JOBS, stopJob, type StoppedJob } from '../../deploy/savepoints.ts';
import type { Change, Step } from '../../engine/types.ts';
import { FlinkRest, type JobSummary } from '../../flink/rest.ts';
import type { Inventory } from '../../inventory/types.ts';
import { change, ok } from '../common.ts';
import { DEPLOYED_STACK, readDeployedStack, type DeployedFacts } from './deployed.ts';

export interface StopJobsFacts {
  deployed: DeployedFacts;
  /** The jobs RUNNING now; read only when the stack is about to change, none when Flink does not answer (no cluster yet). */
  running: Array<Pick<JobSummary, 'jid' | 'name'>>;
}

export interface StopJobsDeps {
  rest?: FlinkRest;
  /** Kept on disk as each job stops (savepoints.ts rememberStopped): a later run still resumes it. */
  remember?: (stopped: StoppedJob[]) => void;
}

export const STOP_JOBS_STEP = 'stop jobs with savepoint';

/**
 * On the leader, before the deploy. `digest`: what the stack being deployed gives (deploy.ts stackDigest).
 * Its output is the deployed stack as read here, for `docker stack deploy` (read once); the jobs it stopped are
 * recorded under STOPPED_JOBS.
 */
export function stopJobsStep(inv: Inventory, digest: string, deps: StopJobsDeps = {}): Step<StopJobsFacts, DeployedFacts> {
  const rest = deps.rest ?? new FlinkRest({ baseUrl: flinkUrls(inv), timeoutMs: 5_000 });
  const remember = deps.remember ?? ((stopped: StoppedJob[]) => rememberStopped(stopped));
  const name = inv.cluster.stackName;
  return {
    name: STOP_JOBS_STEP,
    key: DEPLOYED_STACK,
    async gather({ transport }) {
      const deployed = await readDeployedStack(transport, inv);
      if (deployed.deployedDigest === undefined || deployed.deployedDigest === digest) return { deployed, running: [] };
      const jobs = await rest.jobs();
      return { deployed, running: jobs.ok ? jobs.value.filter((j) => j.state === 'RUNNING').map(({ jid, name: job }) => ({ jid, name: job })) : [] };
    },
    plan({ deployed, running }) {
      if (deployed.deployedDigest === undefined) return ok(`stack ${name} is not deployed yet: no job to keep`);
      if (deployed.deployedDigest === digest) return ok(`stack ${name} does not change: its jobs keep running`);
      if (running.length === 0) return ok('no job running');
      // Each call records the jobs stopped so far: the last one recorded holds them all.
      const stopped: StoppedJob[] = [];
      const stopOne = (job: StopJobsFacts['running'][number]): Change => ({
        summary: `stop job ${job.name} with a savepoint`,
        actions: [
          {
            kind: 'call',
            label: `savepoint of ${job.name}`,
            fn: async (ctx) => {
              const r = await stopJob(rest, job, savepointDir(inv));
              if (!r.ok) return r;
              stopped.push(r.stopped);
              remember([r.stopped]);
              ctx.record(STOPPED_JOBS, [...stopped]);
              return { ok: true };
            },
          },
        ],
      });
      return change(...running.map(stopOne));
    },
    output: (facts) => facts.deployed,
  };
}

/** What the operator is told about each stopped job, after the step (a fallback is a warning: no fresh savepoint). */
export function stoppedJobMessages(stopped: StoppedJob[]): Array<{ level: 'info' | 'warning'; text: string }> {
  return stopped.map((s) =>
    s.fallback ? { level: 'warning', text: `job ${s.name}: ${s.fallback}; it resumes from ${s.savepoint}` } : { level: 'info', text: `stopped job ${s.name} with savepoint ${s.savepoint}` },
  );
}
