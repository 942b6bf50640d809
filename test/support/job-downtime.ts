// Measures what a user of the job sees during a redeploy: how long no job of that name had all its tasks
// running, sampled from Flink's /jobs/overview (the tasks' own counts, not just the job's state). Also keeps
// each change of what Flink showed (taskmanagers, the job's state and tasks), for a timeline.

import { FlinkRest, isTerminal } from '../../tasks/lib/flink/rest.ts';

interface Sample {
  at: number;
  processing: boolean;
  view: string;
}

async function sample(rest: FlinkRest, jobPrefix: string): Promise<Omit<Sample, 'at'>> {
  const [overview, jobs] = await Promise.all([rest.overview(), rest.jobs()]);
  const ours = (jobs.ok ? jobs.value : []).filter((j) => j.name.startsWith(jobPrefix));
  const processing = ours.some((j) => j.state === 'RUNNING' && (j.tasks?.total ?? 0) > 0 && j.tasks?.running === j.tasks?.total);
  const live = ours.find((j) => !isTerminal(j.state)) ?? ours.at(-1);
  const job = live ? `job ${live.state} ${live.tasks?.running ?? 0}/${live.tasks?.total ?? 0} tasks running` : 'no job';
  const view = overview.ok ? `Flink: ${overview.value.taskmanagers} taskmanagers, ${job}` : 'Flink REST down';
  return { processing, view };
}

export interface DowntimeWatch {
  /**
   * Stops sampling. downtimeMs: the longest stretch without a fully running job, from the last sample with
   * one to the next. changes: what Flink showed, each time it changed.
   */
  stop(): Promise<{ downtimeMs: number; samples: number; changes: Array<{ at: number; view: string }> }>;
}

export function watchJobDowntime(baseUrl: string, jobPrefix: string, intervalMs = 250): DowntimeWatch {
  const rest = new FlinkRest({ baseUrl, timeoutMs: 1_000 });
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      samples.push({ at, ...(await sample(rest, jobPrefix)) });
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - at))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      let lastUp: number | undefined;
      let longest = 0;
      let down = false;
      for (const s of samples) {
        if (s.processing) {
          if (down && lastUp !== undefined) longest = Math.max(longest, s.at - lastUp);
          lastUp = s.at;
          down = false;
        } else down = true;
      }
      // Still down when sampling stopped: the job never came back, which the caller's assertions catch.
      if (down && lastUp !== undefined) longest = Math.max(longest, (samples.at(-1)?.at ?? lastUp) - lastUp);
      const changes = samples.filter((s, i) => i === 0 || s.view !== samples[i - 1]?.view).map(({ at, view }) => ({ at, view }));
      return { downtimeMs: longest, samples: samples.length, changes };
    },
  };
}
