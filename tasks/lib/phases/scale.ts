// scale: the seed's `docker service scale flink_taskmanager=5`, refused when placement cannot hold it,
// then waits until Flink itself reports the new number of taskmanagers.
import { convergeStep, flinkOutputs } from '../deploy/converge.ts';
import { flinkUrlNow } from '../deploy/endpoints.ts';
import { numberOption, type Phase, type PhaseOption } from '../engine/phase.ts';
import { leader } from '../inventory/types.ts';
import { planStack } from '../stack/plan.ts';
import { scaleStep } from '../steps/stack/scale.ts';

const SCALABLE = ['taskmanager', 'mosquitto'] as const;

const DAY_MS = 24 * 3_600_000;

const OPTIONS = {
  service: {
    type: 'string',
    placeholder: 'NAME',
    description: `service to scale: ${SCALABLE.join(', ')} (default taskmanager; the jobmanager is one: Flink without HA)`,
    check: { kind: 'choice', choices: SCALABLE },
  },
  replicas: { type: 'string', placeholder: 'N', description: 'number of replicas wanted', check: { kind: 'int', min: 1, max: 1000 }, required: true },
  'converge-timeout': {
    type: 'string',
    placeholder: 'DURATION',
    description: 'how long to wait for Flink to see them (default 300s)',
    check: { kind: 'duration', unit: 's', maxMs: DAY_MS },
  },
} satisfies Record<string, PhaseOption>;

export const phase: Phase = {
  name: 'scale',
  description: 'Scale a service of the stack and wait until Flink reports the new number of taskmanagers.',
  options: OPTIONS,
  async run(run) {
    const inv = run.inventory;
    const lead = leader(inv);
    const service = typeof run.args.service === 'string' ? run.args.service : 'taskmanager';
    // The CLI has checked the values (exit 5 before the inventory is read); only a caller without it gets here.
    const replicas = numberOption(run.args, OPTIONS, 'replicas');
    if (replicas === undefined || !(SCALABLE as readonly string[]).includes(service)) {
      run.fail(lead.name, 'scale', `--replicas N is required and --service is one of ${SCALABLE.join(', ')}`);
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
    const timeoutMs = numberOption(run.args, OPTIONS, 'converge-timeout') ?? 300_000;
    const converge = convergeStep(inv, { slotsPerTaskmanager: inv.cluster.flink.slotsPerTaskmanager, replicas: { [service]: replicas } }, timeoutMs, 'Flink sees the new replicas');
    await run.play({
      name: `scale ${service} to ${replicas}`,
      hosts: [lead],
      steps: [scaleStep(inv, service, replicas), converge],
    });
    const flink = flinkOutputs(await flinkUrlNow(inv), run.output(converge, lead), run.statusOf(converge, lead));
    Object.assign(run.outputs, flink.lines);
    if (flink.dashboardUrl) run.result.dashboardUrl = flink.dashboardUrl;
  },
};
