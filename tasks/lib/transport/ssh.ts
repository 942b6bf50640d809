// SSH transport: the only module that uses node-ssh. One connection per host, reused for the whole run.
import { NodeSSH } from 'node-ssh';
import type { Duplex } from 'node:stream';
import type { AnyAuthMethod } from 'ssh2';
import type { HostSpec } from '../inventory/types.ts';
import { changedKeyMessage, checkHostKey, hostPattern, rememberHostKey } from './known-hosts.ts';
import { keyFileFor, passwordFor } from './credentials.ts';
import { agentSocket, passwordAuth, planKeyAuth } from './ssh-auth.ts';
import { loadSshConfig, resolveSshTarget, sshConfigFile, type SshHop, type SshTarget } from './ssh-config.ts';
import { makeStagingDir, removeStagingDir } from './staging.ts';
import { shq, UnreachableError, type ExecOptions, type ExecResult, type PutOptions, type Transport } from './types.ts';

const CONNECT_TIMEOUT_MS = 10_000;

export interface SshOptions {
  /** Only use these credentials. 'key' includes ssh-agent and the SSH config's IdentityFile lines;
   * 'inventory-key' is the key file the inventory (or FRIDGE_SSH_KEY_FILE) names, alone when one is named:
   * pi-setup proves that one before turning passwords off, since CI has no agent and no ~/.ssh/config. */
  auth?: 'any' | 'key' | 'inventory-key' | 'password';
  knownHostsFile?: string;
}

type Verdict = { rejected: false } | { rejected: true; message: string };

/** The host key each connection was accepted with (a move pins it at the host's new address). */
const acceptedKeys = new WeakMap<NodeSSH, Buffer>();

/** One SSH connection to one hop. The host key is checked before any credential leaves this machine:
 * ssh2 sends nothing of authHandler's until hostVerifier returned true. */
async function connectHop(name: string, hop: SshHop, auth: AnyAuthMethod[], knownHosts: string | undefined, sock: Duplex | undefined): Promise<NodeSSH> {
  const ssh = new NodeSSH();
  let verdict: Verdict = { rejected: false };
  try {
    await ssh.connect({
      ...(sock ? { sock } : { host: hop.address, port: hop.port }),
      username: hop.user,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      tryKeyboard: false,
      authHandler: auth,
      hostVerifier: (key: Buffer) => {
        const check = checkHostKey(hop.address, hop.port, key, knownHosts);
        if (check.kind === 'changed') {
          verdict = { rejected: true, message: changedKeyMessage(name, hop.address, hop.port, check.line, knownHosts, check) };
          return false;
        }
        if (check.kind === 'new') rememberHostKey(hop.address, hop.port, key, knownHosts);
        acceptedKeys.set(ssh, key);
        return true;
      },
    });
    // A peer that vanishes (its address moved away, a pulled plug) makes ssh2 emit 'error' from its keepalive timer;
    // unheard, that would end the whole command. The next exec on this connection reports it as lost instead.
    ssh.connection?.on('error', () => undefined);
    return ssh;
  } catch (err) {
    ssh.dispose();
    const v = verdict as Verdict;
    if (v.rejected) throw new UnreachableError(name, v.message);
    throw err;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A TCP stream to `hop`, opened by the previous hop (ssh -J's direct-tcpip channel). */
function forwardThrough(via: NodeSSH, hop: SshHop): Promise<Duplex> {
  const client = via.connection;
  if (!client) return Promise.reject(new Error('jump host connection closed'));
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, hop.address, hop.port, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Connects every ProxyJump hop in turn; the last one carries the target's connection. */
async function connectJumps(host: HostSpec, target: SshTarget, agent: string | undefined, knownHosts: string | undefined): Promise<NodeSSH[]> {
  const open: NodeSSH[] = [];
  try {
    for (const hop of target.jumps) {
      const where = `jump host ${hop.label} (${hop.user}@${hostPattern(hop.address, hop.port)}) of ${host.name}`;
      const plan = await planKeyAuth(hop.identityFiles, hop.user, agent);
      if (plan.attempts.length === 0) {
        throw new UnreachableError(host.name, `no credentials for the ${where}: no ssh-agent and no usable IdentityFile${plan.problems.length ? ` (${plan.problems.join('; ')})` : ''}`);
      }
      const prev = open.at(-1);
      try {
        const sock = prev ? await forwardThrough(prev, hop) : undefined;
        open.push(await connectHop(host.name, hop, plan.attempts, knownHosts, sock));
      } catch (err) {
        if (err instanceof UnreachableError) throw err;
        throw new UnreachableError(host.name, `cannot connect to the ${where}: ${describe(err)}${plan.problems.length ? ` (${plan.problems.join('; ')})` : ''}`);
      }
    }
    return open;
  } catch (err) {
    for (const c of open) c.dispose();
    throw err;
  }
}

function resolveTarget(host: HostSpec): SshTarget {
  const file = sshConfigFile();
  const config = loadSshConfig(file);
  if (!config.ok) throw new UnreachableError(host.name, config.message);
  const target = resolveSshTarget(host, config.value, keyFileFor(host), file);
  if (!target.ok) throw new UnreachableError(host.name, target.message);
  return target.value;
}

export async function openSsh(host: HostSpec, opts: SshOptions = {}): Promise<Transport> {
  const target = resolveTarget(host);
  const wanted = opts.auth ?? 'any';
  const agent = agentSocket();
  const password = passwordFor(host);
  const named = keyFileFor(host);
  const onlyNamed = wanted === 'inventory-key' && named !== undefined;
  const keys =
    wanted === 'password'
      ? { attempts: [], problems: [] }
      : await planKeyAuth(onlyNamed ? [named] : target.identityFiles, target.user, onlyNamed ? undefined : agent);
  const methods: Array<{ name: 'key' | 'password'; auth: AnyAuthMethod[] }> = [];
  if (keys.attempts.length > 0) methods.push({ name: 'key', auth: keys.attempts });
  if (wanted !== 'key' && wanted !== 'inventory-key' && password !== undefined) methods.push({ name: 'password', auth: [passwordAuth(target.user, password)] });
  const hints = keys.problems.length ? ` (${keys.problems.join('; ')})` : '';
  if (methods.length === 0) {
    const files = target.identityFiles.length ? target.identityFiles.join(', ') : '(none)';
    throw new UnreachableError(host.name, `no SSH credentials for ${host.name}: no usable key file (${files}), no ssh-agent (SSH_AUTH_SOCK), no password (${host.passwordEnv ?? 'no env var named'})${hints}`);
  }
  const errors: string[] = [];
  const jumps = await connectJumps(host, target, agent, opts.knownHostsFile);
  for (const method of methods) {
    try {
      const via = jumps.at(-1);
      const sock = via ? await forwardThrough(via, target) : undefined;
      const ssh = await connectHop(host.name, target, method.auth, opts.knownHostsFile, sock);
      return new SshTransport(host, ssh, password, jumps);
    } catch (err) {
      if (err instanceof UnreachableError) {
        for (const j of jumps) j.dispose();
        throw err;
      }
      errors.push(`${method.name}: ${describe(err)}`);
      // A refused connection or a timeout will not change with another method.
      if (!/authentication/i.test(describe(err))) break;
    }
  }
  for (const j of jumps) j.dispose();
  const via = target.jumps.length ? ` via ${target.jumps.map((j) => hostPattern(j.address, j.port)).join(' → ')}` : '';
  throw new UnreachableError(host.name, `cannot connect to ${target.user}@${target.address}:${target.port}${via} (${errors.join('; ')})${hints}`);
}

class SshTransport implements Transport {
  readonly host: string;
  get address(): string {
    return this.spec.address;
  }

  get hostKey(): Buffer | undefined {
    return acceptedKeys.get(this.ssh);
  }
  constructor(
    private readonly spec: HostSpec,
    private readonly ssh: NodeSSH,
    private readonly sudoPassword: string | undefined,
    private readonly jumps: NodeSSH[] = [],
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

  /** Uploads into a fresh `mktemp -d` directory (mode 0700, owned by the login user): no other local user of
   * the host can pre-create, read or swap the file before it is moved into place, possibly by root. */
  async putFile(localPath: string, remotePath: string, opts: PutOptions = {}): Promise<void> {
    const made = await makeStagingDir(this, 'fridge-upload');
    if (!made.ok) throw new Error(made.message);
    const dir = made.dir;
    const staged = `${dir}/upload`;
    try {
      try {
        await this.ssh.putFile(localPath, staged);
      } catch (err) {
        throw new UnreachableError(this.host, `upload to ${this.spec.address} failed: ${describe(err)}`);
      }
      const mode = (opts.mode ?? 0o644).toString(8);
      const chown = opts.owner ? ` && chown ${shq(opts.owner)} ${shq(staged)}` : '';
      const r = await this.exec(`mkdir -p "$(dirname ${shq(remotePath)})" && chmod ${mode} ${shq(staged)}${chown} && mv -f ${shq(staged)} ${shq(remotePath)}`, { sudo: opts.sudo });
      if (r.code !== 0) throw new Error(`moving upload to ${remotePath} on ${this.host} failed: ${r.stderr.trim()}`);
    } finally {
      await removeStagingDir(this, dir);
    }
  }

  async get(remotePath: string, opts: { sudo?: boolean } = {}): Promise<string | undefined> {
    const r = await this.exec(`if [ -e ${shq(remotePath)} ]; then cat ${shq(remotePath)}; else exit 3; fi`, { sudo: opts.sudo });
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new Error(`reading ${remotePath} on ${this.host} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async close(): Promise<void> {
    this.ssh.dispose();
    for (const j of [...this.jumps].reverse()) j.dispose();
  }

  abandon(): void {
    this.ssh.connection?.destroy();
    for (const j of [...this.jumps].reverse()) j.connection?.destroy();
  }
}
