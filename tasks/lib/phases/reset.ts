// reset: stacks removed, every node out of the swarm (workers first, leader last), engine purged on request.
import type { Phase } from '../engine/phase.ts';
import { leader } from '../inventory/types.ts';
import { purgeEngineStep } from '../steps/docker.ts';
import { removeStacksStep } from '../steps/swarm-services.ts';
import { demoteManagersStep, swarmLeaveStep } from '../steps/swarm.ts';

export const phase: Phase = {
  name: 'reset',
  description: 'Remove the stacks, leave the swarm on every node (leader last), optionally purge Docker.',
  options: {
    'purge-engine': { type: 'boolean', description: 'also uninstall the Docker engine and delete its data' },
  },
  async run(run) {
    const inv = run.inventory;
    const lead = leader(inv);
    const others = inv.hosts.filter((h) => h.name !== lead.name);
    await run.play({ name: 'stacks', hosts: [lead], steps: [removeStacksStep, demoteManagersStep] });
    await run.play({ name: 'leave (workers)', hosts: others, steps: [swarmLeaveStep] });
    await run.play({ name: 'leave (leader)', hosts: [lead], steps: [swarmLeaveStep] });
    if (run.args['purge-engine'] === true) await run.play({ name: 'purge engine', steps: [purgeEngineStep] });
  },
};
