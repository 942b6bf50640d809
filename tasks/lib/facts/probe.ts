// One round trip per fact set: a POSIX sh script prints key=value lines, file contents base64-encoded
// so that any byte survives. Probes only read; they must work on a fresh host where most things are absent.
import { shq, type Transport } from '../transport/types.ts';

export type Kv = ReadonlyMap<string, string>;

export function parseKv(text: string): Kv {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    kv.set(line.slice(0, eq), line.slice(eq + 1).replace(/\r$/, ''));
  }
  return kv;
}

/** Shell lines printing `key=absent` or `key=b64:...` for a file. */
export function fileProbe(key: string, path: string): string {
  const p = shq(path);
  return `if [ -e ${p} ]; then printf '%s=b64:%s\\n' ${key} "$(base64 -w0 < ${p} 2>/dev/null)"; else echo ${key}=absent; fi`;
}

/** Shell lines printing `key=1` when a command exists, `key=0` otherwise. */
export function commandProbe(key: string, command: string): string {
  return `if command -v ${shq(command)} >/dev/null 2>&1; then echo ${key}=1; else echo ${key}=0; fi`;
}

/** A file's content, or undefined when the probe said it is absent. */
export function fileValue(kv: Kv, key: string): string | undefined {
  const v = kv.get(key);
  if (v === undefined || v === 'absent') return undefined;
  if (!v.startsWith('b64:')) return undefined;
  return Buffer.from(v.slice(4), 'base64').toString('utf8');
}

export function flag(kv: Kv, key: string): boolean {
  return kv.get(key) === '1';
}

export function str(kv: Kv, key: string): string {
  return kv.get(key) ?? '';
}

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
}

/** Runs a probe script; a non-zero exit is a bug in the probe or a broken host, reported as the step's failure. */
export async function probe(t: Transport, script: string, opts: { sudo?: boolean } = {}): Promise<Kv> {
  const r = await t.exec(`${script}\ntrue\n`, { sudo: opts.sudo });
  if (r.code !== 0) {
    const detail = r.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new ProbeError(`facts script exited ${r.code}${detail ? `: ${detail}` : ''}`);
  }
  return parseKv(r.stdout);
}
