// Picks the transport a host's inventory entry asks for (ansible_connection).
import type { HostSpec } from '../inventory/types.ts';
import { localTransport } from './local.ts';
import type { SshOptions } from './ssh.ts';
import { UnreachableError, type Transport } from './types.ts';

/**
 * A host pi-setup moved to its static address that does not answer there is tried where the inventory first found
 * it: a re-flashed Pi is back on a DHCP lease (pi-setup then moves it again). Both failures are reported.
 */
async function atFirstContact(host: HostSpec, err: unknown): Promise<Transport> {
  if (!(err instanceof UnreachableError) || host.firstContact === undefined) throw err;
  try {
    return await openTransport({ ...host, address: host.firstContact, firstContact: undefined });
  } catch (again) {
    const why = again instanceof Error ? again.message : String(again);
    throw new UnreachableError(host.name, `${err.message}; nor at its first-contact address ${host.firstContact} (ansible_host): ${why}`);
  }
}

export function openTransport(host: HostSpec, opts?: SshOptions): Promise<Transport> {
  // ssh2 takes a tenth of a second to load: only a command that contacts an SSH host pays it (not --help).
  return host.connection === 'local' ? Promise.resolve(localTransport(host.name)) : import('./ssh.ts').then((m) => m.openSsh(host, opts));
}

/** One connection per host for the whole run; a lost connection is reopened once per call site. */
export class TransportPool {
  private readonly open = new Map<string, Promise<Transport>>();

  get(host: HostSpec): Promise<Transport> {
    let t = this.open.get(host.name);
    if (!t) {
      t = openTransport(host).catch((err: unknown) => atFirstContact(host, err));
      // A failed connection is not cached: a later play (after the host came back) may retry.
      t.catch(() => this.open.delete(host.name));
      this.open.set(host.name, t);
    }
    return t;
  }

  /** Forget a connection (after a reboot or a changed password policy); `abandon` when its address is gone. */
  async drop(hostName: string, opts: { abandon?: boolean } = {}): Promise<void> {
    const t = this.open.get(hostName);
    this.open.delete(hostName);
    if (t) await t.then((x) => (opts.abandon && x.abandon ? x.abandon() : x.close())).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((t) => t.close()).catch(() => undefined)));
  }
}
