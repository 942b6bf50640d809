// Container memory limits derived from the Flink configuration actually deployed, checked against the Pis.

import { parse } from 'yaml';
import { parseMemoryMiB } from '../flink/memory.ts';
import type { FlinkMemory } from './types.ts';

/**
 * The Flink profile (tasks/lib/flink/memory.ts) keeps osReserveMiB free under the JVMs' process sizes;
 * the container limits add headroom on top of those. Even with every container at its limit, the OS
 * keeps at least this much.
 */
export const OS_MIN_MIB = 128;

/** Flink's config.yaml may nest keys or write them dotted; both mean the same key. */
export function flattenConfig(tree: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    if (prefix) out[prefix] = tree;
    return out;
  }
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

export function parseFlinkConfig(text: string): Record<string, unknown> {
  const doc: unknown = parse(text);
  return flattenConfig(doc ?? {});
}

function asSize(v: unknown): string | number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
}

/** Process sizes from an explicit value, else from the configuration; undefined when neither has them. */
export function resolveFlinkMemory(config: Record<string, unknown>, explicit: FlinkMemory | undefined): FlinkMemory | undefined {
  const jm = parseMemoryMiB(asSize(config['jobmanager.memory.process.size']));
  const tm = parseMemoryMiB(asSize(config['taskmanager.memory.process.size']));
  if (jm !== undefined && tm !== undefined) return { jobmanagerProcessMiB: jm, taskmanagerProcessMiB: tm };
  return explicit;
}

/**
 * The JVM's process size already counts metaspace and native overhead; the headroom covers the
 * entrypoint shell, thread stacks beyond Flink's estimate and page cache charged to the cgroup.
 */
export function containerLimitMiB(processMiB: number): number {
  const withHeadroom = processMiB + Math.max(64, processMiB * 0.1);
  return Math.ceil(withHeadroom / 16) * 16;
}

export function formatMiB(mib: number): string {
  return `${mib}M`;
}
