// The optional services (fridge_services), all on the swarm leader, with their generated configuration.

import { leader, type Inventory, type SensorSimulator } from '../inventory/types.ts';
import type { ComposeConfigMount, ComposeDeploy, ComposeService } from './compose-types.ts';
import {
  GRAFANA_DASHBOARDS_DIR,
  grafanaDashboardProvider,
  grafanaDatasource,
  grafanaFlinkDashboard,
  MQTT_BROKER,
  mosquittoConfig,
  PIPELINE_STATS_TOPIC,
  prometheusConfig,
  READINGS_TOPIC,
  RESULTS_TOPIC_FILTER,
} from './monitoring.ts';
import { formatMiB } from './memory.ts';
import { configRef, deployPolicies, NETWORK, port, type ConfigRef } from './parts.ts';
import { serviceImage } from './service-images.ts';
import type { ServiceName, StackProblem } from './types.ts';

export const GRAFANA_PASSWORD_ENV_VAR = 'fridge_grafana_admin_password_env';
export const DEFAULT_GRAFANA_PASSWORD_ENV = 'FRIDGE_GRAFANA_ADMIN_PASSWORD';

/**
 * Memory limits of the optional services (they are small and do not depend on the Flink profile). The sensor
 * simulator is one Python process (about 15-30 MB resident) plus up to 10,000 readings queued while the broker is away.
 */
export const SERVICE_MEMORY_MIB: Record<ServiceName, number> = { mosquitto: 64, prometheus: 256, grafana: 256, visualizer: 64, sensors: 48 };

/** Published ports; the simulator only connects out. */
const SERVICE_PORTS: Partial<Record<ServiceName, number>> = { mosquitto: MQTT_BROKER.port, prometheus: 9090, grafana: 3000, visualizer: 8080 };

/** The service's environment: how many sensors, how fast, and the topics it shares with the job (monitoring.ts). */
export function sensorsEnvironment(sim: SensorSimulator): Record<string, string> {
  return {
    MQTT_HOST: MQTT_BROKER.host,
    MQTT_PORT: String(MQTT_BROKER.port),
    SENSORS_COUNT: String(sim.count),
    SENSORS_RATE: String(sim.rate),
    READINGS_TOPIC,
    RESULTS_TOPIC: RESULTS_TOPIC_FILTER,
    STATS_TOPIC: PIPELINE_STATS_TOPIC,
  };
}

export interface OptionalParts {
  services: Record<string, ComposeService>;
  /** The services that made it into the stack, in stack order. */
  names: ServiceName[];
  configs: ConfigRef[];
  secrets: Array<{ key: string; name: string; env: string }>;
  volumes: string[];
  problems: StackProblem[];
}

export function optionalServices(inv: Inventory, dnsrr: boolean): OptionalParts {
  const out: OptionalParts = { services: {}, names: [], configs: [], secrets: [], volumes: [], problems: [] };
  const stack = inv.cluster.stackName;
  const home = leader(inv).name;
  const deploy = (name: ServiceName, constraints: string[]): ComposeDeploy => ({
    mode: 'replicated',
    replicas: 1,
    endpoint_mode: dnsrr ? 'dnsrr' : 'vip',
    // On the leader: a stable address for sensors and browsers when ports are published in host mode.
    placement: { constraints: [`node.hostname == ${home}`, ...constraints] },
    resources: { limits: { memory: formatMiB(SERVICE_MEMORY_MIB[name]) } },
    ...deployPolicies(),
  });
  const mount = (ref: ConfigRef, target: string): ComposeConfigMount => ({ source: ref.key, target, mode: 0o444 });

  for (const name of ['mosquitto', 'prometheus', 'grafana', 'visualizer', 'sensors'] as const) {
    if (!inv.cluster.services[name]) continue;
    if (name === 'sensors' && !inv.cluster.services.mosquitto) {
      // The inventory's schema refuses this already; an inventory built in code may still ask for it.
      out.problems.push({ severity: 'error', subject: name, message: 'the sensor simulator publishes to Mosquitto: fridge_services.mosquitto must be on too' });
      continue;
    }
    const img = serviceImage(inv, name);
    if (img.kind === 'unavailable') {
      out.problems.push({ severity: 'error', subject: name, message: img.reason });
      continue;
    }
    const image = img.kind === 'built' ? img.pullRef : img.ref;
    const published = SERVICE_PORTS[name];
    const svc: ComposeService = { image, networks: [NETWORK], ...(published ? { ports: [port(published, dnsrr)] } : {}), deploy: deploy(name, []) };
    switch (name) {
      case 'mosquitto': {
        const conf = configRef('mosquitto', 'conf', mosquittoConfig());
        out.configs.push(conf);
        svc.configs = [mount(conf, '/etc/mosquitto/mosquitto.conf')];
        break;
      }
      case 'prometheus': {
        const conf = configRef('prometheus', 'yml', prometheusConfig(stack));
        out.configs.push(conf);
        out.volumes.push('prometheus-data');
        svc.configs = [mount(conf, '/etc/prometheus/prometheus.yml')];
        svc.volumes = [{ type: 'volume', source: 'prometheus-data', target: '/var/lib/prometheus' }];
        break;
      }
      case 'grafana': {
        const ds = configRef('grafana-datasource', 'yml', grafanaDatasource(stack));
        const prov = configRef('grafana-dashboards', 'yml', grafanaDashboardProvider());
        const dash = configRef('grafana-flink-dashboard', 'json', grafanaFlinkDashboard());
        out.configs.push(ds, prov, dash);
        const env = leader(inv).vars[GRAFANA_PASSWORD_ENV_VAR];
        out.secrets.push({ key: 'grafana_admin_password', name: `${stack}_grafana_admin_password`, env: typeof env === 'string' ? env : DEFAULT_GRAFANA_PASSWORD_ENV });
        svc.environment = {
          // The password only ever exists as a swarm secret, created by the deploy phase from the env var.
          GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana_admin_password',
          GF_USERS_ALLOW_SIGN_UP: 'false',
          GF_ANALYTICS_REPORTING_ENABLED: 'false',
          GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
        };
        svc.secrets = ['grafana_admin_password'];
        svc.configs = [
          mount(ds, '/etc/grafana/provisioning/datasources/fridge.yml'),
          mount(prov, '/etc/grafana/provisioning/dashboards/fridge.yml'),
          mount(dash, `${GRAFANA_DASHBOARDS_DIR}/flink.json`),
        ];
        break;
      }
      case 'sensors': {
        const sim = inv.cluster.services.sensors;
        if (!sim) break;
        svc.environment = sensorsEnvironment(sim);
        // The sensors' sequence numbers outlive the container: a restarted simulator goes on numbering, so the
        // job's sequence check sees no duplicates. A local volume, so the service stays on the leader with it.
        out.volumes.push('sensors-data');
        svc.volumes = [{ type: 'volume', source: 'sensors-data', target: '/var/lib/fridge-sensors' }];
        break;
      }
      case 'visualizer': {
        svc.volumes = [{ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }];
        svc.deploy = deploy(name, ['node.role == manager']);
        break;
      }
    }
    out.services[name] = svc;
    out.names.push(name);
  }
  return out;
}
