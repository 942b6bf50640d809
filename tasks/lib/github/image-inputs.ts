// What the image workflow builds, from the same definition the image-build task uses (image/inputs.ts) and
// the same places it reads: the inventory (repository, Flink version, platforms, state dir), the checkout's
// git revision, and the build context image-build writes (docker/'s files plus the generated default
// configuration). Prints step outputs for $GITHUB_OUTPUT:
//   npx tsx tasks/lib/github/image-inputs.ts inventory/fridge.yaml --context "$RUNNER_TEMP/image-context" >> "$GITHUB_OUTPUT"
//   npx tsx tasks/lib/github/image-inputs.ts inventory/fridge.yaml --flink-sha512 "$SHA512" >> "$GITHUB_OUTPUT"
// The first gives image, flink-version, flink-url, platforms, tags (and context, conf-file); the second adds
// build-args, which need the SHA-512 Apache publishes next to the release.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { versionKeys } from '../flink/config.ts';
import { writeContext } from '../image/context.ts';
import { apacheReleaseUrl, gitRevision, imageBuildArgs, imageTagNames, type Revision } from '../image/inputs.ts';
import { loadInventory } from '../inventory/load.ts';
import { formatProblem, type Inventory } from '../inventory/types.ts';
import { PROJECT_ROOT } from '../paths.ts';

export interface ImageInputs {
  /** registry/repository without a tag; Docker Hub's is written docker.io/owner/name. */
  image: string;
  flinkVersion: string;
  platforms: string;
}

export function imageInputs(inv: Inventory): ImageInputs {
  const r = inv.cluster.registry;
  return { image: `${r.host}/${r.repository}`, flinkVersion: inv.cluster.flink.version, platforms: inv.cluster.platforms.join(',') };
}

export interface WorkflowOutputsInput {
  inv: Inventory;
  revision: Revision;
  /** Given: build-args too (Apache's release with this SHA-512). */
  flinkSha512?: string;
}

/** The step outputs, in print order; list values (tags, build-args) one item a line. */
export function workflowOutputs(i: WorkflowOutputsInput): Array<[string, string]> {
  const base = imageInputs(i.inv);
  const version = base.flinkVersion;
  const url = apacheReleaseUrl(version);
  const out: Array<[string, string]> = [
    ['image', base.image],
    ['flink-version', version],
    ['flink-url', url],
    ['platforms', base.platforms],
    ['conf-file', versionKeys(version).file],
    ['tags', imageTagNames(i.revision, version).map((t) => `${base.image}:${t}`).join('\n')],
  ];
  if (i.flinkSha512 !== undefined) {
    // BASE_IMAGE stays the Dockerfile's default: eclipse-temurin's JRE exists for all three platforms, while
    // image-build's Debian JRE bases are built on the machine that builds the image.
    out.push(['build-args', imageBuildArgs({ version, distribution: { url, sha512: i.flinkSha512 }, confFile: versionKeys(version).file, revision: i.revision }).join('\n')]);
  }
  return out;
}

/** $GITHUB_OUTPUT's format: NAME=value, or a heredoc with a delimiter no value contains for multi-line values. */
export function formatOutputs(outputs: Array<[string, string]>, delimiter = `FRIDGE_${randomUUID()}`): string {
  return outputs.map(([k, v]) => (v.includes('\n') ? `${k}<<${delimiter}\n${v}\n${delimiter}\n` : `${k}=${v}\n`)).join('');
}

export async function main(argv: string[]): Promise<number> {
  const parsed = (() => {
    try {
      return parseArgs({ args: argv, options: { context: { type: 'string' }, 'flink-sha512': { type: 'string' } }, allowPositionals: true });
    } catch (err) {
      process.stderr.write(`image-inputs: ${err instanceof Error ? err.message : String(err)}\n`);
      return undefined;
    }
  })();
  if (!parsed) return 5;
  const { values, positionals } = parsed;
  const sha512 = values['flink-sha512'];
  if (sha512 !== undefined && !/^[0-9a-f]{128}$/.test(sha512)) {
    process.stderr.write('image-inputs: --flink-sha512 must be 128 lowercase hex digits\n');
    return 5;
  }
  const file = positionals[0] ?? path.join(PROJECT_ROOT, 'inventory', 'fridge.yaml');
  const loaded = await loadInventory(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 4;
  }
  const inv = loaded.inventory;
  const outputs = workflowOutputs({ inv, revision: await gitRevision(PROJECT_ROOT), ...(sha512 !== undefined ? { flinkSha512: sha512 } : {}) });
  if (values.context) {
    const ctx = await writeContext(path.resolve(values.context), inv.cluster.flink.version, inv.cluster.flink.stateDir);
    outputs.push(['context', ctx.dir]);
  }
  process.stdout.write(formatOutputs(outputs));
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv.slice(2));
}
