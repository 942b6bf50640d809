// The ways a connection may authenticate, in ssh's order: key files, then ssh-agent, then (target only) the
// password. A passphrase-protected key is left to ssh-agent when one runs, asked for on a terminal, and
// otherwise refused with a message saying how to provide it; it is never read from the inventory.
import fs from 'node:fs';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import ssh2, { type AgentAuthMethod, type ParsedKey, type PasswordAuthMethod, type PublicKeyAuthMethod } from 'ssh2';
import { registerSecret } from '../secrets.ts';

// ssh2 is CommonJS and Node's ESM loader cannot see `utils` as a named export: take it from the default.
const { utils } = ssh2;

export type KeyAuth = PublicKeyAuthMethod | AgentAuthMethod;

export interface KeyAuthPlan {
  attempts: KeyAuth[];
  /** Keys that could not be used, each with why and what to do. */
  problems: string[];
}

/** Asks for a key's passphrase; undefined when nobody can be asked. */
export type PassphrasePrompt = (file: string) => Promise<string | undefined>;

const MAX_PASSPHRASE_TRIES = 3;

/** SSH_AUTH_SOCK when it names a live socket (a stale one makes ssh2 abort the whole connection). */
export function agentSocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const sock = env.SSH_AUTH_SOCK;
  if (!sock) return undefined;
  try {
    return fs.statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

function promptOnTerminal(file: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(undefined);
  process.stderr.write(`Enter passphrase for key '${file}': `);
  // The answer must not be echoed: readline writes typed characters to this muted stream.
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = readline.createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.once('line', (line) => {
      rl.close();
      process.stderr.write('\n');
      resolve(line);
    });
    rl.once('close', () => resolve(undefined));
  });
}

let prompt: PassphrasePrompt = promptOnTerminal;

/** Tests replace the terminal; production keeps promptOnTerminal. */
export function setPassphrasePrompt(p: PassphrasePrompt | undefined): void {
  prompt = p ?? promptOnTerminal;
  unlocked.clear();
}

/** One question per key file per run, whatever the number of hosts; prompts never overlap. The decrypted key
 * is kept (in memory only): decrypting a bcrypt-protected key takes about a second. */
const unlocked = new Map<string, Promise<ParsedKey | undefined>>();
let promptQueue: Promise<unknown> = Promise.resolve();

function isEncryptedKeyError(err: Error): boolean {
  return /encrypted|passphrase/i.test(err.message);
}

async function unlock(file: string, data: Buffer): Promise<ParsedKey | undefined> {
  let found = unlocked.get(file);
  if (!found) {
    const ask = async (): Promise<ParsedKey | undefined> => {
      for (let i = 0; i < MAX_PASSPHRASE_TRIES; i++) {
        const pass = await prompt(file);
        if (pass === undefined) return undefined;
        registerSecret(pass);
        const key = utils.parseKey(data, pass);
        if (!(key instanceof Error)) return key;
        process.stderr.write(`Bad passphrase for ${file}, try again.\n`);
      }
      return undefined;
    };
    found = promptQueue.then(ask);
    promptQueue = found.catch(() => undefined);
    unlocked.set(file, found);
  }
  return found;
}

function readKeyFile(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Key files that do not exist are skipped silently: pi-setup creates the inventory's key, and ssh does the same. */
export async function planKeyAuth(files: string[], username: string, agent: string | undefined): Promise<KeyAuthPlan> {
  const attempts: KeyAuth[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const data = readKeyFile(file);
    if (!data) continue;
    const parsed = utils.parseKey(data);
    if (!(parsed instanceof Error)) {
      attempts.push({ type: 'publickey', username, key: data });
      continue;
    }
    if (!isEncryptedKeyError(parsed)) {
      problems.push(`the key ${file} cannot be used: ${parsed.message}`);
      continue;
    }
    // ssh-agent holds decrypted keys: asking again would only interrupt an unattended run.
    if (agent) {
      problems.push(`the key ${file} is protected by a passphrase and was left to ssh-agent: if login fails, add it with: ssh-add ${file}`);
      continue;
    }
    const key = await unlock(file, data);
    if (key === undefined) {
      problems.push(
        `the key ${file} is protected by a passphrase and there is no ssh-agent (SSH_AUTH_SOCK) and no terminal to ask on: ` +
          `start one and add the key (eval "$(ssh-agent)"; ssh-add ${file}), or run on a terminal`,
      );
      continue;
    }
    attempts.push({ type: 'publickey', username, key });
  }
  if (agent) attempts.push({ type: 'agent', username, agent });
  return { attempts, problems };
}

export function passwordAuth(username: string, password: string): PasswordAuthMethod {
  return { type: 'password', username, password };
}
