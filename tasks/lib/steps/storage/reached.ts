// Before Flink starts: every Flink node reads, through fridge_flink_state_dir, the marker the storage holds. A
// node that reads nothing (not mounted) or another file (its own disk) would checkpoint where no other node looks.
import type { Step } from '../../engine/types.ts';
import type { Inventory } from '../../inventory/types.ts';
import { shq } from '../../transport/types.ts';
import { change, fail, ok, sh, unmet } from '../common.ts';
import { MARKER_FILE, STORAGE_USER, markerContent, serverAddress, sshfsStorage, storageServer, writeMarkerCommand } from './layout.ts';

export interface MarkerFacts {
  marker: string | undefined;
}

/**
 * The marker as the storage holds it: read on the server's own disk (sshfs), or through the first Flink node's
 * mount (external), where it is written when missing.
 */
export function storageMarkerStep(inv: Inventory): Step<MarkerFacts, string | undefined> {
  const s = sshfsStorage(inv);
  const file = s ? `${s.path}/${MARKER_FILE}` : `${inv.cluster.flink.stateDir}/${MARKER_FILE}`;
  return {
    name: 'state storage marker',
    async gather({ transport }) {
      // Bounded: a dead external mount must not hang the phase.
      const r = await transport.exec(`timeout 20 cat ${shq(file)} 2>/dev/null`, { sudo: true });
      return { marker: r.code === 0 && r.stdout !== '' ? r.stdout : undefined };
    },
    plan({ marker }, ctx) {
      if (marker !== undefined) return ok(file);
      if (s) return unmet(`${file} is missing: pi-setup sets up the state storage on ${s.server}`, 'pi-setup would set up the state storage');
      const want = markerContent(ctx.inventory);
      return change({
        summary: `write ${file} on the external storage (what every node must then read)`,
        actions: [sh(writeMarkerCommand(file, want), { timeoutMs: 30_000 })],
      });
    },
    // A marker this run wrote is the one it wanted.
    output: (f) => f.marker ?? markerContent(inv),
  };
}

export interface ReachedFacts {
  /** `SOURCE FSTYPE` at the state directory. */
  mounted: string | undefined;
  marker: string | undefined;
  /** The read failed or timed out (a dead sshfs mount answers "Transport endpoint is not connected"). */
  error: string | undefined;
}

export function storageReachedStep(inv: Inventory, markerStep: ReturnType<typeof storageMarkerStep>, markerHost: string): Step<ReachedFacts> {
  const dir = inv.cluster.flink.stateDir;
  return {
    name: 'state storage reached',
    async gather({ transport }) {
      const r = await transport.exec(
        `echo "mounted=$(findmnt -n -o SOURCE,FSTYPE --mountpoint ${shq(dir)} 2>/dev/null | head -n 1)"; m=$(timeout 20 cat ${shq(`${dir}/${MARKER_FILE}`)} 2>&1); echo "rc=$?"; printf 'marker=%s' "$(printf '%s' "$m" | base64 -w0)"`,
        { sudo: true },
      );
      const v = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
      const text = Buffer.from(v('marker'), 'base64').toString();
      const rc = Number(v('rc'));
      // No marker there is an answer (another directory), not an error: that is what the plan reports.
      const missing = rc !== 0 && /No such file or directory/.test(text);
      return {
        mounted: v('mounted').replace(/\s+/g, ' ') || undefined,
        marker: rc === 0 ? `${text}\n` : undefined,
        error: rc === 0 || missing ? undefined : rc === 124 ? 'no answer in 20 s' : text.replace(/^cat: /, '').trim() || `exit ${rc}`,
      };
    },
    plan(f, ctx) {
      const want = ctx.output(markerStep, markerHost);
      const s = sshfsStorage(ctx.inventory);
      const server = s && storageServer(ctx.inventory, s);
      const expected = s && server ? `${STORAGE_USER}@${serverAddress(server)}:${s.path}` : undefined;
      const mount = f.mounted ? `${dir} is ${f.mounted}` : `nothing is mounted at ${dir}`;
      const fix = s ? `run pi-setup (it mounts ${expected} there), or mount ${dir} on ${ctx.host.name}` : `mount the shared storage at ${dir} on ${ctx.host.name}`;
      if (want === undefined) {
        return unmet(`the state storage's marker could not be read on ${markerHost}: ${dir} cannot be checked`, `the marker on ${markerHost} is not there yet`);
      }
      if (f.marker === want) return ok(`${dir}: ${f.mounted ?? 'the shared storage'}`);
      if (f.error) return fail(`${dir} cannot be read on ${ctx.host.name} (${f.error}): ${mount}; Flink would checkpoint where no other node looks; ${fix}`);
      const msg = `${ctx.host.name} does not see the shared state storage at ${dir} (${mount}; ${MARKER_FILE} ${f.marker === undefined ? 'is missing' : 'differs'}): a checkpoint written there could not be read by another node; ${fix}`;
      // Nothing there yet: in check mode on fresh nodes, pi-setup only planned the mount.
      return f.marker === undefined ? unmet(msg, `${mount}; pi-setup would mount it`) : fail(msg);
    },
  };
}

export function storageDescription(inv: Inventory): string {
  const st = inv.cluster.stateStorage;
  if (st.kind === 'sshfs') return `sshfs from ${st.server}:${st.path}`;
  if (st.kind === 'external') return 'external (mounted by you on every node)';
  return "none: each node's own directory";
}
