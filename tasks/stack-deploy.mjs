#!/usr/bin/env zx
// npx zx tasks/stack-deploy.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('stack-deploy', import.meta.url);
