#!/usr/bin/env zx
// npx zx tasks/reset.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('reset', import.meta.url);
