// What the integration tests on the virtual fridge share: a command on the swarm leader (inside its node
// container, with its own docker), and a poll until something the user would see is there.
import { containerName } from '../../tasks/lib/sim/nodes.ts';
import { execLocal } from '../../tasks/lib/transport/local.ts';
import { shq } from '../../tasks/lib/transport/types.ts';

export function onLeader(command: string, timeoutMs = 300_000) {
  return execLocal(`docker exec ${containerName('pi1')} sh -c ${shq(command)}`, { timeoutMs });
}

/** The probe's first defined answer; its last error is in the message when time runs out. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>, intervalMs = 1000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await probe().catch((e: unknown) => {
      last = e;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
