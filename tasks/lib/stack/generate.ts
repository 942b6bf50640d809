// The swarm stack file, generated from the inventory. Pure and deterministic: the same inventory and
// options give byte-identical output, so "nothing changed" is a string comparison with what is deployed.

import path from 'node:path';
import { stringify } from 'yaml';
import { leader, type Inventory } from '../inventory/types.ts';
import { generateFlinkConfig, profileFromInventory } from '../flink/config.ts';
import { checkCapacity } from './capacity.ts';
import type { ComposeDeploy, ComposeFile, ComposeService } from './compose-types.ts';
import { containerLimitMiB, formatMiB, parseFlinkConfig, resolveFlinkMemory } from './memory.ts';
import { FLINK_METRICS_PORT } from './monitoring.ts';
import { optionalServices } from './optional-services.ts';
import { deployPolicies, flinkHealthcheck, LAUNCH_CACHE, NETWORK, port } from './parts.ts';
import { INVENTORY_REPLICAS_LABEL } from './replicas.ts';
import type { GeneratedStack, StackOptions, StackProblem } from './types.ts';
import { haProperties, jobmanagerConstraints, zookeeperServices } from './zookeeper.ts';

export { NETWORK, CONFIG_DIR } from './parts.ts';
export { SERVICE_MEMORY_MIB, GRAFANA_PASSWORD_ENV_VAR, DEFAULT_GRAFANA_PASSWORD_ENV } from './optional-services.ts';

function flinkProperties(config: Record<string, unknown>, inv: Inventory, memory: { jm: number; tm: number }): Record<string, unknown> {
  const props: Record<string, unknown> = { ...config };
  const setDefault = (key: string, value: unknown, ...aliases: string[]): void => {
    if ([key, ...aliases].some((k) => k in props)) return;
    props[key] = value;
  };
  setDefault('jobmanager.memory.process.size', `${memory.jm}m`);
  setDefault('taskmanager.memory.process.size', `${memory.tm}m`);
  setDefault('taskmanager.numberOfTaskSlots', inv.cluster.flink.slotsPerTaskmanager);
  // Swarm DNS knows the jobmanager only once its task is healthy; taskmanagers started with it fail to resolve
  // it at first, and Flink's default 10 s pause after such an error was most of a scale or redeploy.
  setDefault('cluster.registration.error-delay', '2 s');
  const state = inv.cluster.flink.stateDir.replace(/\/+$/, '');
  setDefault('execution.checkpointing.dir', `file://${state}/checkpoints`, 'state.checkpoints.dir');
  setDefault('execution.checkpointing.savepoint-dir', `file://${state}/savepoints`, 'state.savepoints.dir');
  for (const [k, v] of Object.entries(haProperties(inv))) setDefault(k, v);
  if (inv.cluster.services.prometheus) {
    setDefault('metrics.reporters', 'prom');
    setDefault('metrics.reporter.prom.factory.class', 'org.apache.flink.metrics.prometheus.PrometheusReporterFactory');
    setDefault('metrics.reporter.prom.port', FLINK_METRICS_PORT);
  }
  return props;
}

function flinkService(role: 'jobmanager' | 'taskmanager', inv: Inventory, opts: StackOptions, propsText: string, limitMiB: number, dnsrr: boolean): ComposeService {
  const flink = inv.cluster.flink;
  const constraints =
    role === 'jobmanager' ? jobmanagerConstraints(inv) : [...flink.taskmanagerExclude].sort().map((h) => `node.hostname != ${h}`);
  const maxPerHost = leader(inv).vars['fridge_flink_taskmanager_max_per_host'];
  const placement: ComposeDeploy['placement'] = { constraints };
  if (role === 'taskmanager' && typeof maxPerHost === 'number') placement.max_replicas_per_node = maxPerHost;
  // Under HA a jobmanager runs on each of its hosts: ZooKeeper elects the leader, the others stand by and take over
  // when it dies, without the swarm (whose only manager may be what died) having to place anything.
  const standby = role === 'jobmanager' && flink.highAvailability.kind === 'zookeeper';
  if (standby) placement.max_replicas_per_node = 1;
  const service: ComposeService = {
    image: opts.imageRef,
    command: [role],
    environment: {
      // Under HA each jobmanager tells ZooKeeper its own address: `jobmanager` would name them all.
      JOB_MANAGER_RPC_ADDRESS: standby ? 'container-ip' : 'jobmanager',
      // The image's entrypoint resolves it to the task's address on the stack's network.
      ...(role === 'taskmanager' ? { TASK_MANAGER_HOST: 'container-ip' } : {}),
      FLINK_PROPERTIES: propsText,
      FRIDGE_LAUNCH_CACHE: LAUNCH_CACHE.target,
    },
    networks: [NETWORK],
    ...(role === 'jobmanager' ? { ports: [port(8081, dnsrr)] } : {}),
    volumes: [
      { type: 'bind', source: flink.stateDir, target: flink.stateDir },
      { type: 'volume', source: LAUNCH_CACHE.volume, target: LAUNCH_CACHE.target },
    ],
    stop_grace_period: '30s',
    healthcheck: flinkHealthcheck(),
    deploy: {
      mode: 'replicated',
      replicas: role === 'jobmanager' ? (standby ? flink.jobmanagerHosts.length : 1) : flink.taskmanagerReplicas,
      // What the inventory asked for, next to what runs: deploy tells a `scale` from an inventory change.
      ...(role === 'taskmanager' ? { labels: { [INVENTORY_REPLICAS_LABEL]: String(flink.taskmanagerReplicas) } } : {}),
      endpoint_mode: dnsrr ? 'dnsrr' : 'vip',
      placement,
      // The reservation keeps the scheduler from stacking JVMs on a Pi that cannot hold them.
      resources: { limits: { memory: formatMiB(limitMiB) }, reservations: { memory: formatMiB(limitMiB) } },
      ...deployPolicies('flink'),
    },
  };
  return service;
}

/**
 * The Flink configuration the containers get: the caller's text, else the profile generated from the
 * inventory (tasks/lib/flink/config.ts), whose refusals become the stack's problems.
 */
function flinkSource(inv: Inventory, opts: StackOptions): { config: Record<string, unknown> } | { problems: StackProblem[] } {
  if (opts.flinkConfig !== undefined) return { config: parseFlinkConfig(opts.flinkConfig) };
  if (opts.memory !== undefined) return { config: {} };
  const generated = generateFlinkConfig(profileFromInventory(inv));
  if (generated.ok) return { config: parseFlinkConfig(generated.config.text) };
  return { problems: generated.problems.map((p) => ({ severity: 'error', subject: p.host, message: p.message })) };
}

export function generateStack(inv: Inventory, opts: StackOptions): GeneratedStack {
  const cluster = inv.cluster;
  const dnsrr = cluster.dnsrr;
  const source = flinkSource(inv, opts);
  if ('problems' in source) {
    return { yaml: '', files: {}, services: [], expected: { taskmanagers: 0, slots: 0 }, capacity: { taskmanagers: 0, detail: 'no Flink profile' }, secrets: [], problems: source.problems };
  }
  const config = source.config;
  const memory = resolveFlinkMemory(config, opts.memory);
  if (!memory) throw new Error('bug: generateStack needs the Flink process sizes (flinkConfig with *.memory.process.size, or opts.memory)');
  const jmLimit = containerLimitMiB(memory.jobmanagerProcessMiB);
  const tmLimit = containerLimitMiB(memory.taskmanagerProcessMiB);

  const props = flinkProperties(config, inv, { jm: memory.jobmanagerProcessMiB, tm: memory.taskmanagerProcessMiB });
  const propsText = stringify(props, { lineWidth: 0 });
  const slots = Number(props['taskmanager.numberOfTaskSlots']);

  const optional = optionalServices(inv, dnsrr);
  const zookeeper = zookeeperServices(inv, opts.imageRef, dnsrr);
  const services: Record<string, ComposeService> = {
    jobmanager: flinkService('jobmanager', inv, opts, propsText, jmLimit, dnsrr),
    taskmanager: flinkService('taskmanager', inv, opts, propsText, tmLimit, dnsrr),
    ...zookeeper.services,
    ...optional.services,
  };

  const doc: ComposeFile = { version: '3.8', services, networks: { [NETWORK]: { driver: 'overlay', attachable: true } } };
  doc.volumes = Object.fromEntries([LAUNCH_CACHE.volume, ...zookeeper.volumes, ...optional.volumes].map((v) => [v, {}]));
  if (optional.configs.length > 0) doc.configs = Object.fromEntries(optional.configs.map((c) => [c.key, { file: `./${c.file}` }]));
  if (optional.secrets.length > 0) doc.secrets = Object.fromEntries(optional.secrets.map((s) => [s.key, { external: true as const, name: s.name }]));

  const header = [
    `# Generated by Fridge from ${path.basename(inv.file)}: edit the inventory, not this file.`,
    `# Deploy: docker stack deploy --prune -c docker-stack.yaml ${cluster.stackName}`,
    '',
  ].join('\n');
  const yaml = header + stringify(doc, { lineWidth: 0 });

  const fit = checkCapacity(inv, jmLimit, tmLimit, optional.names);
  return {
    yaml,
    files: Object.fromEntries(optional.configs.map((c) => [c.file, c.content])),
    services: Object.keys(services).sort(),
    expected: { taskmanagers: cluster.flink.taskmanagerReplicas, slots: cluster.flink.taskmanagerReplicas * slots },
    secrets: optional.secrets.map((s) => ({ name: s.name, env: s.env })),
    capacity: fit.capacity,
    problems: [...optional.problems, ...fit.problems],
  };
}
