#!/usr/bin/env zx
// npx zx tasks/status.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('status', import.meta.url);
