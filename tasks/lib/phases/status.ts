// status: nodes, services and replicas, Flink taskmanagers/slots, jobs and their state, dashboard URL.
import { formatStatus, statusStep } from '../deploy/status.ts';
import type { Phase } from '../engine/phase.ts';
import { flinkHosts } from '../deploy/pre-pull.ts';
import { leader } from '../inventory/types.ts';
import { checkStateStorage, formatStorageCheck } from '../steps/storage/plays.ts';

export const phase: Phase = {
  name: 'status',
  description: 'Show the swarm nodes, the stack services, Flink taskmanagers/slots and jobs, and the dashboard URL.',
  async run(run) {
    const lead = leader(run.inventory);
    await run.play({ name: 'cluster status', hosts: [lead], steps: [statusStep] });
    // What the step read, kept by the runner (the step itself only decides).
    const status = run.output(statusStep, lead);
    if (!status) return;
    run.data.status = status;
    run.outputs.status = `\n${formatStatus(status)}`;
    const storage = await checkStateStorage(run, flinkHosts(run.inventory));
    run.outputs['state storage'] = formatStorageCheck(run.inventory, storage);
  },
};
