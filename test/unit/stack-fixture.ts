// Inventories for the stack tests, built as the loader would normalise them.
import { MODEL_MEMORY_MIB, type HostSpec, type Inventory, type PiModel } from '../../tasks/lib/inventory/types.ts';

export function host(name: string, role: 'manager' | 'worker', model: PiModel = '3B', vars: Record<string, unknown> = {}): HostSpec {
  return {
    name,
    address: '10.77.0.1',
    port: 22,
    user: 'pi',
    keyFile: undefined,
    passwordEnv: undefined,
    connection: 'ssh',
    model,
    memoryMiB: MODEL_MEMORY_MIB[model],
    staticIp: undefined,
    role,
    groups: ['all'],
    labels: {},
    vars,
    pos: { file: 'fixture.yaml', line: 1, col: 1 },
  };
}

export interface FixtureOptions {
  dnsrr?: boolean;
  virtual?: boolean;
  services?: Partial<Inventory['cluster']['services']>;
  model?: PiModel;
  replicas?: number;
  vars?: Record<string, unknown>;
}

/** The seed's fridge: worker01 manages, worker04 runs the jobmanager, taskmanagers elsewhere. */
export function seedInventory(o: FixtureOptions = {}): Inventory {
  const model = o.model ?? '3B';
  const names = ['worker01', 'worker02', 'worker03', 'worker04', 'worker05'];
  const hosts = names.map((n, i) => host(n, i === 0 ? 'manager' : 'worker', model, o.vars ?? {}));
  return {
    file: '/somewhere/inventory/fridge.yaml',
    hosts,
    groups: { all: names },
    cluster: {
      name: 'fridge',
      registry: {
        host: o.virtual ? '127.0.0.1:5000' : 'docker.io',
        repository: o.virtual ? 'fridge/flink' : 'digitaljazz/flink-fridge',
        insecure: !!o.virtual,
        usernameEnv: undefined,
        passwordEnv: undefined,
        pullHost: o.virtual ? '10.77.0.1:5000' : 'docker.io',
      },
      platforms: ['linux/arm/v7'],
      flink: {
        version: '2.3.0',
        jobmanagerHost: 'worker04',
        jobmanagerHosts: ['worker04'],
        highAvailability: { kind: 'none' },
        taskmanagerExclude: ['worker04', 'worker01'],
        taskmanagerReplicas: o.replicas ?? 3,
        slotsPerTaskmanager: 2,
        stateDir: '/mnt/fridge-state',
        properties: {},
      },
      stateStorage: { kind: 'sshfs', server: 'worker01', path: '/srv/fridge-state' },
      network: { prefix: 24, router: undefined, dns: [], interface: 'eth0' },
      services: { mosquitto: false, prometheus: false, grafana: false, visualizer: false, ...o.services },
      stackName: 'flink',
      dockerInstall: 'apt',
      dnsrr: o.dnsrr ?? false,
      authorizedKeyFile: undefined,
      virtual: !!o.virtual,
    },
  };
}

export const SMALL_FLINK_CONFIG = [
  'jobmanager.memory.process.size: 576m',
  'taskmanager.memory.process.size: 640m',
  'taskmanager.numberOfTaskSlots: 2',
  '',
].join('\n');
