// Configuration files for the optional services, generated (not copied) so they follow the inventory.

import { stringify } from 'yaml';

export const FLINK_METRICS_PORT = 9249;

/**
 * The MQTT pipeline on the stack's broker. Inside the stack's network a service is reachable by its short name
 * (dnsrr: the name resolves to the task's address; vip: to the service's), so the job's taskmanagers and the
 * simulator both find Mosquitto as `mosquitto`, wherever the scheduler put them.
 */
export const MQTT_BROKER = { host: 'mosquitto', port: 1883 } as const;
export const BROKER_URL = `tcp://${MQTT_BROKER.host}:${MQTT_BROKER.port}`;
/** Where each simulated sensor publishes; the job's default filter (`sensors/+/readings`) reads them all. */
export const READINGS_TOPIC = 'sensors/{sensor}/readings';
/** The job's window results, one topic per sensor (`{sensor}` is replaced by the job), and a filter for all of them. */
export const RESULTS_TOPIC = 'sensors/{sensor}/results';
export const RESULTS_TOPIC_FILTER = RESULTS_TOPIC.replace('{sensor}', '+');
/** Retained by the simulator: the newest window's end-to-end latency, as it measured it (docker/services/sensors). */
export const PIPELINE_STATS_TOPIC = 'fridge/pipeline/stats';

/**
 * Each jobmanager/taskmanager task is discovered through `tasks.<stack>_<service>` (one A record per task):
 * scraping the service name would reach one replica at a time (the seed repository's mistake).
 */
export function prometheusConfig(stack: string): string {
  return stringify({
    global: { scrape_interval: '15s', evaluation_interval: '15s' },
    scrape_configs: [
      {
        job_name: 'flink',
        dns_sd_configs: [
          {
            names: [`tasks.${stack}_jobmanager`, `tasks.${stack}_taskmanager`],
            type: 'A',
            port: FLINK_METRICS_PORT,
            refresh_interval: '15s',
          },
        ],
        relabel_configs: [
          { source_labels: ['__meta_dns_name'], regex: `tasks\\.${stack}_(.*)`, target_label: 'component', replacement: '$1' },
        ],
      },
      { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
    ],
  });
}

/**
 * Mosquitto 2 listens on loopback only unless told otherwise; sensors on the LAN publish anonymously as in the seed.
 * The job's MQTT source acknowledges readings only after the checkpoint that covers them: the default cap of 20
 * unacknowledged messages would limit it to 20 readings per checkpoint interval, and the default queue of 1000
 * would drop readings for its persistent session while the job restarts.
 */
export function mosquittoConfig(): string {
  return [
    'listener 1883 0.0.0.0',
    'allow_anonymous true',
    'persistence false',
    'log_dest stdout',
    '# The Flink job\'s MQTT source (jobs/sensor-window) acknowledges readings only after the checkpoint that covers',
    '# them: the default cap of 20 unacknowledged messages would limit it to 20 readings per checkpoint interval,',
    '# and the default queue of 1000 would drop QoS 1 readings for its persistent session while the job restarts.',
    'max_inflight_messages 0',
    'max_queued_messages 100000',
    '',
  ].join('\n');
}

export const GRAFANA_DASHBOARDS_DIR = '/etc/grafana/dashboards';

export function grafanaDatasource(stack: string): string {
  return stringify({
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        uid: 'fridge-prometheus',
        type: 'prometheus',
        access: 'proxy',
        url: `http://${stack}_prometheus:9090`,
        isDefault: true,
        editable: false,
      },
    ],
  });
}

export function grafanaDashboardProvider(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: 'fridge',
        folder: 'Fridge',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: GRAFANA_DASHBOARDS_DIR },
      },
    ],
  });
}

interface Target {
  expr: string;
  legendFormat: string;
}

function panel(id: number, title: string, kind: 'stat' | 'timeseries', targets: Target[], grid: { x: number; y: number; w: number; h: number }, unit = 'short'): object {
  return {
    id,
    title,
    type: kind,
    datasource: { type: 'prometheus', uid: 'fridge-prometheus' },
    gridPos: grid,
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i), datasource: { type: 'prometheus', uid: 'fridge-prometheus' } })),
  };
}

/** Taskmanagers, slots, records in/out and JVM heap: what the seed's users looked at. */
export function grafanaFlinkDashboard(): string {
  const dashboard = {
    uid: 'fridge-flink',
    title: 'Fridge: Flink',
    tags: ['fridge', 'flink'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-30m', to: 'now' },
    panels: [
      panel(1, 'Taskmanagers', 'stat', [{ expr: 'max(flink_jobmanager_numRegisteredTaskManagers)', legendFormat: 'registered' }], { x: 0, y: 0, w: 6, h: 5 }),
      panel(2, 'Task slots', 'stat', [
        { expr: 'max(flink_jobmanager_taskSlotsTotal)', legendFormat: 'total' },
        { expr: 'max(flink_jobmanager_taskSlotsAvailable)', legendFormat: 'available' },
      ], { x: 6, y: 0, w: 6, h: 5 }),
      panel(3, 'Running jobs', 'stat', [{ expr: 'max(flink_jobmanager_numRunningJobs)', legendFormat: 'running' }], { x: 12, y: 0, w: 6, h: 5 }),
      panel(4, 'Records in / s', 'timeseries', [{ expr: 'sum by (task_name) (flink_taskmanager_job_task_numRecordsInPerSecond)', legendFormat: '{{task_name}}' }], { x: 0, y: 5, w: 12, h: 8 }),
      panel(5, 'Records out / s', 'timeseries', [{ expr: 'sum by (task_name) (flink_taskmanager_job_task_numRecordsOutPerSecond)', legendFormat: '{{task_name}}' }], { x: 12, y: 5, w: 12, h: 8 }),
      panel(6, 'JVM heap used', 'timeseries', [
        { expr: 'flink_jobmanager_Status_JVM_Memory_Heap_Used', legendFormat: 'jobmanager {{instance}}' },
        { expr: 'flink_taskmanager_Status_JVM_Memory_Heap_Used', legendFormat: 'taskmanager {{instance}}' },
      ], { x: 0, y: 13, w: 24, h: 8 }, 'bytes'),
    ],
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
