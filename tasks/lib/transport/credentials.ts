// Where a host's SSH secrets come from: the key file it names, a password from the env var or file it names.
import fs from 'node:fs';
import type { HostSpec } from '../inventory/types.ts';
import { registerSecret } from '../secrets.ts';
import { UnreachableError } from './types.ts';

export interface Credentials {
  privateKey: string | undefined;
  password: string | undefined;
}

function readIfExists(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export type PasswordFile = { kind: 'absent' } | { kind: 'ok'; password: string } | { kind: 'refused'; message: string };

/**
 * The password file is read only when nobody but its owner can read it, as ssh refuses a private key
 * that others can read: a password readable by the group or everyone is no longer a secret.
 */
export function readPasswordFile(file: string): PasswordFile {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { kind: 'absent' };
  }
  try {
    // The mode of the file read, not of whatever the path names a moment later.
    const mode = fs.fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const octal = mode.toString(8).padStart(3, '0');
      return { kind: 'refused', message: `fridge_ssh_password_file ${file} has mode ${octal}: users other than its owner can read or change it; run \`chmod 600 ${file}\`` };
    }
    return { kind: 'ok', password: fs.readFileSync(fd, 'utf8').replace(/\r?\n$/, '') };
  } catch {
    return { kind: 'absent' };
  } finally {
    fs.closeSync(fd);
  }
}

export function passwordFor(host: HostSpec): string | undefined {
  const fromEnv = host.passwordEnv ? process.env[host.passwordEnv] : undefined;
  const file = typeof host.vars.fridge_ssh_password_file === 'string' ? host.vars.fridge_ssh_password_file : undefined;
  let password = fromEnv;
  if (password === undefined && file) {
    const read = readPasswordFile(file);
    // Nothing can be done on the host without its credentials: the host is unreachable for this run.
    if (read.kind === 'refused') throw new UnreachableError(host.name, read.message);
    if (read.kind === 'ok') password = read.password;
  }
  registerSecret(password);
  return password;
}

/** FRIDGE_SSH_KEY_FILE overrides the inventory's key file: CI writes the key from a secret to a temporary file. */
export function keyFileFor(host: HostSpec): string | undefined {
  return process.env.FRIDGE_SSH_KEY_FILE || host.keyFile;
}

export function credentialsFor(host: HostSpec): Credentials {
  return { privateKey: readIfExists(keyFileFor(host)), password: passwordFor(host) };
}
