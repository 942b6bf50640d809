// State storage facts (steps/storage/): this node's key to the server and its mount, and, read on every node but
// used on the server only, the server's account, directory, authorized keys and marker. Part of the phase's one
// probe, so a pi-setup that changes nothing pays no round trip for them. Nothing here reads through the mount:
// a dead server must not hang the probe (findmnt reads the mount table only).
import type { Inventory } from '../inventory/types.ts';
import { CLIENT_KEY, CLIENT_KNOWN_HOSTS, MARKER_FILE, STORAGE_HOME, STORAGE_UID, STORAGE_USER } from '../steps/storage/layout.ts';
import { shq } from '../transport/types.ts';
import { commandProbe, fileProbe, fileValue, flag, str, type Kv } from './probe.ts';

export const SFTP_SERVERS = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/libexec/sftp-server'];
export const AUTHORIZED_KEYS = `${STORAGE_HOME}/.ssh/authorized_keys`;

export function storageScript(inv: Inventory): string {
  const s = inv.cluster.stateStorage;
  const dir = shq(inv.cluster.flink.stateDir);
  const lines = [
    fileProbe('clientkey', `${CLIENT_KEY}.pub`),
    fileProbe('known', CLIENT_KNOWN_HOSTS),
    fileProbe('fstab', '/etc/fstab'),
    commandProbe('sshfs', 'sshfs'),
    `printf 'mounted=%s\\n' "$(findmnt -n -o SOURCE,FSTYPE --mountpoint ${dir} 2>/dev/null | head -n 1 | tr -s ' ')"`,
  ];
  if (s.kind !== 'sshfs') return lines.join('\n');
  const data = shq(s.path);
  return [
    ...lines,
    `printf 'account=%s\\n' "$(getent passwd ${STORAGE_USER} | awk -F: '{print $3":"$4":"$7}')"`,
    `printf 'uidowner=%s\\n' "$(getent passwd ${STORAGE_UID} | cut -d: -f1)"`,
    `printf 'data=%s\\n' "$(stat -c '%u:%g %a' ${data} 2>/dev/null)"`,
    fileProbe('authorized', AUTHORIZED_KEYS),
    `printf 'homemodes=%s\\n' "$(stat -c '%u:%g %a' ${shq(STORAGE_HOME)} ${shq(`${STORAGE_HOME}/.ssh`)} ${shq(AUTHORIZED_KEYS)} 2>/dev/null | tr '\\n' ';')"`,
    fileProbe('marker', `${s.path}/${MARKER_FILE}`),
    `printf 'hostkey=%s\\n' "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub 2>/dev/null)"`,
    `printf 'sftp=%s\\n' "$(for f in ${SFTP_SERVERS.join(' ')}; do [ -x "$f" ] && { echo "$f"; break; }; done)"`,
  ].join('\n');
}

export interface StorageFacts {
  clientKey: string | undefined;
  knownHosts: string | undefined;
  fstab: string;
  sshfs: boolean;
  /** `SOURCE FSTYPE` at the state directory, when something is mounted there. */
  mounted: string | undefined;
  /** The server's side, read on every node but used on the server only: uid:gid:shell of its account. */
  account: string | undefined;
  /** Who has uid STORAGE_UID, when someone other than the account does. */
  uidTakenBy: string | undefined;
  /** `uid:gid mode` of the server's data directory. */
  dataDir: string | undefined;
  authorizedKeys: string | undefined;
  /** `uid:gid mode;` of the home, its .ssh and authorized_keys. */
  homeModes: string;
  marker: string | undefined;
  /** The server's ed25519 host key, which the nodes pin. */
  hostKey: string | undefined;
  sftpServer: string | undefined;
}

export function parseStorageFacts(kv: Kv): StorageFacts {
  const opt = (k: string): string | undefined => str(kv, k).trim() || undefined;
  const owner = opt('uidowner');
  return {
    clientKey: fileValue(kv, 'clientkey')?.trim() || undefined,
    knownHosts: fileValue(kv, 'known'),
    fstab: fileValue(kv, 'fstab') ?? '',
    sshfs: flag(kv, 'sshfs'),
    mounted: opt('mounted'),
    account: opt('account'),
    uidTakenBy: owner && owner !== STORAGE_USER ? owner : undefined,
    dataDir: opt('data'),
    authorizedKeys: fileValue(kv, 'authorized'),
    homeModes: str(kv, 'homemodes'),
    marker: fileValue(kv, 'marker'),
    hostKey: opt('hostkey'),
    sftpServer: opt('sftp'),
  };
}
