// SSH transport: the only module that uses node-ssh. One connection per host, reused for the whole run.
import { NodeSSH } from 'node-ssh';
import type { HostSpec } from '../inventory/types.ts';
import { changedKeyMessage, checkHostKey, rememberHostKey } from './known-hosts.ts';
import { credentialsFor, type Credentials } from './credentials.ts';
import { shq, UnreachableError, type ExecOptions, type ExecResult, type PutOptions, type Transport } from './types.ts';

const CONNECT_TIMEOUT_MS = 10_000;

export interface SshOptions {
  /** Only use these credentials (pi-setup proves key login with key only). */
  auth?: 'any' | 'key' | 'password';
  knownHostsFile?: string;
}

type Verdict = { rejected: false } | { rejected: true; message: string };

async function connectOnce(host: HostSpec, creds: Credentials, auth: 'key' | 'password', knownHosts: string | undefined): Promise<NodeSSH> {
  const ssh = new NodeSSH();
  let verdict: Verdict = { rejected: false };
  try {
    await ssh.connect({
      host: host.address,
      port: host.port,
      username: host.user,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      ...(auth === 'key' ? { privateKey: creds.privateKey } : { password: creds.password }),
      hostVerifier: (key: Buffer) => {
        const check = checkHostKey(host.address, host.port, key, knownHosts);
        if (check.kind === 'changed') {
          verdict = { rejected: true, message: changedKeyMessage(host.name, host.address, host.port, check.line, knownHosts) };
          return false;
        }
        if (check.kind === 'new') rememberHostKey(host.address, host.port, key, knownHosts);
        return true;
      },
    });
    return ssh;
  } catch (err) {
    ssh.dispose();
    const v = verdict as Verdict;
    if (v.rejected) throw new UnreachableError(host.name, v.message);
    throw err;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function openSsh(host: HostSpec, opts: SshOptions = {}): Promise<Transport> {
  const creds = credentialsFor(host);
  const wanted = opts.auth ?? 'any';
  const methods: Array<'key' | 'password'> = [];
  if (wanted !== 'password' && creds.privateKey) methods.push('key');
  if (wanted !== 'key' && creds.password !== undefined) methods.push('password');
  if (methods.length === 0) {
    throw new UnreachableError(host.name, `no SSH credentials for ${host.name}: neither the key file ${host.keyFile ?? '(none)'} nor a password (${host.passwordEnv ?? 'no env var named'}) is available`);
  }
  const errors: string[] = [];
  for (const method of methods) {
    try {
      const ssh = await connectOnce(host, creds, method, opts.knownHostsFile);
      return new SshTransport(host, ssh, creds.password);
    } catch (err) {
      if (err instanceof UnreachableError) throw err;
      errors.push(`${method}: ${describe(err)}`);
      // A refused connection or a timeout will not change with another method.
      if (!/authentication/i.test(describe(err))) break;
    }
  }
  throw new UnreachableError(host.name, `cannot connect to ${host.user}@${host.address}:${host.port} (${errors.join('; ')})`);
}

class SshTransport implements Transport {
  readonly host: string;
  constructor(
    private readonly spec: HostSpec,
    private readonly ssh: NodeSSH,
    private readonly sudoPassword: string | undefined,
  ) {
    this.host = spec.name;
  }

  /** Whether sudo asks for a password (Raspberry Pi OS's pi does not): asked once per connection. */
  private sudoNeedsPassword: Promise<boolean> | undefined;

  private async wrap(command: string, opts: ExecOptions): Promise<{ command: string; stdin: string | undefined }> {
    const needSudo = opts.sudo === true && this.spec.user !== 'root';
    if (!needSudo) return { command, stdin: opts.stdin };
    this.sudoNeedsPassword ??= this.raw('sudo -n true', undefined).then((r) => r.code !== 0);
    if (this.sudoPassword === undefined || !(await this.sudoNeedsPassword)) return { command: `sudo -n sh -c ${shq(command)}`, stdin: opts.stdin };
    // -S reads the password from stdin's first line; -p '' keeps the prompt out of stderr.
    return { command: `sudo -S -p '' sh -c ${shq(command)}`, stdin: `${this.sudoPassword}\n${opts.stdin ?? ''}` };
  }

  private raw(command: string, stdin: string | undefined, cwd?: string): Promise<ExecResult> {
    return this.ssh
      .execCommand(command, { stdin, cwd, noTrim: true })
      .then((r): ExecResult => ({ code: r.code ?? (r.signal ? 128 : 255), stdout: r.stdout, stderr: r.stderr }))
      .catch((err: unknown): never => {
        throw new UnreachableError(this.host, `connection to ${this.spec.address} lost: ${describe(err)}`);
      });
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (!this.ssh.isConnected()) throw new UnreachableError(this.host, `connection to ${this.spec.address} lost`);
    const w = await this.wrap(command, opts);
    const run = this.raw(w.command, w.stdin, opts.cwd);
    if (!opts.timeoutMs) return run;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ExecResult>((resolve) => {
      timer = setTimeout(() => resolve({ code: 124, stdout: '', stderr: `timed out after ${opts.timeoutMs} ms` }), opts.timeoutMs);
    });
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async put(remotePath: string, content: string | Buffer, opts: PutOptions = {}): Promise<void> {
    const b64 = Buffer.from(content).toString('base64');
    const tmp = `${remotePath}.fridge-tmp`;
    const mode = (opts.mode ?? 0o644).toString(8);
    const chown = opts.owner ? ` && chown ${shq(opts.owner)} ${shq(tmp)}` : '';
    const cmd = `mkdir -p "$(dirname ${shq(remotePath)})" && base64 -d > ${shq(tmp)} && chmod ${mode} ${shq(tmp)}${chown} && mv -f ${shq(tmp)} ${shq(remotePath)}`;
    const r = await this.exec(cmd, { sudo: opts.sudo, stdin: b64 });
    if (r.code !== 0) throw new Error(`writing ${remotePath} on ${this.host} failed: ${r.stderr.trim()}`);
  }

  async putFile(localPath: string, remotePath: string, opts: PutOptions = {}): Promise<void> {
    const staging = `/tmp/.fridge-upload-${process.pid}-${Date.now()}`;
    try {
      await this.ssh.putFile(localPath, staging);
    } catch (err) {
      throw new UnreachableError(this.host, `upload to ${this.spec.address} failed: ${describe(err)}`);
    }
    const mode = (opts.mode ?? 0o644).toString(8);
    const chown = opts.owner ? ` && chown ${shq(opts.owner)} ${shq(staging)}` : '';
    const r = await this.exec(`mkdir -p "$(dirname ${shq(remotePath)})" && chmod ${mode} ${shq(staging)}${chown} && mv -f ${shq(staging)} ${shq(remotePath)}`, { sudo: opts.sudo });
    if (r.code !== 0) throw new Error(`moving upload to ${remotePath} on ${this.host} failed: ${r.stderr.trim()}`);
  }

  async get(remotePath: string, opts: { sudo?: boolean } = {}): Promise<string | undefined> {
    const r = await this.exec(`if [ -e ${shq(remotePath)} ]; then cat ${shq(remotePath)}; else exit 3; fi`, { sudo: opts.sudo });
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new Error(`reading ${remotePath} on ${this.host} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async close(): Promise<void> {
    this.ssh.dispose();
  }
}
