// Small builders that keep step plans short and uniform.
import type { Action, Change, FileDiff, Plan } from '../engine/types.ts';
import { shq } from '../transport/types.ts';

export const ok = (msg?: string): Plan => (msg === undefined ? { kind: 'ok' } : { kind: 'ok', msg });
export const skip = (msg: string): Plan => ({ kind: 'skip', msg });
export const fail = (msg: string): Plan => ({ kind: 'fail', msg });
export const change = (...changes: Change[]): Plan => ({ kind: 'change', changes });
/** Needs what an earlier step or phase makes: fails with `msg`; in check mode (it was only planned) skipped with `whyInCheck`. */
export const unmet = (msg: string, whyInCheck: string): Plan => ({ kind: 'unmet', msg, inCheck: { skip: whyInCheck } });
/** As `unmet`, but check mode reports the changes this step would make once the prerequisite exists. */
export const unmetThen = (msg: string, ...changes: Change[]): Plan => ({ kind: 'unmet', msg, inCheck: { changes } });

/** A command run as root (sudo is a no-op for root). */
export function sh(command: string, extra: { stdin?: string; timeoutMs?: number; sudo?: boolean } = {}): Action {
  return { kind: 'run', command, sudo: extra.sudo ?? true, ...(extra.stdin !== undefined ? { stdin: extra.stdin } : {}), ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) };
}

export function diffOf(path: string, before: string | undefined, after: string): FileDiff {
  return { path, before: before ?? '', after };
}

/** Non-secret content carried inside the command: stdin under sudo -S may also carry the sudo password. */
export function inlineContent(content: string): string {
  return `printf '%s' ${Buffer.from(content).toString('base64')} | base64 -d`;
}

/** Writes a file in place (no rename), for files Docker bind-mounts into a container (/etc/hosts, /etc/hostname). */
export function writeInPlace(path: string, content: string): Action {
  return sh(`${inlineContent(content)} > ${shq(path)}`);
}

/** Replaces (or appends) the lines between the markers; the rest of the file is kept byte for byte. */
export function withManagedBlock(text: string | undefined, begin: string, end: string, block: string[], where: 'top' | 'bottom' = 'bottom'): string {
  const lines = (text ?? '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const start = lines.indexOf(begin);
  const stop = start >= 0 ? lines.indexOf(end, start) : -1;
  const managed = [begin, ...block, end];
  let out: string[];
  if (start >= 0 && stop >= 0) out = [...lines.slice(0, start), ...managed, ...lines.slice(stop + 1)];
  else if (where === 'top') out = [...managed, ...lines];
  else out = [...lines, ...(lines.length > 0 && lines[lines.length - 1] !== '' ? [''] : []), ...managed];
  return `${out.join('\n')}\n`;
}

/** Deep equality for parsed JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && jsonEqual(ra[k], rb[k]));
  }
  return false;
}

/** Atomic write (temp file + rename) as root, content carried in the command for the reason above. */
export function writeFile(path: string, content: string, mode = 0o644): Action {
  const tmp = shq(`${path}.fridge-tmp`);
  return sh(`umask 077 && mkdir -p "$(dirname ${shq(path)})" && ${inlineContent(content)} > ${tmp} && chmod ${mode.toString(8)} ${tmp} && mv -f ${tmp} ${shq(path)}`);
}
