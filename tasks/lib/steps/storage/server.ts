// The state storage server (fridge_state_storage.server): a data directory owned by Flink's uid, an SFTP-only
// account whose authorized_keys are the nodes' own keys, and the marker every node must read through its mount.
import type { Change, HostContext, Step } from '../../engine/types.ts';
import { factsOf } from '../../facts/cache.ts';
import { AUTHORIZED_KEYS, SFTP_SERVERS, parseStorageFacts, type StorageFacts } from '../../facts/storage.ts';
import { shq } from '../../transport/types.ts';
import { change, diffOf, fail, ok, sh, writeFile } from '../common.ts';
import { MADE_CLIENT_KEY, stateClientKeyStep } from './client-key.ts';
import { MARKER_FILE, STORAGE_HOME, STORAGE_UID, STORAGE_USER, markerContent, writeMarkerCommand, type SshfsStorage } from './layout.ts';

/** The server's side of the storage facts (facts/storage.ts). */
export type ServerFacts = Pick<StorageFacts, 'account' | 'uidTakenBy' | 'dataDir' | 'authorizedKeys' | 'homeModes' | 'marker' | 'hostKey' | 'sftpServer'>;

export interface ServerOutput {
  hostKey: string | undefined;
  marker: string | undefined;
}

const ROOT_DIRS = '0:0 755;0:0 755;0:0 644;';
const WANT_DATA = `${STORAGE_UID}:${STORAGE_UID} 775`;

/**
 * The nodes' keys, one line each, in inventory order, restricted to SFTP. A node outside this run (--limit) keeps
 * the line it had; a host no longer in the inventory loses its line.
 */
export function authorizedKeysFor(ctx: HostContext, current: string | undefined, sftpServer: string): { text: string; missing: string[] } {
  const kept = new Map<string, string>();
  for (const line of (current ?? '').split('\n')) {
    const host = / fridge-state@(\S+)$/.exec(line.trim())?.[1];
    if (host) kept.set(host, line.trim());
  }
  const missing: string[] = [];
  const lines: string[] = [];
  for (const h of ctx.inventory.hosts) {
    const key = ctx.output(MADE_CLIENT_KEY, h.name) ?? ctx.output(stateClientKeyStep, h.name);
    const [type, blob] = (key ?? '').split(' ');
    if (type && blob) lines.push(`restrict,command="${sftpServer}" ${type} ${blob} fridge-state@${h.name}`);
    else if (kept.has(h.name)) lines.push(kept.get(h.name) ?? '');
    else missing.push(h.name);
  }
  return { text: lines.length ? `${lines.join('\n')}\n` : '', missing };
}

export function stateServerStep(storage: SshfsStorage): Step<ServerFacts, ServerOutput> {
  return {
    name: 'state storage server',
    async gather(ctx) {
      const f = parseStorageFacts(await factsOf(ctx, 'storage'));
      return {
        account: f.account,
        uidTakenBy: f.uidTakenBy,
        dataDir: f.dataDir,
        authorizedKeys: f.authorizedKeys,
        homeModes: f.homeModes,
        marker: f.marker,
        hostKey: f.hostKey,
        sftpServer: f.sftpServer,
      };
    },
    plan(f, ctx) {
      const { inventory } = ctx;
      if (f.uidTakenBy) return fail(`uid ${STORAGE_UID} belongs to "${f.uidTakenBy}" here: the state storage account needs it (Flink's uid in the image); free it or use another server`);
      if (!f.hostKey) return fail('no ed25519 SSH host key (/etc/ssh/ssh_host_ed25519_key.pub): the nodes pin it; run ssh-keygen -A');
      if (!f.sftpServer) return fail(`no sftp-server (${SFTP_SERVERS.join(', ')}): install openssh-sftp-server`);
      const changes: Change[] = [];
      const wantAccount = `${STORAGE_UID}:${STORAGE_UID}:/bin/sh`;
      if (f.account !== wantAccount) {
        changes.push({
          summary: f.account === undefined ? `create the SFTP-only account ${STORAGE_USER} (uid ${STORAGE_UID})` : `${STORAGE_USER}: ${f.account} → ${wantAccount}`,
          actions: [
            // No password ('*', not locked '!': sshd refuses key logins to locked accounts without PAM); the shell
            // only runs the forced sftp-server of authorized_keys.
            sh(
              f.account === undefined
                ? `(getent group ${STORAGE_USER} >/dev/null || groupadd --system --gid ${STORAGE_UID} ${STORAGE_USER}) && useradd --system --uid ${STORAGE_UID} --gid ${STORAGE_UID} --home-dir ${STORAGE_HOME} --no-create-home --shell /bin/sh --password '*' ${STORAGE_USER}`
                : `usermod --uid ${STORAGE_UID} --gid ${STORAGE_UID} --shell /bin/sh ${STORAGE_USER}`,
            ),
          ],
        });
      }
      if (f.dataDir !== WANT_DATA) {
        changes.push({
          summary: f.dataDir === undefined ? `create ${storage.path} (${WANT_DATA})` : `${storage.path}: ${f.dataDir} → ${WANT_DATA}`,
          actions: [sh(`mkdir -p ${shq(storage.path)} && chown ${STORAGE_UID}:${STORAGE_UID} ${shq(storage.path)} && chmod 775 ${shq(storage.path)}`)],
        });
      }
      const keys = authorizedKeysFor(ctx, f.authorizedKeys, f.sftpServer);
      if (keys.text !== (f.authorizedKeys ?? '') || f.homeModes !== ROOT_DIRS) {
        const names = keys.text.split('\n').filter(Boolean).map((l) => l.replace(/^.* fridge-state@/, ''));
        changes.push({
          summary: `authorize ${names.length ? names.join(', ') : 'no node yet'}${keys.missing.length ? ` (not yet: ${keys.missing.join(', ')}, which have no key)` : ''} (SFTP only) in ${AUTHORIZED_KEYS}`,
          actions: [sh(`install -d -o root -g root -m 755 ${shq(STORAGE_HOME)} ${shq(`${STORAGE_HOME}/.ssh`)}`), writeFile(AUTHORIZED_KEYS, keys.text, 0o644)],
          diff: diffOf(AUTHORIZED_KEYS, f.authorizedKeys, keys.text),
        });
      }
      const marker = markerContent(inventory);
      if (f.marker === undefined) {
        const file = `${storage.path}/${MARKER_FILE}`;
        changes.push({
          summary: `write ${file} (what every node must read through ${inventory.cluster.flink.stateDir})`,
          actions: [sh(writeMarkerCommand(file, marker))],
          diff: diffOf(file, undefined, marker),
        });
      }
      const why = keys.missing.length ? `; no key yet from ${keys.missing.join(', ')} (not in this run)` : '';
      if (changes.length === 0) return ok(`${storage.path} for ${STORAGE_USER}${why}`);
      return change(...changes);
    },
    output: (f) => ({ hostKey: f.hostKey, marker: f.marker }),
  };
}
