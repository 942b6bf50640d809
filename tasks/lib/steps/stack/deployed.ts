// What is deployed on the leader now: the digest written after the last deploy, the stack's services and the
// taskmanager count. Read once per run, by the first step that needs it (stop jobs with savepoint), and
// reused by `docker stack deploy` through the step's recorded output: both decide on the same reading.
import { stackDir } from '../../deploy/endpoints.ts';
import { outputKey } from '../../engine/outputs.ts';
import type { Inventory } from '../../inventory/types.ts';
import { INVENTORY_REPLICAS_LABEL, parseLiveTaskmanagers, type LiveTaskmanagers } from '../../stack/replicas.ts';
import { shq, type Transport } from '../../transport/types.ts';

/** Written beside the stack file after each deploy: the digest (deploy.ts stackDigest) of what was deployed. */
export const DEPLOYED_MARK = '.deployed.sha256';

export interface DeployedFacts {
  deployedDigest: string | undefined;
  services: string[];
  taskmanagers: LiveTaskmanagers | undefined;
  /**
   * Services whose last update the swarm rolled back (or paused): they run an older spec than the mark says,
   * so the stack is deployed again rather than called up to date.
   */
  rolledBack?: string[];
}

const NOT_APPLIED = new Set(['rollback_started', 'rollback_paused', 'rollback_completed', 'paused']);

/** `{{.Spec.Name}} {{.UpdateStatus.State}}` lines → the services not running the spec last deployed (pure). */
export function parseRolledBack(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    const [service = '', state = ''] = line.trim().split(/\s+/);
    return service && NOT_APPLIED.has(state) ? [service] : [];
  });
}

/** Recorded for the leader by the step that read it first. */
export const DEPLOYED_STACK = outputKey<DeployedFacts>('stack.deployed');

/** One round trip: the mark, the services, the taskmanager service's replicas and inventory label. */
export async function readDeployedStack(transport: Transport, inv: Inventory): Promise<DeployedFacts> {
  const name = inv.cluster.stackName;
  const tm = shq(`${name}_taskmanager`);
  const r = await transport.exec(
    `cat ${shq(`${stackDir(inv)}/${DEPLOYED_MARK}`)} 2>/dev/null; echo; echo ---; docker stack services ${shq(name)} --format '{{.Name}}' 2>/dev/null; echo ---; ` +
      `docker service inspect ${tm} --format '{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}{{end}} {{index .Spec.Labels "${INVENTORY_REPLICAS_LABEL}"}}' 2>/dev/null; echo; echo ---; ` +
      `ids=$(docker stack services -q ${shq(name)} 2>/dev/null); [ -z "$ids" ] || docker service inspect $ids --format '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' 2>/dev/null`,
    { sudo: true },
  );
  const [mark = '', list = '', tms = '', updates = ''] = r.stdout.split('---\n');
  const rolledBack = parseRolledBack(updates);
  return {
    deployedDigest: mark.trim() || undefined,
    services: list.split('\n').map((s) => s.trim()).filter(Boolean),
    taskmanagers: parseLiveTaskmanagers(tms.trim()),
    ...(rolledBack.length ? { rolledBack } : {}),
  };
}
