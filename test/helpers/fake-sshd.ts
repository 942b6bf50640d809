// A fake SSH server on loopback built on ssh2's Server: it records every authentication attempt (with the
// password it was sent, if any) and every direct-tcpip request, answers exec with a fixed line, and can act as
// a ProxyJump host by forwarding direct-tcpip channels to loopback ports.
import net from 'node:net';
import { Server, utils, type AuthContext } from 'ssh2';

export type FakeKeyType = 'ed25519' | 'rsa' | 'ecdsa';

export interface AuthAttempt {
  user: string;
  method: string;
  password?: string;
}

export interface FakeSshd {
  port: number;
  /** The public host key as OpenSSH writes it: "<type> <base64>". */
  hostKey: string;
  auths: AuthAttempt[];
  forwards: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

export interface FakeSshdOptions {
  keyType: FakeKeyType;
  port?: number;
  /** Password that logs in; any public key logs in when acceptKeys is true. */
  password?: string;
  acceptKeys?: boolean;
  /** Forward direct-tcpip channels (a jump host); only loopback destinations. */
  forward?: boolean;
  /** Reuse a host key (the same server restarted). */
  privateKey?: string;
}

export function generateHostKey(type: FakeKeyType): { privateKey: string; publicKey: string } {
  const pair = type === 'rsa' ? utils.generateKeyPairSync('rsa', { bits: 2048 }) : type === 'ecdsa' ? utils.generateKeyPairSync('ecdsa', { bits: 256 }) : utils.generateKeyPairSync('ed25519');
  return { privateKey: pair.private, publicKey: pair.public };
}

function recordAuth(ctx: AuthContext, opts: FakeSshdOptions, auths: AuthAttempt[]): void {
  if (ctx.method === 'password') {
    auths.push({ user: ctx.username, method: 'password', password: ctx.password });
    return opts.password !== undefined && ctx.password === opts.password ? ctx.accept() : ctx.reject(['publickey', 'password']);
  }
  auths.push({ user: ctx.username, method: ctx.method });
  if (ctx.method === 'publickey' && opts.acceptKeys) return ctx.accept();
  ctx.reject(['publickey', 'password']);
}

export async function startFakeSshd(opts: FakeSshdOptions): Promise<FakeSshd> {
  const privateKey = opts.privateKey ?? generateHostKey(opts.keyType).privateKey;
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  const hostKey = `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
  const auths: AuthAttempt[] = [];
  const forwards: Array<{ host: string; port: number }> = [];
  const sockets = new Set<net.Socket>();
  const clients = new Set<{ end(): unknown }>();
  const server = new Server({ hostKeys: [privateKey] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => recordAuth(ctx, opts, auths));
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          stream.write(`ran: ${info.command}\n`);
          stream.exit(0);
          stream.end();
        });
      });
      client.on('tcpip', (accept, reject, info) => {
        forwards.push({ host: info.destIP, port: info.destPort });
        if (!opts.forward || info.destIP !== '127.0.0.1') return reject();
        const out = net.connect(info.destPort, '127.0.0.1', () => {
          const ch = accept();
          ch.pipe(out).pipe(ch);
        });
        sockets.add(out);
        out.on('error', () => reject());
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    hostKey,
    auths,
    forwards,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        // Connections a test left open must not keep the port busy for the next server.
        for (const c of clients) c.end();
      }),
  };
}
