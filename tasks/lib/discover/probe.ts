// The TCP probe (Angry IP Scanner's step in the seed): one connection to port 22 of each address of the block,
// at most `concurrency` open at a time and at most `perSecond` started per second, each given up after
// `timeoutMs`; what the server sends first is its SSH banner. Nothing is sent but the TCP handshake.
// `connect` is injectable so that the pacing and the bounds are tested without a network.
import net from 'node:net';
import pLimit from 'p-limit';
import { bannerLine } from './banner.ts';
import { inCidr, formatCidr, type Cidr } from './cidr.ts';

/** What one address answered. */
export type Knock =
  | { kind: 'banner'; banner: string }
  /** Port open, no SSH line within the time (not sshd, or one too busy to greet). */
  | { kind: 'open' }
  /** Refused: a host is there, with no sshd (yet). */
  | { kind: 'refused' }
  /** No answer in time, or unreachable: most likely nobody there. */
  | { kind: 'silent' };

export type Connect = (address: string, port: number, timeoutMs: number) => Promise<Knock>;

/** The real connection: reads until the SSH line or the deadline, then closes without sending anything. */
export const tcpKnock: Connect = (address, port, timeoutMs) =>
  new Promise((resolve) => {
    let received = '';
    let connected = false;
    const socket = net.createConnection({ host: address, port });
    const end = (k: Knock): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(k);
    };
    const timer = setTimeout(() => end(connected ? { kind: 'open' } : { kind: 'silent' }), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const line = received.includes('\n') ? bannerLine(received) : undefined;
      if (line) end({ kind: 'banner', banner: line });
      else if (received.length > 8192) end({ kind: 'open' });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => end(err.code === 'ECONNREFUSED' ? { kind: 'refused' } : connected ? { kind: 'open' } : { kind: 'silent' }));
    socket.on('close', () => end(connected ? { kind: 'open' } : { kind: 'silent' }));
  });

export interface ProbeOptions {
  port: number;
  timeoutMs: number;
  concurrency: number;
  perSecond: number;
  connect?: Connect;
  /** "probed 120/254" as it goes. */
  progress?: (done: number, total: number) => void;
}

export const PROBE_DEFAULTS = { port: 22, timeoutMs: 1_000, concurrency: 64, perSecond: 500 } as const;

/**
 * Knocks on every address given; each must lie in `cidr` (the caller expanded it): anything else is a bug,
 * refused before a single connection is made.
 */
export async function probe(cidr: Cidr, addresses: string[], opts: ProbeOptions): Promise<Map<string, Knock>> {
  const outside = addresses.filter((a) => !inCidr(cidr, a));
  if (outside.length) throw new Error(`bug: probe of ${formatCidr(cidr)} given addresses outside it: ${outside.slice(0, 3).join(', ')}`);
  const connect = opts.connect ?? tcpKnock;
  const limit = pLimit(Math.max(1, opts.concurrency));
  const gapMs = 1000 / Math.max(1, opts.perSecond);
  let nextStart = Date.now();
  let done = 0;
  const results = new Map<string, Knock>();
  await Promise.all(
    addresses.map((address) =>
      limit(async () => {
        // Pacing: starts are spread out even when many slots free up at once.
        const wait = nextStart - Date.now();
        nextStart = Math.max(nextStart, Date.now()) + gapMs;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        results.set(address, await connect(address, opts.port, opts.timeoutMs));
        opts.progress?.(++done, addresses.length);
      }),
    ),
  );
  return results;
}
