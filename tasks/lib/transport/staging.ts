// Private staging directories on a host. A fixed or guessable name under /tmp (`/tmp/fridge-jobs`,
// `/tmp/.fridge-upload-PID-TIME`) lets another local user create it first and swap a file before root copies it;
// `mktemp -d` makes a new directory with an unguessable name and mode 0700, owned by the login user.
import { shq, type Transport } from './types.ts';

/** The remote command; `${TMPDIR:-/tmp}` as mktemp itself would choose. */
export function mktempCommand(prefix: string, parent?: string): string {
  const where = parent === undefined ? '"${TMPDIR:-/tmp}"' : shq(parent);
  return `mktemp -d ${where}/${shq(`${prefix}.XXXXXXXXXX`)}`;
}

export type StagingDir = { ok: true; dir: string } | { ok: false; message: string };

export async function makeStagingDir(t: Transport, prefix: string, parent?: string): Promise<StagingDir> {
  const r = await t.exec(mktempCommand(prefix, parent));
  const dir = r.stdout.trim();
  if (r.code !== 0 || !dir.startsWith('/') || dir.includes('\n')) {
    return { ok: false, message: `cannot create a private staging directory on ${t.host}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}` };
  }
  return { ok: true, dir };
}

export async function removeStagingDir(t: Transport, dir: string): Promise<void> {
  await t.exec(`rm -rf ${shq(dir)}`).catch(() => undefined);
}
