// status: nodes, services and replicas, Flink taskmanagers/slots, jobs and their state, dashboard URL.
import { formatStatus, readStatus, type ClusterStatus } from '../deploy/status.ts';
import type { Step } from '../engine/types.ts';
import type { Phase } from '../engine/phase.ts';
import { leader } from '../inventory/types.ts';

export const phase: Phase = {
  name: 'status',
  description: 'Show the swarm nodes, the stack services, Flink taskmanagers/slots and jobs, and the dashboard URL.',
  async run(run) {
    const lead = leader(run.inventory);
    let text = '';
    // Read-only: the "plan" only hands what was read to the outputs.
    const status: Step<ClusterStatus> = {
      name: 'status',
      gather: ({ transport, inventory }) => readStatus(inventory, transport),
      plan(s) {
        run.data.status = s;
        text = formatStatus(s);
        return s.nodes.length ? { kind: 'ok' } : { kind: 'fail', msg: `${lead.name} is not a swarm manager: run the swarm phase` };
      },
    };
    await run.play({ name: 'cluster status', hosts: [lead], steps: [status] });
    if (text) run.outputs.status = `\n${text}`;
  },
};
