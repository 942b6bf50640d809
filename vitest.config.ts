import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Integration tests share one machine-wide virtual fridge and one dockerd: files run one at a time,
// unit tests first, then integration files in name order (numbered so the fridge is built once and reused).
class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const key = (f: TestSpecification) => `${f.moduleId.includes('/test/unit/') ? '0' : '1'}${f.moduleId}`;
    return [...files].sort((a, b) => key(a).localeCompare(key(b)));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    sequence: { shuffle: false, sequencer: ByName },
    testTimeout: 120_000,
    // Unit tests share one worker and its module cache (isolate: false): on two cores that takes `npm run
    // test:unit` from ~47 s to ~16 s, nearly all of it vitest loading each file's imports afresh. Files that
    // change process-wide state (the environment, colours, the secrets registry) keep a fresh process each, as
    // integration tests do.
    pool: 'forks',
    poolMatchGlobs: [
      ['**/test/unit/{cli-main,cli-options,github-deployment,github-reporter,github-workflows}.test.ts', 'forks'],
      ['**/test/unit/**', 'threads'],
    ],
    poolOptions: { threads: { isolate: false } },
    hookTimeout: 1_800_000,
  },
});
