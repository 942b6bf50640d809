#!/usr/bin/env zx
// npx zx tasks/pi-setup.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('pi-setup', import.meta.url);
