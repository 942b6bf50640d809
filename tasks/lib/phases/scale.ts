// scale: the seed's `docker service scale flink_taskmanager=5`, refused when placement cannot hold it,
// then waits until Flink itself reports the new number of taskmanagers.
import { convergeStep } from '../deploy/converge.ts';
import { flinkUrl } from '../deploy/endpoints.ts';
import type { Phase } from '../engine/phase.ts';
import type { Step } from '../engine/types.ts';
import { leader, type Inventory } from '../inventory/types.ts';
import { shq } from '../transport/types.ts';
import { planStack } from './stack-deploy.ts';

const SCALABLE = ['taskmanager', 'mosquitto'] as const;

export function scaleStep(inv: Inventory, service: string, replicas: number): Step<{ current: number | undefined }> {
  const full = `${inv.cluster.stackName}_${service}`;
  return {
    name: `scale ${full}`,
    async gather({ transport }) {
      const r = await transport.exec(`docker service inspect --format '{{.Spec.Mode.Replicated.Replicas}}' ${shq(full)}`, { sudo: true });
      const n = Number(r.stdout.trim());
      return { current: r.code === 0 && Number.isInteger(n) ? n : undefined };
    },
    plan({ current }) {
      if (current === undefined) return { kind: 'fail', msg: `service ${full} is not deployed: run stack-deploy first` };
      if (current === replicas) return { kind: 'ok', msg: `${full} already has ${replicas} replicas` };
      return {
        kind: 'change',
        changes: [{ summary: `${full}: ${current} → ${replicas} replicas`, actions: [{ kind: 'run', command: `docker service scale --detach ${shq(full)}=${replicas}`, sudo: true }] }],
      };
    },
  };
}

export const phase: Phase = {
  name: 'scale',
  description: 'Scale a service of the stack and wait until Flink reports the new number of taskmanagers.',
  options: {
    service: { type: 'string', placeholder: 'NAME', description: `service to scale: ${SCALABLE.join(', ')} (default taskmanager)` },
    replicas: { type: 'string', placeholder: 'N', description: 'number of replicas wanted' },
    'converge-timeout': { type: 'string', placeholder: 'SECONDS', description: 'how long to wait for Flink to see them (default 300)' },
  },
  async run(run) {
    const inv = run.inventory;
    const lead = leader(inv);
    const service = typeof run.args.service === 'string' ? run.args.service : 'taskmanager';
    const replicas = Number(run.args.replicas);
    if (!(SCALABLE as readonly string[]).includes(service)) {
      run.fail(lead.name, 'scale', `--service ${service}: only ${SCALABLE.join(', ')} can be scaled (one jobmanager: Flink without HA)`);
      return;
    }
    if (!Number.isInteger(replicas) || replicas < 1) {
      run.fail(lead.name, 'scale', `--replicas must be a positive integer, got '${String(run.args.replicas ?? '')}'`);
      return;
    }
    if (service === 'taskmanager') {
      // Scaling keeps each taskmanager's memory profile: capacity is what the deployed sizes allow.
      const planned = planStack(inv, 'capacity-check');
      if (!planned.ok) {
        run.fail(lead.name, 'placement', planned.msg);
        return;
      }
      const capacity = planned.stack.capacity.taskmanagers;
      if (replicas > capacity) {
        run.fail(lead.name, 'placement', `${replicas} taskmanagers do not fit: the placement rules and the Pis' memory allow at most ${capacity} (${planned.stack.capacity.detail})`);
        return;
      }
    }
    const timeoutS = Number(run.args['converge-timeout'] ?? 300);
    await run.play({
      name: `scale ${service} to ${replicas}`,
      hosts: [lead],
      steps: [scaleStep(inv, service, replicas), convergeStep(inv, { slotsPerTaskmanager: inv.cluster.flink.slotsPerTaskmanager, replicas: { [service]: replicas } }, timeoutS * 1000, 'Flink sees the new replicas')],
    });
    run.outputs['Flink dashboard'] = flinkUrl(inv);
  },
};
