// swarm: init on the first manager, join the others with tokens read from it, labels from the inventory.
import type { Phase } from '../engine/phase.ts';
import type { Run } from '../engine/runner.ts';
import { ProbeError } from '../facts/probe.ts';
import { leader, type HostSpec } from '../inventory/types.ts';
import { registerSecret } from '../secrets.ts';
import { UnreachableError } from '../transport/types.ts';
import { readJoinInfo, strangers, swarmHealthStep, swarmInitStep, swarmJoinStep, swarmNodesStep, type JoinInfo } from '../steps/swarm.ts';

/** Cross-host read from the leader; undefined (and a message) when it cannot be asked. */
async function joinInfoFrom(run: Run, lead: HostSpec): Promise<JoinInfo | undefined> {
  try {
    const t = await run.transport(lead);
    const info = await readJoinInfo({ transport: t, host: lead }, registerSecret);
    if (info) {
      for (const n of strangers(info.nodes, run.inventory.hosts)) {
        run.message('warning', `swarm node ${n.hostname} (${n.state}) is not in the inventory; run with --prune to remove it`);
      }
    }
    return info;
  } catch (err) {
    // Unreachable, or a facts script that failed: the joins then fail, naming the reason.
    const why = err instanceof UnreachableError || err instanceof ProbeError ? err.message : String(err);
    if (!(err instanceof UnreachableError || err instanceof ProbeError)) throw err;
    run.message('error', `cannot read the join tokens from ${lead.name}: ${why}`);
    return undefined;
  }
}

export const phase: Phase = {
  name: 'swarm',
  description: 'Form the Docker Swarm: init on the first manager, join the rest, apply node labels.',
  options: {
    prune: { type: 'boolean', description: 'remove swarm nodes that are no longer in the inventory' },
  },
  async run(run) {
    const inv = run.inventory;
    const lead = leader(inv);
    await run.play({ name: 'swarm init', hosts: [lead], steps: [swarmInitStep] });
    if (run.active([lead]).length === 0 && run.hosts.some((h) => h.name === lead.name)) return;

    const join = await joinInfoFrom(run, lead);
    const others = inv.hosts.filter((h) => h.name !== lead.name);
    // Managers one at a time: raft adds one member per change.
    for (const m of others.filter((h) => h.role === 'manager')) {
      await run.play({ name: `swarm join (manager ${m.name})`, hosts: [m], steps: [swarmJoinStep(join)] });
    }
    await run.play({ name: 'swarm join (workers)', hosts: others.filter((h) => h.role === 'worker'), steps: [swarmJoinStep(join)] });

    const expected = run.active(inv.hosts).map((h) => h.name);
    await run.play({
      name: 'swarm nodes',
      hosts: [lead],
      steps: [swarmNodesStep({ prune: run.args.prune === true }), swarmHealthStep({ expected, waitMs: 60_000 })],
    });
  },
};
