// Prints the image figures: `npx tsx test/bench/image-figures.ts [--cold] [--platforms linux/amd64,linux/arm/v7]`.
// --cold builds with --no-cache first (the JRE bases are kept: their own build time is printed when they are
// built). Then a build with nothing changed, the registry (compressed) and on-disk sizes per platform, and
// the comparison with the official image (docker-library/repo-info figures, flink-facts.md).
import { parseArgs } from 'node:util';
import type { ImageBuildOptions, ImageBuildResult } from '../../tasks/lib/image/build.ts';
import { buildInRun } from '../integration/image-run.ts';
import { startRegistry } from '../integration/image-registry.ts';

const { values } = parseArgs({ options: { cold: { type: 'boolean', default: false }, platforms: { type: 'string', default: 'linux/amd64,linux/arm/v7,linux/arm64' } } });
const OFFICIAL = { '1.20-java17': { compressedMB: 585, diskMB: 806 }, '2.2': { compressedMB: 665, diskMB: 883 } };

const registry = await startRegistry();
const opts: ImageBuildOptions = {
  version: '2.3.0',
  platforms: values.platforms.split(','),
  registry: { host: registry.host, repository: 'fridge-image-bench/flink', insecure: true, usernameEnv: undefined, passwordEnv: undefined },
  stateDir: '/srv/flink',
  repoDir: process.cwd(),
  log: (l) => console.error(`  ${l}`),
};

function must(r: ImageBuildResult): ImageBuildResult {
  if (r.status === 'failed') throw new Error(r.msg);
  return r;
}
const mb = (b: number | undefined): number => Math.round((b ?? 0) / 1e6);

try {
  if (values.cold) {
    const cold = must(await buildInRun({ ...opts, noCache: true }));
    console.log(`${'cold build (no cache), all platforms'.padEnd(44)} ${cold.seconds.toFixed(1)} s`);
    for (const p of cold.platforms) console.log(`${`  ${p.platform} docker build`.padEnd(44)} ${p.buildSeconds.toFixed(1)} s, smoke /overview after ${p.smoke?.overviewSeconds ?? '?'} s`);
  }
  const up = must(await buildInRun(opts)); // brings the bench repository up to date (first push there, new commit ...)
  console.log(`${'bring up to date'.padEnd(44)} ${up.seconds.toFixed(1)} s (${up.status})`);
  for (const a of up.actions) console.log(`  ${a}`);
  const warm = must(await buildInRun(opts));
  console.log(`${'build with nothing changed'.padEnd(44)} ${warm.seconds.toFixed(1)} s (${warm.status}${warm.actions.length ? `: ${warm.actions.join('; ')}` : ''})`);
  for (const p of warm.platforms) {
    const c = mb(p.compressedBytes);
    const d = mb(p.uncompressedBytes);
    const o = OFFICIAL['2.2'];
    console.log(`${`  ${p.platform}`.padEnd(44)} ${c} MB compressed (${Math.round((100 * c) / o.compressedMB)} % of flink:2.2), ${d} MB on disk (${Math.round((100 * d) / o.diskMB)} %)`);
  }
  console.log(`${'official flink:2.2 / flink:1.20-java17'.padEnd(44)} ${OFFICIAL['2.2'].compressedMB} / ${OFFICIAL['1.20-java17'].compressedMB} MB compressed, ${OFFICIAL['2.2'].diskMB} / ${OFFICIAL['1.20-java17'].diskMB} MB on disk (amd64)`);
} finally {
  await registry.stop();
}
