// What an image build is made of: its build arguments, tags and revision. One definition for the image-build
// task on this machine (build.ts) and for the image job on GitHub (github/image-inputs.ts prints it as step
// outputs), so the two cannot drift apart again: the workflow once built without FLINK_DROP_JARS and kept the
// jars image-build drops. test/unit/github-workflows.test.ts compares both.

import { $ } from 'zx';
import { APACHE_FLINK_KEYS_URL, releaseSigningKey, signatureUrl } from '../flink/release-keys.ts';

/** lib/ jars left out of the image: the Table/SQL stack and the Scala API, unused by DataStream jobs (a fifth of the distribution). */
export const DEFAULT_DROP_JARS: readonly string[] = ['flink-table-*.jar', 'flink-scala_*.jar'];
export const SOURCE_URL = 'https://github.com/fridge/fridge';

/** Apache's release tarball: the Dockerfile's production source, with its SHA-512 published next to it. */
export function apacheReleaseUrl(version: string): string {
  return `https://archive.apache.org/dist/flink/flink-${version}/flink-${version}-bin-scala_2.12.tgz`;
}

/**
 * Who must have signed the distribution (docker/verify-release.sh checks it in the build). Absent: Apache's
 * release, its .asc beside the tarball, Apache's KEYS and the key pinned for the version (flink/release-keys.ts).
 */
export interface DistributionSignature {
  url: string;
  keysUrl: string;
  /** Full fingerprint of the pinned key; '' when none is pinned (the build then refuses, saying so). */
  fingerprint: string;
}

function signatureArgs(version: string, d: ImageArgsInput['distribution']): string[] {
  const s = d.signature ?? { url: signatureUrl(d.url), keysUrl: APACHE_FLINK_KEYS_URL, fingerprint: releaseSigningKey(version) ?? '' };
  return [`FLINK_ASC_URL=${s.url}`, `FLINK_KEYS_URL=${s.keysUrl}`, `FLINK_GPG_KEY=${s.fingerprint}`];
}

export interface ImageArgsInput {
  version: string;
  /** Where the build fetches the distribution, and the SHA-512 it must have. */
  distribution: { url: string; sha512: string; signature?: DistributionSignature };
  /** Flink's configuration file name for this version (config.yaml or flink-conf.yaml). */
  confFile: string;
  dropJars?: readonly string[];
  revision: Revision;
  /** The repository's address, written into the image's labels. */
  sourceUrl?: string;
  /** Absent: the Dockerfile's default base (eclipse-temurin 17 JRE, published for every platform). */
  baseImage?: string;
}

export interface Revision {
  /** git's short sha of HEAD, 'nogit' outside a repository: the image's first tag and its revision label. */
  sha: string;
  /** Commit time (ISO 8601), '' when unknown. */
  created: string;
}

/** The --build-arg values, NAME=value, in a fixed order. */
export function imageBuildArgs(i: ImageArgsInput): string[] {
  return [
    ...(i.baseImage ? [`BASE_IMAGE=${i.baseImage}`] : []),
    `FLINK_VERSION=${i.version}`,
    `FLINK_URL=${i.distribution.url}`,
    `FLINK_SHA512=${i.distribution.sha512}`,
    ...signatureArgs(i.version, i.distribution),
    `FLINK_CONF_FILE=${i.confFile}`,
    `FLINK_DROP_JARS=${(i.dropJars ?? DEFAULT_DROP_JARS).join(' ')}`,
    `VCS_REF=${i.revision.sha}`,
    `SOURCE=${i.sourceUrl ?? SOURCE_URL}`,
    `CREATED=${i.revision.created}`,
  ];
}

/** Tags of one build: the commit, the Flink version, latest. */
export function imageTagNames(revision: Pick<Revision, 'sha'>, version: string): string[] {
  return [revision.sha, version, 'latest'];
}

export async function gitRevision(dir: string): Promise<Revision> {
  const git = $({ quiet: true, nothrow: true, cwd: dir });
  const sha = await git`git rev-parse --short HEAD`;
  const created = await git`git log -1 --format=%cI`;
  return { sha: sha.exitCode === 0 ? sha.stdout.trim() : 'nogit', created: created.exitCode === 0 ? created.stdout.trim() : '' };
}
