// Where a host's SSH secrets come from: the key file it names, a password from the env var or file it names.
import fs from 'node:fs';
import type { HostSpec } from '../inventory/types.ts';
import { registerSecret } from '../secrets.ts';

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

export function passwordFor(host: HostSpec): string | undefined {
  const fromEnv = host.passwordEnv ? process.env[host.passwordEnv] : undefined;
  const file = typeof host.vars.fridge_ssh_password_file === 'string' ? host.vars.fridge_ssh_password_file : undefined;
  const password = fromEnv ?? readIfExists(file)?.replace(/\r?\n$/, '');
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
