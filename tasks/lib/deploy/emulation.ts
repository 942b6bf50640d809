// The virtual fridge in --arch armv7 mode: node engines are amd64 (they share this machine's kernel) but must
// run the arm/v7 image the Pis run, under QEMU (binfmt_misc is the kernel's, so the node containers have it).
// A plain pull asks for the engine's own platform and finds none; and a swarm that resolves the image adds a
// platform constraint no amd64 node meets. So on a virtual inventory whose platforms the engine's is not among,
// the stack runs the platform's own manifest, pinned by digest, and `docker stack deploy --resolve-image never`
// keeps swarm from re-resolving it. A real Pi's engine is its own platform: this never applies there.
import type { Step } from '../engine/types.ts';
import type { Inventory } from '../inventory/types.ts';
import { fail, ok, unmet } from '../steps/common.ts';
import { manifestCommand, samePlatform } from './manifest-check.ts';
import { enginePlatform } from './pre-pull.ts';

/** The platform virtual nodes emulate: the inventory's first, when their engine's is not among them (pure). */
export function emulatedPlatform(cluster: Pick<Inventory['cluster'], 'virtual' | 'platforms'>, engine: string | undefined): string | undefined {
  if (!cluster.virtual || !engine) return undefined;
  const wanted = cluster.platforms.map(samePlatform);
  return wanted.includes(samePlatform(engine)) ? undefined : cluster.platforms[0];
}

/** `repo[:tag][@digest]` → `repo` (a registry's port is not a tag). */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0] ?? ref;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/** The digest of `platform`'s manifest in a manifest list (`docker manifest inspect`'s JSON), pure. */
export function platformDigest(manifestJson: string, platform: string): { digest: string } | { error: string; listed: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(manifestJson);
  } catch {
    return { error: 'docker manifest inspect printed no JSON', listed: [] };
  }
  const manifests = (json as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) return { error: 'the image is a single manifest, not a list: its platform cannot be chosen', listed: [] };
  const entries = manifests.flatMap((m: unknown) => {
    const e = m as { digest?: unknown; platform?: { os?: unknown; architecture?: unknown; variant?: unknown } };
    const p = e.platform;
    if (typeof e.digest !== 'string' || !p || typeof p.os !== 'string' || typeof p.architecture !== 'string' || p.os === 'unknown') return [];
    return [{ digest: e.digest, platform: [p.os, p.architecture, typeof p.variant === 'string' ? p.variant : ''].filter(Boolean).join('/') }];
  });
  const hit = entries.find((e) => samePlatform(e.platform) === samePlatform(platform));
  return hit ? { digest: hit.digest } : { error: `the image lacks ${platform}`, listed: entries.map((e) => e.platform) };
}

export interface DeployedImage {
  /** What the stack runs and the nodes pull. */
  ref: string;
  /** Set when virtual nodes run another platform's image under QEMU: swarm must not re-resolve `ref`. */
  emulates?: string;
}

interface EmulationFacts {
  engine: string | undefined;
  manifest?: { code: number; stdout: string; stderr: string };
}

/** On the leader: which image reference the stack deploys (the list as given, or the emulated platform's own). */
export function deployedImageStep(inv: Inventory, ref: string): Step<EmulationFacts, DeployedImage> {
  const platformOf = (f: EmulationFacts) => emulatedPlatform(inv.cluster, f.engine);
  const resolve = (f: EmulationFacts): DeployedImage => {
    const platform = platformOf(f);
    if (!platform || f.manifest?.code !== 0) return { ref };
    const d = platformDigest(f.manifest.stdout, platform);
    return 'digest' in d ? { ref: `${repositoryOf(ref)}@${d.digest}`, emulates: platform } : { ref };
  };
  return {
    name: 'image the nodes run',
    async gather({ transport }) {
      const info = await transport.exec(`docker info --format '{{.OSType}}/{{.Architecture}}' 2>/dev/null`, { sudo: true });
      const facts: EmulationFacts = { engine: enginePlatform(info.stdout) };
      if (!platformOf(facts)) return facts;
      const m = await transport.exec(manifestCommand(ref, inv.cluster.registry.insecure), { sudo: true, timeoutMs: 60_000 });
      return { ...facts, manifest: { code: m.code, stdout: m.stdout, stderr: m.stderr } };
    },
    plan(f) {
      const platform = platformOf(f);
      if (!platform) return ok(ref);
      if (!f.manifest || f.manifest.code !== 0) {
        const answer = (f.manifest?.stderr.trim() || f.manifest?.stdout.trim() || 'no answer').split('\n').pop() ?? '';
        return unmet(`${ref}: the registry has no manifest list to pick ${platform} from: ${answer}`, `${ref} is not in the registry yet (check mode: image-build would push it)`);
      }
      const d = platformDigest(f.manifest.stdout, platform);
      if ('error' in d) return fail(`${ref}: ${d.error}${d.listed.length ? `; it has ${d.listed.join(', ')}` : ''}: the virtual nodes (engine ${f.engine}) cannot emulate it`);
      return ok(`${platform} under QEMU on ${f.engine} engines: ${resolve(f).ref}`);
    },
    output: resolve,
  };
}
