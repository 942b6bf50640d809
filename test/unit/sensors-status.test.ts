// status and the MQTT pipeline: readings/s in and results/s out per job (Flink's meters), and the last window's
// end-to-end latency as the sensor simulator measured it (its retained message).
import { describe, expect, it } from 'vitest';
import { formatStatus, parsePipelineStats, pipelineRates, type ClusterStatus } from '../../tasks/lib/deploy/status.ts';
import type { AggregatedMetric, FlinkRest, JobDetails, RestResult } from '../../tasks/lib/flink/rest.ts';

const base: ClusterStatus = {
  nodes: [],
  services: [],
  flink: { taskmanagers: 3, 'slots-total': 3, 'slots-available': 0, 'jobs-running': 1, 'flink-version': '2.3.0' },
  jobs: [{ jid: 'abc', name: 'sensor-window@1234', state: 'RUNNING', 'start-time': 0 }],
  dashboard: 'http://10.77.0.14:8081',
};

describe('status: the MQTT pipeline', () => {
  it('shows readings/s in and results/s out next to the counts, and the last window’s latency', () => {
    const text = formatStatus({
      ...base,
      readings: { abc: { total: 1234, gaps: 0, duplicates: 0, highestSeq: 1224 } },
      pipeline: { abc: { readingsPerSecond: 10.02, resultsPerSecond: 0.98 } },
      latency: { latencyMs: 183.4, windowEnd: Date.UTC(2026, 0, 1, 12, 0, 10), results: 10 },
    });
    expect(text).toContain('sensor-window@1234  abc  RUNNING  1234 readings, 0 lost, 0 duplicated; 10.0 readings/s in, 1.0 results/s out');
    expect(text).toContain(
      "MQTT pipeline: end-to-end latency of the last window: 183 ms (reading taken → its window's result back at the sensors; window ending 12:00:10 UTC, 10 results)",
    );
  });

  it('leaves out what a job does not report: no results sink, no simulator', () => {
    const text = formatStatus({ ...base, pipeline: { abc: { readingsPerSecond: 20 } } });
    expect(text).toMatch(/^sensor-window@1234 +abc +RUNNING +20\.0 readings\/s in$/m);
    expect(text).not.toContain('latency');
  });

  it('reads the simulator’s retained message, and ignores anything else on the topic', () => {
    const msg = '{"sensors": 4, "rate": 2.0, "published": 1246, "windowStart": 1796162340000, "windowEnd": 1796162350000, "results": 4, "latencyMs": 533, "at": 1796162350018}';
    expect(parsePipelineStats(msg)).toEqual({ latencyMs: 533, windowEnd: 1796162350000, results: 4 });
    expect(parsePipelineStats('')).toBeUndefined();
    expect(parsePipelineStats('{"latencyMs": "fast"}')).toBeUndefined();
  });

  it('takes the rates from the running count’s input and the MQTT sink’s, as Flink names them', async () => {
    const asked: string[] = [];
    const job: JobDetails = {
      jid: 'abc',
      name: 'sensor-window@1234',
      state: 'RUNNING',
      'start-time': 0,
      vertices: [
        { id: 'v1', name: 'Source: mqtt-readings', parallelism: 1, status: 'RUNNING' },
        { id: 'v2', name: 'running-count', parallelism: 1, status: 'RUNNING' },
        { id: 'v3', name: 'window-stats -> (Sink: print, mqtt-results: Writer)', parallelism: 1, status: 'RUNNING' },
      ],
    };
    const fake = {
      job: async (): Promise<RestResult<JobDetails>> => ({ ok: true, value: job }),
      subtaskMetrics: async (_jid: string, vid: string, ids: string[]): Promise<RestResult<AggregatedMetric[]>> => {
        asked.push(`${vid}:${ids.join(',')}`);
        return { ok: true, value: ids.map((id) => ({ id, sum: vid === 'v2' ? 8 : 0.8 })) };
      },
    } as unknown as FlinkRest;
    expect(await pipelineRates(fake, 'abc')).toEqual({ readingsPerSecond: 8, resultsPerSecond: 0.8 });
    expect(asked.sort()).toEqual(['v2:running-count.numRecordsInPerSecond', 'v3:mqtt-results__Writer.numRecordsInPerSecond']);
  });
});
