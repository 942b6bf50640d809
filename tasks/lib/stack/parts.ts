// Building blocks shared by the Flink services and the optional ones.

import { createHash } from 'node:crypto';
import type { ComposeDeploy, ComposeHealthcheck, ComposePort, UpdatePolicy } from './compose-types.ts';

export const NETWORK = 'flink';
export const CONFIG_DIR = 'fridge-configs';
/** A volume per node where the image's launcher keeps Flink's memory flags between containers (docker/launch.sh). */
export const LAUNCH_CACHE = { volume: 'flink-launch-cache', target: '/opt/flink/launch-cache' };

export interface ConfigRef {
  key: string;
  file: string;
  content: string;
}

/** Swarm configs are immutable: a content hash in the name makes a changed file a new config, not a failed update. */
export function configRef(name: string, ext: string, content: string): ConfigRef {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  return { key: `${name}_${hash}`, file: `${CONFIG_DIR}/${name}.${ext}`, content };
}

/**
 * Flink's services are replaced all at once: deploy stops the jobs with a savepoint before a stack update, so
 * rolling one taskmanager at a time would only lengthen the downtime. Other services roll one by one.
 */
export function deployPolicies(kind: 'flink' | 'service' = 'service'): Pick<ComposeDeploy, 'restart_policy' | 'update_config' | 'rollback_config'> {
  const update: UpdatePolicy =
    kind === 'flink'
      ? // A task only counts as running once its healthcheck passed (the JobManager's REST answers, the
        // TaskManager's RPC port is open); the monitor then only has to catch a crash right after, and deploy
        // waits for the update to complete before it resumes the job: every second of it is job downtime.
        { parallelism: 0, delay: '0s', failure_action: 'rollback', monitor: '1s', order: 'stop-first' }
      : { parallelism: 1, delay: '10s', failure_action: 'rollback', monitor: '30s', order: 'stop-first' };
  return {
    restart_policy: { condition: 'any', delay: '5s', window: '30s' },
    // stop-first: a 1 GiB Pi cannot hold the old and the new JVM at once.
    update_config: update,
    rollback_config: { ...update, delay: '0s', failure_action: 'pause' },
  };
}

/**
 * A swarm task stays "starting", out of the service's DNS and its running count, until its first healthcheck
 * passes: the image's 30 s interval made every Flink start (scale, redeploy) wait for it, and taskmanagers
 * cannot even resolve the jobmanager until then. Measured on the virtual fridge, a 5 s interval still left the
 * jobmanager out of DNS for 3.6 s after its REST API answered. A probe is one bash and a local TCP connection
 * (about 1-2 % of a Pi 3B core at 2 s). Docker 20.10 has no start_interval to probe fast during the start only.
 * Five retries keep a busy JobManager (about 35 s of failed probes) from being restarted for a slow answer.
 * The long start period still covers a Pi 3B's slow JVM start.
 */
export function flinkHealthcheck(): ComposeHealthcheck {
  return { interval: '2s', timeout: '5s', retries: 5, start_period: '180s' };
}

export function port(target: number, dnsrr: boolean): ComposePort {
  // Without IPVS there is no routing mesh: publish on the node that runs the task.
  return { target, published: target, protocol: 'tcp', mode: dnsrr ? 'host' : 'ingress' };
}
