// Trust on first use into a project-local known_hosts (OpenSSH format, so ssh -o UserKnownHostsFile works too).
import fs from 'node:fs';
import path from 'node:path';
import { KNOWN_HOSTS_FILE } from '../paths.ts';

/** `changed`: the host is known but the offered key is none of its keys, whatever their types (OpenSSH's rule:
 * a host pinned as ed25519 that suddenly offers only RSA is as suspect as a different ed25519 key). */
export type HostKeyVerdict = { kind: 'known' } | { kind: 'new' } | { kind: 'changed'; line: number; offeredType: string; knownTypes: string[] };

/** OpenSSH's name for a host: bare address on port 22, [address]:port otherwise. */
export function hostPattern(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** The key type is the first length-prefixed string of the public key blob. */
export function keyType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}

export function checkHostKey(address: string, port: number, blob: Buffer, file = KNOWN_HOSTS_FILE): HostKeyVerdict {
  const pattern = hostPattern(address, port);
  const b64 = blob.toString('base64');
  let firstLine = -1;
  const knownTypes: string[] = [];
  for (const [i, line] of readLines(file).entries()) {
    const [hosts, t, k] = line.trim().split(/\s+/);
    if (!hosts || !t || !k || !hosts.split(',').includes(pattern)) continue;
    if (k === b64) return { kind: 'known' };
    if (firstLine < 0) firstLine = i + 1;
    if (!knownTypes.includes(t)) knownTypes.push(t);
  }
  return firstLine > 0 ? { kind: 'changed', line: firstLine, offeredType: keyType(blob), knownTypes } : { kind: 'new' };
}

export function rememberHostKey(address: string, port: number, blob: Buffer, file = KNOWN_HOSTS_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${hostPattern(address, port)} ${keyType(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}

/** Drops every key of these hosts (a re-flashed Pi, a recreated virtual node). */
export function forgetHostKeys(hosts: Array<{ address: string; port: number }>, file = KNOWN_HOSTS_FILE): number {
  const patterns = new Set(hosts.map((h) => hostPattern(h.address, h.port)));
  const lines = readLines(file);
  const kept = lines.filter((l) => !(l.trim().split(/\s+/)[0] ?? '').split(',').some((p) => patterns.has(p)));
  if (kept.length !== lines.length) fs.writeFileSync(file, kept.join('\n'), { mode: 0o600 });
  return lines.length - kept.length;
}

/**
 * The host at `address` is the one that proved it holds `blob` elsewhere a moment ago (pi-setup moving a Pi from its
 * lease to its static address): whatever was known for that address before (a re-flashed card's predecessor) goes.
 */
export function pinHostKey(address: string, port: number, blob: Buffer, file = KNOWN_HOSTS_FILE): void {
  forgetHostKeys([{ address, port }], file);
  rememberHostKey(address, port, blob, file);
}

export function changedKeyMessage(host: string, address: string, port: number, line: number, file = KNOWN_HOSTS_FILE, offer?: { offeredType: string; knownTypes: string[] }): string {
  const types = offer && !offer.knownTypes.includes(offer.offeredType) ? ` (it offered ${offer.offeredType}; known: ${offer.knownTypes.join(', ')})` : '';
  return (
    `host key of ${host} (${hostPattern(address, port)}) has CHANGED since it was first trusted (${file}:${line})${types}; nothing was sent to it. ` +
    `If the Pi was re-flashed or the node recreated, accept the new key with: ssh-keygen -R '${hostPattern(address, port)}' -f ${file}`
  );
}
