// The seed's `docker service scale flink_taskmanager=5`: only when the service wants another count.
import type { Step } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { shq } from '../../transport/types.ts';

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
