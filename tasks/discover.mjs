#!/usr/bin/env zx
// npx zx tasks/discover.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('discover', import.meta.url);
