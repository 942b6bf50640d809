// The deploy workflow's hosted job: builds the example job's jar with Maven (which the self-hosted runner
// does not have) into a directory uploaded as an artifact; the deploy job downloads it and names the jar in
// FRIDGE_EXAMPLE_JOB_JAR, so job-submit uses it instead of building.
//   npx tsx tasks/lib/github/example-job-jar.ts "$RUNNER_TEMP/job-jar"
// Maven's repository is ~/.m2/repository, the one actions/setup-java's `cache: maven` keeps between runs.

import { homedir } from 'node:os';
import path from 'node:path';
import { writePrebuiltJob } from '../flink/example-job.ts';

export async function main(argv: string[]): Promise<number> {
  const out = argv[0];
  if (!out || argv.length > 1) {
    process.stderr.write('usage: npx tsx tasks/lib/github/example-job-jar.ts OUT_DIR\n');
    return 5;
  }
  try {
    const { jar, stamp } = await writePrebuiltJob(path.resolve(out), { mavenRepo: path.join(homedir(), '.m2', 'repository') });
    process.stdout.write(`${jar}\n${stamp}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv.slice(2));
}
