#!/usr/bin/env zx
// npx zx tasks/sd-card.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('sd-card', import.meta.url);
