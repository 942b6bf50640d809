// One interface for every way of reaching a host (SSH, this machine). node-ssh is used only in ssh.ts.

export interface ExecOptions {
  /** Run through sudo (non-interactive; the password, when needed, goes through stdin, never argv). */
  sudo?: boolean;
  /** Text written to the command's stdin. */
  stdin?: string;
  /** Abort after this many milliseconds (result code 124). */
  timeoutMs?: number;
  /** Working directory. */
  cwd?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PutOptions {
  mode?: number;
  sudo?: boolean;
  owner?: string;
}

export interface Transport {
  readonly host: string;
  /** Runs a POSIX sh command line. Never throws for a non-zero exit; throws UnreachableError when the host cannot be reached. */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes a file atomically (temp file + mv). */
  put(remotePath: string, content: string | Buffer, opts?: PutOptions): Promise<void>;
  /** Copies a local file to the host. */
  putFile(localPath: string, remotePath: string, opts?: PutOptions): Promise<void>;
  /** Reads a file; undefined when it does not exist. */
  get(remotePath: string, opts?: { sudo?: boolean }): Promise<string | undefined>;
  close(): Promise<void>;
  /** The address this connection went to, when it is not the inventory's (a moved Pi found at its first contact). */
  readonly address?: string;
  /** The host key the host proved it holds on this connection (SSH only). */
  readonly hostKey?: Buffer;
  /**
   * Drops the connection without a goodbye, for an address the host no longer has (pi-setup moved it): a polite
   * close would wait for an answer that never comes, and its socket would keep the command from exiting.
   */
  abandon?(): void;
}

/** The host could not be reached (connection refused, timeout, authentication failed, host key changed). */
export class UnreachableError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** Quotes a string for POSIX sh (dash), unlike zx's quote() which may produce bash-only $'...'. */
export function shq(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
