// The registry login of the machine that builds and pushes the image: the same decision as the leader's
// (login-mark.ts), with docker's config and the mark on this machine; the mark lives in .fridge/.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { STATE_DIR } from '../paths.ts';
import { markFileName, type LoginFacts } from './login-mark.ts';

export const LOCAL_MARK_DIR = path.join(STATE_DIR, 'registry');

function dockerConfigFile(env: Record<string, string | undefined>): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
}

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

export async function localLoginFacts(host: string, env: Record<string, string | undefined> = process.env, markDir = LOCAL_MARK_DIR): Promise<LoginFacts> {
  const config = await readOrUndefined(dockerConfigFile(env));
  return { mark: await readOrUndefined(path.join(markDir, markFileName(host))), configHasHost: config?.includes(`"${host}"`) === true };
}

export async function writeLocalLoginMark(host: string, mark: string, markDir = LOCAL_MARK_DIR): Promise<void> {
  await fs.mkdir(markDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(markDir, markFileName(host)), mark, { mode: 0o600 });
}
