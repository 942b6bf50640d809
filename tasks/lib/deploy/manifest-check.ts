// The image's manifest read from the leader: which platforms it has. For a private registry the nodes do not
// pull before the deploy (credentials live on the leader only), so this is the check that a deploy is not doomed
// by an image that lacks a node's platform or is not in the registry at all; for a public one it names the
// platforms the image has when a pull failed for want of the node's.
import type { Plan, Step } from '../engine/types.ts';
import type { Inventory } from '../inventory/types.ts';
import { fail, ok, skip, unmet } from '../steps/common.ts';
import { shq, type Transport } from '../transport/types.ts';
import type { PullLedger } from './pre-pull.ts';

export interface ManifestFacts {
  code: number;
  stdout: string;
  stderr: string;
}

export type ManifestReading =
  | { kind: 'list'; platforms: string[] }
  /** A single image manifest: its platform is in the config blob, not worth a second request here. */
  | { kind: 'single' }
  | { kind: 'absent'; answer: string }
  | { kind: 'no-docker' }
  | { kind: 'unknown'; answer: string };

/** linux/arm64/v8 and linux/arm64 are the same platform to a pull. */
export function samePlatform(p: string): string {
  return p === 'linux/arm64/v8' ? 'linux/arm64' : p;
}

// Debian's docker.io 20.10 (the node engines) keeps `docker manifest` behind the experimental switch.
export function manifestCommand(ref: string, insecure: boolean): string {
  return `DOCKER_CLI_EXPERIMENTAL=enabled docker manifest inspect${insecure ? ' --insecure' : ''} ${shq(ref)}`;
}

export async function readManifest(transport: Transport, ref: string, insecure: boolean): Promise<ManifestFacts> {
  const r = await transport.exec(manifestCommand(ref, insecure), { sudo: true, timeoutMs: 60_000 });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** `docker manifest inspect`'s answer as data (pure). */
export function parseManifest(f: ManifestFacts): ManifestReading {
  const answer = (f.stderr.trim() || f.stdout.trim()).split('\n').pop() ?? '';
  if (f.code === 127 || /docker: (command )?not found/.test(f.stderr)) return { kind: 'no-docker' };
  if (f.code !== 0) return /no such manifest|manifest unknown|not found/i.test(answer) ? { kind: 'absent', answer } : { kind: 'unknown', answer: answer || `exit ${f.code}` };
  let json: unknown;
  try {
    json = JSON.parse(f.stdout);
  } catch {
    return { kind: 'unknown', answer: 'docker manifest inspect printed no JSON' };
  }
  const manifests = (json as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) return { kind: 'single' };
  const platforms = manifests.flatMap((m: unknown) => {
    const p = (m as { platform?: { os?: unknown; architecture?: unknown; variant?: unknown } }).platform;
    if (!p || typeof p.os !== 'string' || typeof p.architecture !== 'string' || p.os === 'unknown') return [];
    return [[p.os, p.architecture, typeof p.variant === 'string' ? p.variant : ''].filter(Boolean).join('/')];
  });
  return { kind: 'list', platforms: [...new Set(platforms)] };
}

/** Nodes whose platform the list lacks, grouped by platform (pure). */
export function lackingPlatforms(listed: string[], nodePlatforms: Map<string, string | undefined>): Map<string, string[]> {
  const have = new Set(listed.map(samePlatform));
  const out = new Map<string, string[]>();
  for (const [host, p] of nodePlatforms) if (p && !have.has(samePlatform(p))) out.set(p, [...(out.get(p) ?? []), host]);
  return out;
}

/**
 * `planned`: image-build of this command would push the image (recorded in check mode): its absence now is
 * expected there. Docker missing on the leader is what pi-setup makes.
 */
export function planManifest(ref: string, reading: ManifestReading, nodePlatforms: Map<string, string | undefined>, planned: boolean): Plan {
  const notChecked = `the image's platforms were not checked`;
  switch (reading.kind) {
    case 'no-docker':
      return unmet(`docker is not installed on the leader; ${notChecked}`, `docker is not installed yet (check mode: pi-setup would install it); ${notChecked}`);
    case 'unknown':
      return skip(`could not read ${ref}'s manifest from the leader (${reading.answer}); ${notChecked}`);
    case 'single':
      return skip(`${ref} is a single-platform image: its manifest does not list the platform; ${notChecked}`);
    case 'absent': {
      const msg = `${ref} is not in the registry: it answered "${reading.answer}". docker stack deploy was not run: the running stack is untouched`;
      return planned ? unmet(msg, `${ref} is not in the registry yet (check mode: image-build would push it)`) : fail(msg);
    }
    case 'list': {
      const lacking = lackingPlatforms(reading.platforms, nodePlatforms);
      const has = reading.platforms.join(', ') || 'no platform';
      if (lacking.size === 0) return ok(`${ref} has ${has}`);
      const which = [...lacking].map(([p, hosts]) => `${p} (${hosts.join(', ')})`).join(', ');
      const msg = `${ref} lacks the platform of the nodes that must run it: ${which}; it has ${has}. docker stack deploy was not run: the running stack is untouched`;
      return planned ? unmet(msg, `${ref} as in the registry now lacks ${which}; check mode: image-build would push it again`) : fail(msg);
    }
  }
}

/** On the leader, after the registry login: the image exists and has every Flink node's platform. */
export function imageManifestStep(inv: Inventory, ref: string, ledger: PullLedger, planned: boolean): Step<ManifestFacts> {
  return {
    name: 'image platforms',
    gather: ({ transport }) => readManifest(transport, ref, inv.cluster.registry.insecure),
    plan: (facts) => planManifest(ref, parseManifest(facts), ledger.platforms, planned),
  };
}
