#!/usr/bin/env zx
// npx zx tasks/scale.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('scale', import.meta.url);
