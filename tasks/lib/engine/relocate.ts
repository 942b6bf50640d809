// A host that answers at another address from now on (pi-setup moved it to its static address): the session's
// inventory and selected hosts say so, and its pooled connection, which ran over the old address, is dropped.
import type { HostSpec } from '../inventory/types.ts';
import type { Session } from './runner.ts';

export async function relocate(session: Session, name: string, address: string, firstContact: string): Promise<void> {
  const at = (h: HostSpec): HostSpec => (h.name === name ? { ...h, address, firstContact } : h);
  session.inventory = { ...session.inventory, hosts: session.inventory.hosts.map(at) };
  session.hosts = session.hosts.map(at);
  await session.pool.drop(name, { abandon: true });
}
