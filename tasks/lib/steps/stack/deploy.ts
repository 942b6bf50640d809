// docker stack deploy, only when what is deployed differs from the generated stack (its digest) or a service
// is missing; a taskmanager count set by scale is kept until the inventory changes its own.
import { createHash } from 'node:crypto';
import { DEPLOYED_AT } from '../../deploy/converge.ts';
import { stackDir } from '../../deploy/endpoints.ts';
import type { Step } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { keepScaledReplicas, replicasOverride } from '../../stack/replicas.ts';
import { STACK_FILE, type GeneratedStack } from '../../stack/types.ts';
import { shq } from '../../transport/types.ts';
import { DEPLOYED_MARK, DEPLOYED_STACK, readDeployedStack, type DeployedFacts } from './deployed.ts';

/** One digest over the stack file and the files its configs read: what "nothing changed" compares. */
export function stackDigest(stack: GeneratedStack): string {
  const h = createHash('sha256').update(stack.yaml);
  for (const name of Object.keys(stack.files).sort()) h.update(`\0${name}\0${stack.files[name] ?? ''}`);
  return h.digest('hex');
}

/**
 * `pinned`: the stack names its image by digest and swarm must not re-resolve it (the virtual fridge's armv7
 * mode, deploy/emulation.ts): resolving would add a platform constraint that no emulating node meets.
 */
export function stackDeployStep(inv: Inventory, stack: GeneratedStack, opts: { pinned?: boolean } = {}): Step<DeployedFacts> {
  const dir = stackDir(inv);
  const name = inv.cluster.stackName;
  const digest = stackDigest(stack);
  return {
    name: 'docker stack deploy',
    // Read by the step before it on the leader (stop jobs with savepoint); read here only when that did not run.
    async gather({ transport, output }) {
      return output(DEPLOYED_STACK) ?? readDeployedStack(transport, inv);
    },
    plan(facts) {
      const missing = stack.services.filter((s) => !facts.services.includes(`${name}_${s}`));
      const replicas = keepScaledReplicas(facts.taskmanagers, inv.cluster.flink.taskmanagerReplicas, stack.capacity.taskmanagers);
      const rolledBack = facts.rolledBack ?? [];
      if (facts.deployedDigest === digest && missing.length === 0 && rolledBack.length === 0) {
        const scaled = facts.taskmanagers && facts.taskmanagers.replicas !== inv.cluster.flink.taskmanagerReplicas ? ` (taskmanager scaled to ${facts.taskmanagers.replicas})` : '';
        return { kind: 'ok', msg: `stack ${name} is up to date${scaled}` };
      }
      const changed = facts.deployedDigest !== digest;
      const why = [
        facts.services.length === 0 ? 'not deployed' : missing.length ? `missing ${missing.join(', ')}` : changed ? 'stack file changed' : '',
        rolledBack.length ? `the swarm rolled back ${rolledBack.join(', ')}` : '',
        replicas.why,
      ]
        .filter(Boolean)
        .join('; ');
      const files = replicas.keep ? `-c ${STACK_FILE} -c -` : `-c ${STACK_FILE}`;
      return {
        kind: 'change',
        changes: [
          {
            summary: `docker stack deploy ${name} (${why})`,
            actions: [
              {
                kind: 'run',
                command: `cd ${shq(dir)} && docker stack deploy --with-registry-auth --prune${opts.pinned ? ' --resolve-image never' : ''} ${files} ${shq(name)}`,
                sudo: true,
                timeoutMs: 300_000,
                ...(replicas.keep ? { stdin: replicasOverride(replicas.replicas) } : {}),
              },
              { kind: 'put', path: `${dir}/${DEPLOYED_MARK}`, content: `${digest}\n`, sudo: true },
              {
                kind: 'call',
                label: 'note the deploy time',
                fn: async (ctx) => {
                  ctx.record(DEPLOYED_AT, Date.now());
                  return { ok: true };
                },
              },
            ],
          },
        ],
      };
    },
  };
}
