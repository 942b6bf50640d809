// The state storage's plays, for the phases: set it up (pi-setup) and check it before Flink (stack-deploy).
import type { Run } from '../../engine/runner.ts';
import type { HostOutcome } from '../../engine/types.ts';
import type { HostSpec, Inventory } from '../../inventory/types.ts';
import { stateClientKeyStep } from './client-key.ts';
import { sshfsStorage, storageServer } from './layout.ts';
import { stateMountStep } from './mount.ts';
import { storageDescription, storageMarkerStep, storageReachedStep } from './reached.ts';
import { stateServerStep } from './server.ts';

/** pi-setup: every node's key, the server's account and directory, then every node's mount (the server's too). */
export async function setUpStateStorage(run: Run): Promise<void> {
  const inv = run.inventory;
  const s = sshfsStorage(inv);
  if (!s) {
    if (inv.cluster.stateStorage.kind === 'external') await checkStateStorage(run, inv.hosts);
    return;
  }
  const server = storageServer(inv, s);
  if (!server) return;
  const serverStep = stateServerStep(s);
  await run.play({ name: 'state storage: node keys', steps: [stateClientKeyStep] });
  await run.play({ name: `state storage: ${s.server}:${s.path}`, hosts: [server], steps: [serverStep] });
  await run.play({ name: `state storage: mounted at ${inv.cluster.flink.stateDir}`, steps: [stateMountStep(s, serverStep)] });
}

/** What the check found: whether Flink may start, and each Flink node's answer. */
export interface StorageCheck {
  ok: boolean;
  reached: string[];
  /** Nodes that do not see it, with why. */
  notReached: Array<{ host: string; why: string }>;
  /** Nodes (or the server) that did not answer at all. */
  unreachable: string[];
  /** The storage's own host did not answer: no node could be checked. */
  serverUnreachable?: string;
}

/**
 * The marker read where the storage keeps it, then through the state directory on each of `hosts`. Not ok when a
 * host cannot reach it (that host failed, with the reason): Flink must not start with state it cannot share.
 */
export async function checkStateStorage(run: Run, hosts: HostSpec[]): Promise<StorageCheck> {
  const inv = run.inventory;
  const none: StorageCheck = { ok: true, reached: [], notReached: [], unreachable: [] };
  if (inv.cluster.stateStorage.kind === 'none') return none;
  const s = sshfsStorage(inv);
  const markerHost = s ? storageServer(inv, s) : run.active(hosts)[0];
  if (!markerHost) return none;
  const marker = storageMarkerStep(inv);
  const where = await run.play({ name: 'state storage: marker', hosts: [markerHost], steps: [marker] });
  const reached = await run.play({ name: 'state storage: reached from every Flink node', hosts, steps: [storageReachedStep(inv, marker, markerHost.name)] });
  const failure = (o: HostOutcome) => o.results.find((r) => r.status === 'failed');
  // Without the storage (its server unreachable) no node can be checked: Flink must not restart now. A Flink
  // node that is down is only left out: the recap names it, and swarm places its tasks on the others.
  const storageAnswered = where.length > 0 && where.every((o) => o.unreachable === undefined && !failure(o));
  const notReached = reached.flatMap((o) => {
    const f = failure(o);
    return f ? [{ host: o.host, why: f.msg ?? 'failed' }] : [];
  });
  // A server left out of the run (it did not answer in an earlier phase) is as unreachable as one that fails now.
  const serverGone = where.length === 0 ? [markerHost.name] : [];
  const unreachable = [...serverGone, ...[...where, ...reached].filter((o) => o.unreachable !== undefined).map((o) => o.host)];
  // Hosts answer in any order; reports list them as the inventory does.
  const order = (names: string[]) => inv.hosts.map((h) => h.name).filter((n) => names.includes(n));
  const server = s && !storageAnswered && unreachable.includes(markerHost.name) ? { serverUnreachable: markerHost.name } : {};
  return {
    ...server,
    ok: storageAnswered && notReached.length === 0,
    reached: order(reached.filter((o) => o.unreachable === undefined && !failure(o) && o.results.some((r) => r.status === 'ok')).map((o) => o.host)),
    notReached: order(notReached.map((n) => n.host)).map((h) => notReached.find((n) => n.host === h) ?? { host: h, why: '' }),
    unreachable: order(unreachable),
  };
}

/** status's line: where the state is kept and which Flink nodes see it. */
export function formatStorageCheck(inv: Inventory, c: StorageCheck): string {
  const what = storageDescription(inv);
  if (inv.cluster.stateStorage.kind === 'none') return `${what} (a job recovers only on the node that wrote its checkpoint)`;
  const parts = [`${what}: reached by ${c.reached.length ? c.reached.join(', ') : 'no Flink node'}`];
  for (const n of c.notReached) parts.push(`NOT by ${n.host}`);
  if (c.unreachable.length) parts.push(`no answer from ${c.unreachable.join(', ')}`);
  return parts.join('; ');
}
