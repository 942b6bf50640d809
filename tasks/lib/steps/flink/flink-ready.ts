// Before job-submit reads anything: Flink answers (its REST API, or the jobmanager's container for `flink run`).
// Stack-deploy starts Flink, so a real run waits a little for a jobmanager still starting and then fails; check
// mode on fresh nodes, where stack-deploy only planned Flink, says what would happen instead.
import type { HostContext, Plan, WaitStep } from '../../engine/types.ts';
import { FlinkRest } from '../../flink/rest.ts';
import { findJobmanager } from '../../flink/submit-cli.ts';
import { ok, unmet } from '../common.ts';

export type Readiness = { ok: true; msg: string; container?: string } | { ok: false; msg: string };

/** Long enough for a jobmanager that is restarting, short enough that a wrong --rest-url is told soon. */
export const READY_TIMEOUT_MS = 30_000;

/** Pure: what one look means once the wait is over; `jarName` is what check mode says would be submitted. */
export function readinessPlan(r: Readiness, jarName: string): Plan {
  if (r.ok) return ok(r.msg);
  return unmet(r.msg, `${r.msg} (check mode: stack-deploy would start Flink, then ${jarName} would be submitted)`);
}

function readiness(name: string, jarName: string, look: (ctx: HostContext) => Promise<Readiness>, timeoutMs: number): WaitStep<Readiness> {
  return {
    kind: 'wait',
    name,
    timeoutMs,
    intervalMs: 1_000,
    poll: (ctx) => look(ctx),
    verdict: (r) => (r.ok ? { kind: 'done' } : { kind: 'waiting', state: r.msg }),
    conclude: (end) => readinessPlan(end.state, jarName),
  };
}

export function restReadyStep(restUrl: string, jarName: string, timeoutMs = READY_TIMEOUT_MS): WaitStep<Readiness> {
  const rest = new FlinkRest({ baseUrl: restUrl, timeoutMs: 5_000 });
  return readiness(`Flink's REST API (${restUrl})`, jarName, async () => {
    const o = await rest.overview();
    return o.ok ? { ok: true, msg: `Flink answers at ${restUrl}` } : { ok: false, msg: `Flink at ${restUrl} is not ready: ${o.message}` };
  }, timeoutMs);
}

/** `flink run` mode: the jobmanager's container on the host the play runs on; its id is the wait's output. */
export function jobmanagerReadyStep(stack: string, jarName: string, sudo: boolean, timeoutMs = READY_TIMEOUT_MS): WaitStep<Readiness> {
  return readiness(`Flink's jobmanager container (${stack}_jobmanager)`, jarName, async ({ transport }) => {
    const c = await findJobmanager(transport, stack, sudo);
    return c.ok ? { ok: true, msg: `container ${c.value}`, container: c.value } : { ok: false, msg: c.message };
  }, timeoutMs);
}
