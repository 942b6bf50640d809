// One look at a host over a NEW connection (after a reboot or a move, the pooled one is dead).
import type { HostSpec } from '../inventory/types.ts';
import { openTransport } from './open.ts';
import { UnreachableError, type Transport } from './types.ts';

/**
 * One look over a NEW connection, closed afterwards (after a reboot or a move the pooled one is dead): `fn`'s
 * answer, or the reason the host does not answer yet.
 */
export async function onNewConnection<T>(host: HostSpec, fn: (t: Transport) => Promise<T>): Promise<{ reached: true; value: T } | { reached: false; why: string }> {
  let t: Transport;
  try {
    t = await openTransport(host);
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
    return { reached: false, why: err.message };
  }
  try {
    return { reached: true, value: await fn(t) };
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
    return { reached: false, why: err.message };
  } finally {
    await t.close();
  }
}
