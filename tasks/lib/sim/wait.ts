// Polling helpers: a TCP port that answers, an SSH banner.
import net from 'node:net';
import fs from 'node:fs';
import { waitFor as poll } from '../engine/wait.ts';

/** Whether `cond` held within `timeoutMs` (looked at every `everyMs`), through the one polling loop. */
export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const r = await poll(async () => ((await cond()) ? { done: true, result: true } : { done: false, last: 'not yet' }), { timeoutMs, intervalMs: everyMs });
  return r === true;
}

/** Connects and resolves with the first bytes the server sends ('' when it sends nothing, undefined when closed). */
export function firstBytes(host: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let connected = false;
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(connected ? '' : undefined));
    sock.once('connect', () => (connected = true));
    sock.once('data', (b: Buffer) => done(b.toString('latin1')));
    sock.once('error', () => done(undefined));
    // Accepted and closed without a word (sshd still starting): settle, or the caller would wait forever.
    sock.once('close', () => done(undefined));
  });
}

export async function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}

export async function sshReady(host: string): Promise<boolean> {
  return (await firstBytes(host, 22))?.startsWith('SSH-') ?? false;
}

/**
 * True when the address belongs to this machine. Probe only such addresses: once the fridge's bridge is gone,
 * 10.77.0.1 would be routed off the machine, and nothing outside may be contacted. Read from the kernel's
 * local routing table, because os.networkInterfaces() leaves out interfaces that are down (an empty bridge).
 */
export function isLocalAddress(address: string): boolean {
  try {
    // /proc/net/fib_trie lists every local address followed by "/32 host LOCAL".
    const lines = fs.readFileSync('/proc/net/fib_trie', 'utf8').split('\n');
    return lines.some((l, k) => l.trim() === `|-- ${address}` && /\/32 host LOCAL/.test(lines[k + 1] ?? ''));
  } catch {
    return false;
  }
}
