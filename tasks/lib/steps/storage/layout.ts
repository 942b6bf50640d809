// Where the state storage lives on the Pis, and who its server is: shared by the storage steps and the checks.
import type { HostSpec, Inventory, StateStorage } from '../../inventory/types.ts';
import { shq } from '../../transport/types.ts';
import { FLINK_UID } from '../state-dir.ts';

/** The server's account the nodes log in as: SFTP only, with Flink's uid so every node sees Flink's files as Flink's. */
export const STORAGE_USER = 'fridge-state';
export const STORAGE_UID = FLINK_UID;
/** Its home holds only authorized_keys, owned by root: a node that can write the data cannot add itself a shell. */
export const STORAGE_HOME = '/var/lib/fridge-state';
/** Each node's own key to the server, and the server's host key it trusts: made on the node, never copied. */
export const CLIENT_DIR = '/etc/fridge/state-storage';
export const CLIENT_KEY = `${CLIENT_DIR}/id_ed25519`;
export const CLIENT_KNOWN_HOSTS = `${CLIENT_DIR}/known_hosts`;
/** Written once on the storage; a node that reads it through fridge_flink_state_dir reaches the shared storage. */
export const MARKER_FILE = '.fridge-storage';

export type SshfsStorage = Extract<StateStorage, { kind: 'sshfs' }>;

export function sshfsStorage(inv: Inventory): SshfsStorage | undefined {
  const s = inv.cluster.stateStorage;
  return s.kind === 'sshfs' ? s : undefined;
}

export function storageServer(inv: Inventory, s: SshfsStorage): HostSpec | undefined {
  return inv.hosts.find((h) => h.name === s.server);
}

/** The address the nodes reach the server at on the LAN: its static one once pi-setup gave it. */
export function serverAddress(server: HostSpec): string {
  return server.staticIp ?? server.address;
}

export function markerContent(inv: Inventory): string {
  const s = inv.cluster.stateStorage;
  const where = s.kind === 'sshfs' ? `${s.server}:${s.path}` : s.kind;
  return `fridge state storage of ${inv.cluster.name} (${where})\n`;
}

/** Writes the marker as Flink's uid, so every node sees it as the rest of the state. */
export function writeMarkerCommand(file: string, content: string): string {
  return `printf '%s' ${shq(content)} > ${shq(file)} && chown ${STORAGE_UID}:${STORAGE_UID} ${shq(file)} && chmod 664 ${shq(file)}`;
}

/**
 * The /etc/fstab line: a network mount, made on first use under systemd (so a node that boots before the server
 * does not give up on it). No `nofail`: sshfs's helper refuses it, and a remote mount never blocks a boot anyway.
 */
export function fstabLine(inv: Inventory, s: SshfsStorage, server: HostSpec): string {
  const opts = [
    '_netdev',
    'noatime',
    // dockerd (root) and Flink (uid 9999) use the mount; the server decides what each may do.
    'allow_other',
    // A server that comes back is used again without a remount: the containers' bind mounts stay valid.
    'reconnect',
    // A dead server fails I/O after 15 s (Flink's checkpoint fails loudly) instead of hanging it forever.
    'ServerAliveInterval=5',
    'ServerAliveCountMax=3',
    'ConnectTimeout=10',
    `IdentityFile=${CLIENT_KEY}`,
    `UserKnownHostsFile=${CLIENT_KNOWN_HOSTS}`,
    'StrictHostKeyChecking=yes',
    'x-systemd.automount',
    'x-systemd.mount-timeout=30',
  ];
  return `${STORAGE_USER}@${serverAddress(server)}:${s.path} ${inv.cluster.flink.stateDir} fuse.sshfs ${opts.join(',')} 0 0`;
}
