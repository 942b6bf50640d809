// status: nodes, services and replicas, Flink taskmanagers/slots, jobs and their state, dashboard URL.
import { formatStatus, statusStep } from '../deploy/status.ts';
import { flinkHosts } from '../deploy/pre-pull.ts';
import type { Phase } from '../engine/phase.ts';
import { managers, type HostSpec } from '../inventory/types.ts';
import { checkStateStorage, formatStorageCheck } from '../steps/storage/plays.ts';

/** What to tell the operator when no manager answered: the swarm's control plane is down, and what that means. */
export function controlPlaneDown(all: HostSpec[], down: string[]): string {
  const names = all.map((h) => h.name);
  if (all.length === 1) {
    return `the swarm's only manager, ${names[0] ?? '?'}, does not answer: its control plane is down. Services keep running where they are, but nothing can be deployed, scaled or rescheduled (a lost Pi's tasks stay lost) until it is back; with 3 managers in the inventory the swarm survives the loss of one`;
  }
  const quorum = Math.floor(all.length / 2) + 1;
  return `no swarm manager answers (${down.join(', ')} of ${names.join(', ')}): the control plane is down. ${all.length} managers need ${quorum} of them up to change anything`;
}

export const phase: Phase = {
  name: 'status',
  description: 'Show the swarm nodes, the stack services, Flink taskmanagers/slots and jobs, and the dashboard URL.',
  async run(run) {
    // The first manager that answers: with 3 managers, status still works when the leader's Pi is gone.
    const all = managers(run.inventory);
    const down: string[] = [];
    let answered: HostSpec | undefined;
    for (const m of all) {
      const [o] = await run.play({ name: 'cluster status', hosts: [m], steps: [statusStep] });
      if (o && o.unreachable === undefined && run.output(statusStep, m)) {
        answered = m;
        break;
      }
      if (o?.unreachable !== undefined) down.push(m.name);
      else break;
    }
    if (!answered) {
      if (down.length === all.length) {
        const text = controlPlaneDown(all, down);
        run.outputs['control plane'] = text;
        run.message('error', text);
      }
      return;
    }
    const status = run.output(statusStep, answered);
    if (!status) return;
    run.data.status = status;
    run.outputs.status = `\n${formatStatus(status)}`;
    const storage = await checkStateStorage(run, flinkHosts(run.inventory));
    run.outputs['state storage'] = formatStorageCheck(run.inventory, storage);
  },
};
