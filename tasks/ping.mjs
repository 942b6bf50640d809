#!/usr/bin/env zx
// npx zx tasks/ping.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('ping', import.meta.url);
