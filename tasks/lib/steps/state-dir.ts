// The directory Flink writes checkpoints and savepoints to (fridge_flink_state_dir), on every node, owned by the
// image's flink user: a redeploy resumes jobs only if every node can read what another node wrote.
import type { Step } from '../engine/types.ts';
import { shq } from '../transport/types.ts';
import { change, ok, sh } from './common.ts';

/** uid/gid of the flink user in docker/Dockerfile (as in the official image). */
export const FLINK_UID = 9999;

export const stateDirStep: Step<{ owner: string | undefined }> = {
  name: 'flink state directory',
  async gather({ transport, inventory }) {
    const r = await transport.exec(`stat -c '%u:%g %a' ${shq(inventory.cluster.flink.stateDir)} 2>/dev/null`, { sudo: true });
    return { owner: r.code === 0 ? r.stdout.trim() : undefined };
  },
  plan({ owner }, { inventory }) {
    const dir = inventory.cluster.flink.stateDir;
    const want = `${FLINK_UID}:${FLINK_UID} 775`;
    if (owner === want) return ok(`${dir} (${want})`);
    return change({
      summary: owner === undefined ? `create ${dir} for uid ${FLINK_UID}` : `${dir}: ${owner} → ${want}`,
      actions: [sh(`mkdir -p ${shq(dir)} && chown ${FLINK_UID}:${FLINK_UID} ${shq(dir)} && chmod 775 ${shq(dir)}`)],
    });
  },
};
