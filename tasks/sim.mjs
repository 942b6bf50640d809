#!/usr/bin/env zx
// npx zx tasks/sim.mjs up [--nodes 5] [--arch amd64|armv7] [--fresh] | status | down [--purge]
import { fileURLToPath } from 'node:url';
import { loadCore } from './lib/entry.mjs'; // first: under Node < 22 the task re-runs itself under Node 22

const script = fileURLToPath(import.meta.url);
const at = process.argv.findIndex((a) => a === script || a.endsWith('/sim.mjs') || a === 'sim.mjs');
const sim = await loadCore('tasks/lib/sim/cli.ts');
process.exitCode = sim === undefined ? 1 : await sim.main(at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2));
