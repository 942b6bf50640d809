// Where an SSH connection really goes: the inventory's ansible_* values, completed by the operator's
// ~/.ssh/config as `ssh` (and so Ansible) would read it. Precedence, as in Ansible:
//   address  ansible_host is the name matched against `Host` patterns; a matching `HostName` replaces it
//            (Ansible hands ansible_host to ssh, and ssh applies HostName).
//   port     explicit ansible_port > ssh config `Port` > 22
//   user     explicit ansible_user > ssh config `User` > pi (Fridge's default, the Pi's first user)
//   keys     FRIDGE_SSH_KEY_FILE > ansible_ssh_private_key_file, then every ssh config `IdentityFile` (none named:
//            ~/.ssh/id_ed25519, id_ecdsa, id_rsa), then ssh-agent
//   jumps    ssh config `ProxyJump` (each hop's own section applies to it, its key checked in known_hosts)
// `Match exec` is never run and `Include` is not followed (documented limits).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { DEFAULTS } from '../inventory/normalise.ts';
import type { HostSpec } from '../inventory/types.ts';

export interface SshHop {
  /** What the operator wrote (alias or address), for messages. */
  label: string;
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
}

export interface SshTarget extends SshHop {
  /** Jump hosts in the order they are connected through (first one is reached directly). */
  jumps: SshHop[];
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; message: string };

const DEFAULT_PORT = DEFAULTS.port;
const MAX_JUMPS = 8;
const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** FRIDGE_SSH_CONFIG names another file; `none` (or empty) reads none, as `ssh -F none`. */
export function sshConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.FRIDGE_SSH_CONFIG;
  if (named === undefined) return path.join(os.homedir(), '.ssh', 'config');
  return named === '' || named === 'none' ? undefined : named;
}

export function loadSshConfig(file: string | undefined = sshConfigFile()): Resolved<SSHConfig | undefined> {
  if (!file) return { ok: true, value: undefined };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: undefined };
    return { ok: false, message: `cannot read the SSH config ${file}: ${(err as Error).message}` };
  }
  try {
    return { ok: true, value: SSHConfig.parse(text) };
  } catch (err) {
    return { ok: false, message: `cannot parse the SSH config ${file}: ${(err as Error).message}` };
  }
}

type Computed = Record<string, string | string[]>;

function compute(config: SSHConfig | undefined, host: string, user: string | undefined): Computed {
  if (!config) return {};
  // Match exec would run the config's shell commands from inside Fridge: never.
  return config.compute(user === undefined ? { Host: host } : { Host: host, User: user }, { ignoreCase: true, matchExec: false });
}

function one(c: Computed, key: string): string | undefined {
  const v = c[key];
  return Array.isArray(v) ? v[0] : v;
}

function many(c: Computed, key: string): string[] {
  const v = c[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** ssh_config(5) TOKENS for the directives we read; an unknown token stays as written. */
function expand(value: string, t: { host: string; original: string; user: string; port: number }): string {
  const home = os.homedir();
  const withHome = value.startsWith('~/') ? path.join(home, value.slice(2)) : value;
  return withHome.replace(/%([%dhnprul])/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'd':
        return home;
      case 'h':
        return t.host;
      case 'n':
        return t.original;
      case 'p':
        return String(t.port);
      case 'r':
        return t.user;
      case 'u':
        return os.userInfo().username;
      default:
        return os.hostname();
    }
  });
}

function parsePort(raw: string | undefined, where: string): Resolved<number | undefined> {
  if (raw === undefined) return { ok: true, value: undefined };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return { ok: false, message: `${where}: Port ${raw} is not a port number (1-65535)` };
  return { ok: true, value: n };
}

/** `[user@]host[:port]`, `[user@][v6]:port` or `ssh://[user@]host[:port]`. */
export function parseJumpSpec(spec: string): Resolved<{ user: string | undefined; host: string; port: number | undefined }> {
  const m = /^(?:ssh:\/\/)?(?:([^@/\s]+)@)?(\[[^\]]+\]|[^:@/\s]+)(?::(\d+))?\/?$/.exec(spec.trim());
  if (!m?.[2]) return { ok: false, message: `ProxyJump ${spec}: expected [user@]host[:port]` };
  const port = parsePort(m[3], `ProxyJump ${spec}`);
  if (!port.ok) return port;
  return { ok: true, value: { user: m[1], host: m[2].replace(/^\[(.*)\]$/, '$1'), port: port.value } };
}

interface HopRequest {
  name: string;
  user: string | undefined;
  port: number | undefined;
  /** Keys named outside the ssh config (the inventory's, FRIDGE_SSH_KEY_FILE), tried first. */
  keys: string[];
  defaultUser: string;
}

function resolveHop(config: SSHConfig | undefined, req: HopRequest, where: string, depth: number): Resolved<{ hop: SshHop; jumps: SshHop[] }> {
  const c = compute(config, req.name, req.user);
  const port = parsePort(one(c, 'port'), `${where} (Host ${req.name})`);
  if (!port.ok) return port;
  const user = req.user ?? one(c, 'user') ?? req.defaultUser;
  const finalPort = req.port ?? port.value ?? DEFAULT_PORT;
  const hostName = one(c, 'hostname');
  const address = hostName ? expand(hostName, { host: req.name, original: req.name, user, port: finalPort }) : req.name;
  const tokens = { host: address, original: req.name, user, port: finalPort };
  const named = [...req.keys, ...many(c, 'identityfile').map((f) => expand(f, tokens))].filter((f, i, all) => all.indexOf(f) === i);
  // As ssh: with no key named anywhere, its default identities (the missing ones are skipped when read).
  const identityFiles = named.length ? named : DEFAULT_IDENTITIES.map((f) => path.join(os.homedir(), '.ssh', f));
  const hop: SshHop = { label: req.name, address, port: finalPort, user, identityFiles };

  const proxy = one(c, 'proxyjump');
  if (proxy === undefined || proxy.toLowerCase() === 'none') return { ok: true, value: { hop, jumps: [] } };
  if (depth >= MAX_JUMPS) return { ok: false, message: `${where}: ProxyJump chain longer than ${MAX_JUMPS} hops (a loop in the SSH config?)` };
  const jumps: SshHop[] = [];
  for (const spec of proxy.split(',')) {
    const parsed = parseJumpSpec(spec);
    if (!parsed.ok) return { ok: false, message: `${where} (Host ${req.name}): ${parsed.message}` };
    // A jump host gets its own section, never the target's user or the inventory's keys as its identity;
    // ssh-agent and its own IdentityFile lines authenticate it.
    const sub = resolveHop(config, { name: parsed.value.host, user: parsed.value.user, port: parsed.value.port, keys: [], defaultUser: os.userInfo().username }, where, depth + 1);
    if (!sub.ok) return sub;
    jumps.push(...sub.value.jumps, sub.value.hop);
  }
  return { ok: true, value: { hop, jumps } };
}

/** Explicit means set anywhere in the inventory (host or group variables), as Ansible passes it with -o;
 * a HostSpec built in code (the virtual fridge, tests) has no vars, but a value other than the default was set. */
function explicit(host: HostSpec, name: 'ansible_port' | 'ansible_user'): boolean {
  if (Object.prototype.hasOwnProperty.call(host.vars, name)) return true;
  return name === 'ansible_port' ? host.port !== DEFAULTS.port : host.user !== DEFAULTS.user;
}

export function resolveSshTarget(host: HostSpec, config: SSHConfig | undefined, keyFile: string | undefined, configFile = 'SSH config'): Resolved<SshTarget> {
  const r = resolveHop(
    config,
    {
      name: host.address,
      user: explicit(host, 'ansible_user') ? host.user : undefined,
      port: explicit(host, 'ansible_port') ? host.port : undefined,
      keys: keyFile ? [keyFile] : [],
      defaultUser: host.user,
    },
    configFile,
    0,
  );
  if (!r.ok) return r;
  return { ok: true, value: { ...r.value.hop, label: host.name, jumps: r.value.jumps } };
}
