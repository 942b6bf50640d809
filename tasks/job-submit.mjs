#!/usr/bin/env zx
// npx zx tasks/job-submit.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('job-submit', import.meta.url);
