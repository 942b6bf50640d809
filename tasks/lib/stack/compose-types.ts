// The subset of the compose file format 3.8 that the generator writes (and the tests read back).

export interface ComposePort {
  target: number;
  published: number;
  protocol: 'tcp' | 'udp';
  mode: 'host' | 'ingress';
}

export interface ComposeVolume {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

export interface ComposeConfigMount {
  source: string;
  target: string;
  mode: number;
}

export interface UpdatePolicy {
  parallelism: number;
  delay: string;
  failure_action: 'rollback' | 'pause' | 'continue';
  monitor: string;
  order: 'stop-first' | 'start-first';
}

export interface ComposeDeploy {
  mode: 'replicated';
  replicas: number;
  /** Service labels (Spec.Labels). */
  labels?: Record<string, string>;
  endpoint_mode: 'dnsrr' | 'vip';
  placement: { constraints: string[]; max_replicas_per_node?: number };
  resources: { limits: { memory: string }; reservations?: { memory: string } };
  restart_policy: { condition: 'any' | 'on-failure' | 'none'; delay: string; window: string };
  update_config: UpdatePolicy;
  rollback_config: UpdatePolicy;
}

/** Timings only: without `test` the engine keeps the image's own HEALTHCHECK command. */
export interface ComposeHealthcheck {
  interval: string;
  timeout: string;
  retries: number;
  start_period: string;
}

export interface ComposeService {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  networks: string[];
  ports?: ComposePort[];
  volumes?: ComposeVolume[];
  configs?: ComposeConfigMount[];
  secrets?: string[];
  stop_grace_period?: string;
  healthcheck?: ComposeHealthcheck;
  deploy: ComposeDeploy;
  /** Never written: docker stack deploy ignores it. Declared so tests can assert its absence. */
  depends_on?: never;
}

export interface ComposeFile {
  version: '3.8';
  services: Record<string, ComposeService>;
  networks: Record<string, { driver: 'overlay'; attachable: boolean }>;
  volumes?: Record<string, Record<string, never>>;
  configs?: Record<string, { file: string }>;
  secrets?: Record<string, { external: true; name: string }>;
}
