// status shows the example job's records lost and counted twice next to the job, and nothing extra without them;
// per node, the memory its engine reports and its platform (what a virtual node stands for).
import { describe, expect, it } from 'vitest';
import { formatStatus, parseNodeInspect, parseNodeLs, statusStep, withDescriptions, type ClusterStatus } from '../../tasks/lib/deploy/status.ts';
import { controlPlaneDown } from '../../tasks/lib/phases/status.ts';
import { formatStorageCheck } from '../../tasks/lib/steps/storage/plays.ts';
import { ctxFor, inventory } from './steps-fixture.ts';

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

describe('status: each running job\'s last completed checkpoint, what a restart would resume from', () => {
  it('shows its number and age, and failed checkpoints (the storage gone, say)', () => {
    const checkpoints = {
      abc: { completed: 12, failed: 0, restored: 1, lastCompleted: { id: 13, at: 1_000_000 } },
      def: { completed: 0, failed: 3, restored: 0 },
    };
    const text = formatStatus({ ...base, checkpoints, readAt: 1_007_400 });
    expect(text).toContain('JOB                 ID   STATE    LAST CHECKPOINT\n');
    expect(text).toMatch(/^sensor-window@1234  abc  RUNNING  #13, 7 s ago$/m);
    expect(text).toMatch(/^other +def  RUNNING  none yet, 3 failed$/m);
  });
});

describe('the state storage line', () => {
  const inv = inventory();
  it('names the storage and which Flink nodes reach it, and which do not', () => {
    expect(formatStorageCheck(inv, { ok: true, reached: ['pi1', 'pi2', 'pi3'], notReached: [], unreachable: [] })).toBe('sshfs from pi1:/srv/fridge-state: reached by pi1, pi2, pi3');
    expect(formatStorageCheck(inv, { ok: false, reached: ['pi2'], notReached: [{ host: 'pi3', why: 'x' }], unreachable: ['pi1'] })).toBe(
      'sshfs from pi1:/srv/fridge-state: reached by pi2; NOT by pi3; no answer from pi1',
    );
  });
});

describe('status when no swarm manager answers', () => {
  const inv = inventory();
  const h = (name: string) => ({ ...inv.hosts[0]!, name });
  it('one manager: the control plane is down, what still works, and what 3 managers would give', () => {
    expect(controlPlaneDown([h('pi1')], ['pi1'])).toBe(
      "the swarm's only manager, pi1, does not answer: its control plane is down. Services keep running where they are, but nothing can be deployed, scaled or rescheduled (a lost Pi's tasks stay lost) until it is back; with 3 managers in the inventory the swarm survives the loss of one",
    );
  });
  it('several: how many must be up', () => {
    expect(controlPlaneDown([h('m1'), h('m2'), h('m3')], ['m1', 'm2', 'm3'])).toBe('no swarm manager answers (m1, m2, m3 of m1, m2, m3): the control plane is down. 3 managers need 2 of them up to change anything');
  });
});

describe('status: what each node reports to swarm', () => {
  const ls = 'pi1\tReady\tActive\tLeader\tid1\npi2\tReady\tActive\t\tid2\npi9\tDown\tActive\t\tid9\n';
  const inspect = 'id1\t1073741824\tx86_64\tlinux/arm/v7\nid2\t1073741824\tarmv7l\t\n';

  it('shows memory and the engine architecture, with what a virtual node stands for', () => {
    const nodes = withDescriptions(parseNodeLs(ls), parseNodeInspect(inspect));
    expect(nodes[0]).toMatchObject({ hostname: 'pi1', memoryBytes: 1073741824, arch: 'x86_64', emulates: 'linux/arm/v7' });
    expect(nodes[1]).not.toHaveProperty('emulates');
    const text = formatStatus({ ...base, nodes });
    expect(text).toContain('NODE  STATUS  AVAILABILITY  ROLE    MEMORY    PLATFORM');
    expect(text).toContain('pi1   Ready   Active        Leader  1024 MiB  x86_64 (stands for linux/arm/v7)');
    expect(text).toMatch(/^pi2 +Ready +Active +worker +1024 MiB +armv7l$/m);
    // A node inspect could not describe keeps its row, without the columns it lacks.
    expect(text).toMatch(/^pi9 +Down +Active +worker$/m);
  });

  it('keeps the rows of `docker node ls` alone when inspect said nothing', () => {
    expect(withDescriptions(parseNodeLs(ls), parseNodeInspect(''))[0]).toEqual({ hostname: 'pi1', status: 'Ready', availability: 'Active', manager: 'Leader', id: 'id1' });
  });
});

describe('status step', () => {
  // ctxFor's transport throws if touched: the plan only decides, the phase keeps what was read.
  it('is ok with nodes and fails on a host that is no manager, without touching the host', () => {
    const ctx = ctxFor('pi1');
    expect(statusStep.plan({ ...base, nodes: parseNodeLs('pi1\tReady\tActive\tLeader\tid1\n') }, ctx)).toEqual({ kind: 'ok' });
    expect(statusStep.plan(base, ctx)).toEqual({ kind: 'fail', msg: 'pi1 is not a swarm manager: run the swarm phase' });
    expect(statusStep.output).toBeUndefined();
  });
});
