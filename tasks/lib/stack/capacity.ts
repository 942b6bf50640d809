// Whether the Pis can hold the stack at its containers' memory limits; the scheduler would leave the rest pending.

import { leader, type HostSpec, type Inventory } from '../inventory/types.ts';
import { OS_MIN_MIB } from './memory.ts';
import { SERVICE_MEMORY_MIB } from './optional-services.ts';
import type { GeneratedStack, ServiceName, StackProblem } from './types.ts';
import { ZOOKEEPER } from './zookeeper.ts';

export interface MemoryCheck {
  problems: StackProblem[];
  capacity: GeneratedStack['capacity'];
}

export function checkCapacity(inv: Inventory, jmLimit: number, tmLimit: number, optional: readonly ServiceName[]): MemoryCheck {
  const problems: StackProblem[] = [];
  const flink = inv.cluster.flink;
  const home = leader(inv).name;
  const zookeeper = flink.highAvailability.kind === 'zookeeper' ? flink.highAvailability.zookeeperHosts : [];
  // Every Pi the jobmanager may move to must keep room for it: it moves exactly when another Pi is gone.
  const fixedOn = (h: HostSpec): number =>
    (flink.jobmanagerHosts.includes(h.name) ? jmLimit : 0) +
    (zookeeper.includes(h.name) ? ZOOKEEPER.memoryMiB : 0) +
    (h.name === home ? optional.reduce((sum, s) => sum + SERVICE_MEMORY_MIB[s], 0) : 0);
  for (const h of inv.hosts) {
    const fixed = fixedOn(h);
    if (fixed + OS_MIN_MIB > h.memoryMiB) {
      problems.push({
        severity: 'error',
        subject: h.name,
        message: `${h.name} (${h.model}, ${h.memoryMiB} MiB) cannot hold its pinned services (${fixed} MiB) at their memory limits plus ${OS_MIN_MIB} MiB for the OS`,
      });
    }
  }
  const excluded = new Set(flink.taskmanagerExclude);
  const maxPerHost = leader(inv).vars['fridge_flink_taskmanager_max_per_host'];
  const eligible = inv.hosts.filter((h) => !excluded.has(h.name));
  const perHost = eligible.map((h) => {
    const fits = Math.max(0, Math.floor((h.memoryMiB - OS_MIN_MIB - fixedOn(h)) / tmLimit));
    return { name: h.name, fits: typeof maxPerHost === 'number' ? Math.min(fits, maxPerHost) : fits };
  });
  const total = perHost.reduce((sum, h) => sum + h.fits, 0);
  const limitNote = typeof maxPerHost === 'number' ? `, at most ${maxPerHost} per host` : '';
  const detail =
    eligible.length === 0
      ? 'every host is excluded by fridge_flink_taskmanager_exclude'
      : `${perHost.map((h) => `${h.name}: ${h.fits}`).join(', ')} (${tmLimit} MiB each${limitNote})`;
  if (eligible.length === 0) {
    problems.push({ severity: 'error', subject: 'taskmanager', message: 'every host is excluded from running taskmanagers (fridge_flink_taskmanager_exclude)' });
  } else if (total < flink.taskmanagerReplicas) {
    problems.push({
      severity: 'warning',
      subject: 'taskmanager',
      message: `only ${total} of ${flink.taskmanagerReplicas} taskmanagers fit (${detail}); the rest will stay pending`,
    });
  }
  return { problems, capacity: { taskmanagers: total, detail } };
}
