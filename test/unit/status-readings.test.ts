// status shows the example job's records lost and counted twice next to the job, and nothing extra without them.
import { describe, expect, it } from 'vitest';
import { formatStatus, type ClusterStatus } from '../../tasks/lib/deploy/status.ts';

const base: ClusterStatus = {
  nodes: [],
  services: [],
  flink: { taskmanagers: 1, 'slots-total': 2, 'slots-available': 1, 'jobs-running': 2, 'flink-version': '2.3.0' },
  jobs: [
    { jid: 'abc', name: 'sensor-window@1234', state: 'RUNNING', 'start-time': 0 },
    { jid: 'def', name: 'other', state: 'RUNNING', 'start-time': 0 },
  ],
  dashboard: 'http://10.77.0.11:8081',
};

describe('status: the example job readings', () => {
  it('shows readings, lost and duplicated per job that reports them', () => {
    const text = formatStatus({ ...base, readings: { abc: { total: 1234, gaps: 0, duplicates: 2, highestSeq: 1222 } } });
    expect(text).toContain('JOB                 ID   STATE    READINGS');
    expect(text).toContain('sensor-window@1234  abc  RUNNING  1234 readings, 0 lost, 2 duplicated');
    expect(text).toMatch(/^other +def  RUNNING$/m);
  });

  it('has no readings column when no job reports them', () => {
    const text = formatStatus(base);
    expect(text).toContain('JOB                 ID   STATE\n');
    expect(text).not.toContain('READINGS');
  });
});
