// Watches a redeploy the way its user would want it explained: how long the job was down (Flink's
// /jobs/overview), and a timeline of what the nodes' dockerd did, what Flink showed and what the deploy
// said, so that a slow run says where its time went.
import type { Inventory } from '../../tasks/lib/inventory/types.ts';
import { flinkUrl } from '../../tasks/lib/deploy/endpoints.ts';
import { watchJobDowntime } from './job-downtime.ts';
import { formatTimeline, watchNodeEvents, type Stamped } from './node-events.ts';

/** The deploy's lines that mark a step of the redeploy. */
const MILESTONE = /^(PHASE \[(stack-deploy|job-submit)\]|stopped job|changed: .*docker stack deploy|ok: .*(ready to resume|converged)|changed: .*job-submit)/;

export interface RedeployWatch {
  /** Give it every line of the deploy's standard output (runTask's onLine). */
  onLine(line: string): void;
  stop(): Promise<{ downtimeMs: number; timeline: string }>;
}

export function watchRedeploy(inv: Inventory, jobPrefix: string): RedeployWatch {
  const t0 = Date.now();
  const job = watchJobDowntime(flinkUrl(inv), jobPrefix);
  const nodes = watchNodeEvents(inv.hosts.map((h) => h.name));
  const said: Stamped[] = [];
  return {
    onLine(line) {
      if (MILESTONE.test(line)) said.push({ at: Date.now(), text: `deploy: ${line.replace(/\*+$/, '').slice(0, 160)}` });
    },
    async stop() {
      const { downtimeMs, changes } = await job.stop();
      const flink = changes.map((c) => ({ at: c.at, text: c.view }));
      return { downtimeMs, timeline: `redeploy timeline (seconds since the deploy command started):\n${formatTimeline(t0, [...said, ...nodes.stop(), ...flink])}` };
    },
  };
}
