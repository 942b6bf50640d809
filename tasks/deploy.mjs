#!/usr/bin/env zx
// npx zx tasks/deploy.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('deploy', import.meta.url);
