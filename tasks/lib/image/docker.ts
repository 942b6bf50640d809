// The docker CLI calls the image build needs, each returning data. Secrets never reach argv: the
// registry password goes to `docker login --password-stdin`.

import { createHash } from 'node:crypto';
import { $, type ProcessOutput } from 'zx';
import { mask } from '../secrets.ts';

// Debian's docker 20.10 still hides `docker manifest` behind the experimental CLI switch.
const env = { ...process.env, DOCKER_CLI_EXPERIMENTAL: 'enabled', DOCKER_BUILDKIT: '0' };
const sh = $({ quiet: true, nothrow: true, env });

export interface CmdResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function result(p: ProcessOutput): CmdResult {
  return { ok: p.exitCode === 0, stdout: p.stdout, stderr: mask(p.stderr) };
}

export function tail(text: string, lines = 8): string {
  return mask(text.trim().split('\n').slice(-lines).join(' | '));
}

export async function docker(args: string[], input?: string): Promise<CmdResult> {
  const p = sh`docker ${args}`;
  if (input !== undefined) {
    p.stdin.write(input);
    p.stdin.end();
  }
  return result(await p);
}

export async function hasBuildx(): Promise<boolean> {
  return (await docker(['buildx', 'version'])).ok;
}

export async function login(host: string, username: string, password: string): Promise<CmdResult> {
  return docker(['login', '--username', username, '--password-stdin', host], `${password}\n`);
}

export interface LocalImage {
  id: string;
  sizeBytes: number;
  labels: Record<string, string>;
  architecture: string;
  variant: string;
  /** Hash of the layer chain: equal for two images that differ only in metadata (labels). */
  contentKey: string;
  /** repo@sha256:… for each repository this image was pushed to or pulled from. */
  repoDigests: string[];
}

export async function inspectImage(ref: string): Promise<LocalImage | undefined> {
  const r = await docker(['image', 'inspect', '--format', '{{json .}}', ref]);
  if (!r.ok) return undefined;
  const j = JSON.parse(r.stdout) as { Id: string; Size: number; Architecture: string; Variant?: string; Config?: { Labels?: Record<string, string> | null }; RootFS?: { Layers?: string[] }; RepoDigests?: string[] | null };
  const contentKey = createHash('sha256').update((j.RootFS?.Layers ?? []).join(',')).digest('hex');
  return { id: j.Id, sizeBytes: j.Size, labels: j.Config?.Labels ?? {}, architecture: j.Architecture, variant: j.Variant ?? '', contentKey, repoDigests: j.RepoDigests ?? [] };
}

/** A reference's manifest in the registry: a list (platform → digest) or a single image (its layers). */
export type RemoteManifest =
  | { kind: 'list'; entries: Array<{ digest: string; platform: string }> }
  | { kind: 'image'; digest?: string; compressedBytes: number }
  | { kind: 'absent' };

interface RawManifest {
  mediaType?: string;
  manifests?: Array<{ digest: string; platform: { os: string; architecture: string; variant?: string } }>;
  config?: { size: number };
  layers?: Array<{ size: number }>;
}

export async function remoteManifest(ref: string, insecure: boolean): Promise<RemoteManifest> {
  const r = await docker(['manifest', 'inspect', ...(insecure ? ['--insecure'] : []), ref]);
  if (!r.ok) return { kind: 'absent' };
  const m = JSON.parse(r.stdout) as RawManifest;
  if (m.manifests) {
    return {
      kind: 'list',
      entries: m.manifests.map((e) => ({ digest: e.digest, platform: [e.platform.os, e.platform.architecture, e.platform.variant].filter(Boolean).join('/') })),
    };
  }
  return { kind: 'image', compressedBytes: (m.config?.size ?? 0) + (m.layers ?? []).reduce((a, l) => a + l.size, 0) };
}

/** Pushes one tag and returns the manifest digest the registry stored. */
export async function push(ref: string): Promise<{ ok: true; digest: string } | { ok: false; msg: string }> {
  const r = await docker(['push', ref]);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
  if (!r.ok || !digest) return { ok: false, msg: `docker push ${ref} failed: ${tail(r.stderr || r.stdout)}` };
  return { ok: true, digest };
}
