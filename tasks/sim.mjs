#!/usr/bin/env zx
// npx zx tasks/sim.mjs up [--nodes 5] [--arch amd64|armv7] [--fresh] | status | down [--purge]
import './lib/host/supported-node.mjs'; // first: under Node < 22 the task re-runs itself under Node 22
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();
const script = fileURLToPath(import.meta.url);
const at = process.argv.findIndex((a) => a === script || a.endsWith('/sim.mjs') || a === 'sim.mjs');
const { main } = await import('./lib/sim/cli.ts');
process.exitCode = await main(at >= 0 ? process.argv.slice(at + 1) : process.argv.slice(2));
