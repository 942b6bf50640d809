// The build context: docker/'s Dockerfile and scripts plus the baked default configuration. Small on
// purpose: the distribution does not travel in the context but through FLINK_URL, its SHA-512 and its
// signature (verify-release.sh checks it in the build).

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateFlinkConfig, renderFlatYaml, versionKeys } from '../flink/config.ts';
import type { HostShare } from '../flink/memory.ts';
import { DOCKER_DIR } from './base.ts';

const FILES = ['Dockerfile', 'entrypoint.sh', 'launch.sh', 'healthcheck.sh', 'java.security', 'flink-classes.lst', 'verify-release.sh'];

/** The image's own default: a JobManager and a TaskManager sharing one 1 GiB Pi, the smallest supported. */
export function defaultImageConfig(version: string, stateDir: string): string {
  const pi: HostShare = { name: 'image-default', model: '3B', memoryMiB: 1024, jobmanager: true, taskmanagers: 1 };
  const r = generateFlinkConfig({ version, jobmanagerHost: pi, taskmanagerHost: pi, slots: 1, stateDir, properties: {} });
  if (!r.ok) throw new Error(`bug: the image's default profile is refused: ${r.problems.map((p) => p.message).join('; ')}`);
  // Flat keys: the entrypoint merges FLINK_PROPERTIES into them line by line.
  return `# Fridge's default for Flink ${version}; FLINK_PROPERTIES overrides it at container start.\n${renderFlatYaml(r.config.properties)}`;
}

export interface BuildContext {
  dir: string;
  /** Hash of everything in the context: part of the inputs that decide whether a build is needed. */
  hash: string;
  confFile: string;
}

/** Hash of what the context will hold, without writing it (read-only: usable when gathering facts). */
export async function contextHash(version: string, stateDir: string): Promise<string> {
  const h = createHash('sha256');
  for (const f of FILES) h.update(f).update('\0').update(await readFile(path.join(DOCKER_DIR, f))).update('\0');
  h.update('fridge-base.yaml\0').update(defaultImageConfig(version, stateDir));
  return h.digest('hex').slice(0, 16);
}

export async function writeContext(dir: string, version: string, stateDir: string): Promise<BuildContext> {
  await mkdir(dir, { recursive: true });
  for (const f of FILES) await copyFile(path.join(DOCKER_DIR, f), path.join(dir, f));
  await writeFile(path.join(dir, 'fridge-base.yaml'), defaultImageConfig(version, stateDir));
  return { dir, hash: await contextHash(version, stateDir), confFile: versionKeys(version).file };
}
