// The optional services (fridge_services), all on the swarm leader, with their generated configuration.

import { leader, type Inventory } from '../inventory/types.ts';
import type { ComposeConfigMount, ComposeDeploy, ComposeService } from './compose-types.ts';
import {
  GRAFANA_DASHBOARDS_DIR,
  grafanaDashboardProvider,
  grafanaDatasource,
  grafanaFlinkDashboard,
  mosquittoConfig,
  prometheusConfig,
} from './monitoring.ts';
import { formatMiB } from './memory.ts';
import { configRef, deployPolicies, NETWORK, port, type ConfigRef } from './parts.ts';
import { serviceImage } from './service-images.ts';
import type { ServiceName, StackProblem } from './types.ts';

export const GRAFANA_PASSWORD_ENV_VAR = 'fridge_grafana_admin_password_env';
export const DEFAULT_GRAFANA_PASSWORD_ENV = 'FRIDGE_GRAFANA_ADMIN_PASSWORD';

/** Memory limits of the optional services (they are small and do not depend on the Flink profile). */
export const SERVICE_MEMORY_MIB: Record<ServiceName, number> = { mosquitto: 64, prometheus: 256, grafana: 256, visualizer: 64 };

const SERVICE_PORTS: Record<ServiceName, number> = { mosquitto: 1883, prometheus: 9090, grafana: 3000, visualizer: 8080 };

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

  for (const name of ['mosquitto', 'prometheus', 'grafana', 'visualizer'] as const) {
    if (!inv.cluster.services[name]) continue;
    const img = serviceImage(inv, name);
    if (img.kind === 'unavailable') {
      out.problems.push({ severity: 'error', subject: name, message: img.reason });
      continue;
    }
    const image = img.kind === 'built' ? img.pullRef : img.ref;
    const svc: ComposeService = { image, networks: [NETWORK], ports: [port(SERVICE_PORTS[name], dnsrr)], deploy: deploy(name, []) };
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
