// Every node (the server too) mounts the server's directory at fridge_flink_state_dir over SSH (sshfs), as
// /etc/fstab says, with the server's host key pinned: the same directory for Flink on every Pi.
import type { Change, Step } from '../../engine/types.ts';
import { factsOf } from '../../facts/cache.ts';
import { parseStorageFacts } from '../../facts/storage.ts';
import { shq } from '../../transport/types.ts';
import { aptInstallCommand } from '../apt.ts';
import { change, diffOf, ok, sh, unmet, unmetThen, withManagedBlock, writeFile } from '../common.ts';
import { CLIENT_KNOWN_HOSTS, fstabLine, serverAddress, storageServer, type SshfsStorage } from './layout.ts';
import { stateServerStep } from './server.ts';

export interface MountFacts {
  sshfs: boolean;
  knownHosts: string | undefined;
  fstab: string;
  /** `SOURCE FSTYPE` of what is mounted at the state directory, when something is. */
  mounted: string | undefined;
}

const FSTAB = '/etc/fstab';
const BEGIN = '# BEGIN fridge state storage';
const END = '# END fridge state storage';

export function stateMountStep(storage: SshfsStorage, server: ReturnType<typeof stateServerStep>): Step<MountFacts> {
  return {
    name: 'state storage mounted',
    async gather(ctx) {
      const f = parseStorageFacts(await factsOf(ctx, 'storage'));
      return { sshfs: f.sshfs, knownHosts: f.knownHosts, fstab: f.fstab, mounted: f.mounted };
    },
    plan(f, ctx) {
      const { inventory } = ctx;
      const host = storageServer(inventory, storage);
      // The inventory rules make sure the server is a host; a plan never throws for input.
      if (!host) return unmet(`fridge_state_storage.server ${storage.server} is not a host of the inventory`, 'no storage server');
      const dir = inventory.cluster.flink.stateDir;
      const line = fstabLine(inventory, storage, host);
      const source = line.split(' ')[0] ?? '';
      const hostKey = ctx.output(server, host.name)?.hostKey;
      const knownLine = hostKey ? `${serverAddress(host)} ${hostKey}\n` : undefined;
      const changes: Change[] = [];
      if (!f.sshfs) changes.push({ summary: 'install sshfs (apt)', actions: [sh(aptInstallCommand(['sshfs']), { timeoutMs: 20 * 60_000 })] });
      // The server's key as the server itself read it in this run; without it (server outside --limit, or
      // unreachable) a pinned key from before stands, and none at all means it cannot be mounted yet.
      if (knownLine && f.knownHosts !== knownLine) {
        changes.push({
          summary: `pin ${storage.server}'s host key in ${CLIENT_KNOWN_HOSTS}`,
          actions: [writeFile(CLIENT_KNOWN_HOSTS, knownLine, 0o644)],
          diff: diffOf(CLIENT_KNOWN_HOSTS, f.knownHosts, knownLine),
        });
      }
      const fstab = withManagedBlock(f.fstab, BEGIN, END, [line]);
      if (fstab !== f.fstab) {
        changes.push({ summary: `mount ${source} at ${dir} from ${FSTAB}`, actions: [writeFile(FSTAB, fstab, 0o644)], diff: diffOf(FSTAB, f.fstab, fstab) });
      }
      const mountedRight = f.mounted === `${source} fuse.sshfs`;
      if (!mountedRight || changes.length > 0) {
        changes.push({
          summary: f.mounted && !mountedRight ? `remount ${dir} (now: ${f.mounted})` : mountedRight ? `remount ${dir} with the new settings` : `mount ${source} at ${dir}`,
          // systemd (Raspberry Pi OS) learns of the new fstab line first; without it there is no automount unit.
          actions: [
            sh(
              `mkdir -p ${shq(dir)} && { [ ! -d /run/systemd/system ] || systemctl daemon-reload; } && { ! mountpoint -q ${shq(dir)} || umount ${shq(dir)} || umount -l ${shq(dir)}; } && mount ${shq(dir)}`,
              { timeoutMs: 60_000 },
            ),
          ],
        });
      }
      if (changes.length === 0) return ok(`${source} on ${dir}`);
      if (!knownLine && !f.knownHosts) {
        return unmetThen(`${storage.server} did not give its host key in this run (is it in --limit? did its step fail?): cannot pin it, so ${dir} is not mounted`, ...changes);
      }
      return change(...changes);
    },
  };
}
