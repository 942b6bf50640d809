// Pulls the Flink image onto every node that may run Flink before the stack changes: with stop-first updates the
// swarm would otherwise pull only after the old containers stopped, and on a Pi that pull is job downtime.
import type { Step } from '../engine/types.ts';
import type { HostSpec, Inventory } from '../inventory/types.ts';
import { shq } from '../transport/types.ts';

/** Nodes the stack's placement lets Flink run on: the jobmanager's and every one taskmanagers are not kept off. */
export function flinkHosts(inv: Inventory): HostSpec[] {
  const f = inv.cluster.flink;
  return inv.hosts.filter((h) => h.name === f.jobmanagerHost || !f.taskmanagerExclude.includes(h.name));
}

const PULL_TIMEOUT_MS = 15 * 60_000;

export function imagePulledStep(inv: Inventory, imageRef: string): Step<{ present: boolean }> {
  const registry = inv.cluster.registry;
  return {
    name: 'image on the node',
    async gather({ transport }) {
      const r = await transport.exec(`docker image inspect --format '{{.Id}}' ${shq(imageRef)}`, { sudo: true });
      return { present: r.code === 0 };
    },
    plan({ present }) {
      if (present) return { kind: 'ok', msg: imageRef };
      // Credentials live on the leader only (docker login there, --with-registry-auth for the swarm): a
      // worker could not pull a private image by itself, and spreading the token to every node is worse.
      if (registry.usernameEnv && registry.passwordEnv) return { kind: 'skip', msg: 'private registry: the swarm pulls with the leader\'s login' };
      return {
        kind: 'change',
        changes: [{ summary: `docker pull ${imageRef}`, actions: [{ kind: 'run', command: `docker pull -q ${shq(imageRef)}`, sudo: true, timeoutMs: PULL_TIMEOUT_MS }] }],
      };
    },
  };
}
