#!/usr/bin/env zx
// npx zx tasks/swarm.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('swarm', import.meta.url);
