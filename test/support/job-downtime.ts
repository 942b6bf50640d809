// Measures what a user of the job sees during a redeploy: how long no job of that name had all its tasks
// running, sampled from Flink's /jobs/overview (the tasks' own counts, not just the job's state).

interface Sample {
  at: number;
  processing: boolean;
}

async function processing(baseUrl: string, jobPrefix: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/jobs/overview`, { signal: AbortSignal.timeout(1_000) });
    if (!res.ok) return false;
    const body = (await res.json()) as { jobs?: Array<{ name?: string; state?: string; tasks?: { total?: number; running?: number } }> };
    return (body.jobs ?? []).some((j) => j.name?.startsWith(jobPrefix) && j.state === 'RUNNING' && (j.tasks?.total ?? 0) > 0 && j.tasks?.running === j.tasks?.total);
  } catch {
    return false;
  }
}

export interface DowntimeWatch {
  /** Stops sampling; the longest stretch without a fully running job, from the last sample with one to the next. */
  stop(): Promise<{ downtimeMs: number; samples: number }>;
}

export function watchJobDowntime(baseUrl: string, jobPrefix: string, intervalMs = 250): DowntimeWatch {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      samples.push({ at, processing: await processing(baseUrl, jobPrefix) });
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
      return { downtimeMs: longest, samples: samples.length };
    },
  };
}
