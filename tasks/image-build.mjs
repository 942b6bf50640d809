#!/usr/bin/env zx
// npx zx tasks/image-build.mjs --help
import { runTask } from './lib/entry.mjs';

await runTask('image-build', import.meta.url);
