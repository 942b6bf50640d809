// The tasks a user runs (tasks/<name>.mjs) and the phases each one runs, loaded only when used.
import type { Phase } from '../engine/phase.ts';

export interface TaskDef {
  description: string;
  phases: Array<() => Promise<Phase>>;
  phaseNames: string[];
  /** Runs before the inventory is loaded; may return the inventory to use (deploy brings up the virtual fridge). */
  prepare?: (inventory: string | undefined, args: Record<string, unknown>) => Promise<string | undefined>;
}

const load = (m: Promise<{ phase: Phase }>) => m.then((x) => x.phase);

export const TASKS: Record<string, TaskDef> = {
  ping: {
    description: 'Connects to every host and checks a shell answers (like ansible -m ping).',
    phaseNames: ['ping'],
    phases: [() => load(import('../phases/ping.ts'))],
  },
};
