// The swarm's task history as `docker service ps --no-trunc --format TASK_FORMAT` prints it (newest task of a
// slot first), and the rules that end the convergence wait early: table tests on captured-style output.
import { describe, expect, it } from 'vitest';
import { convergeVerdict, parseServiceLs } from '../../tasks/lib/deploy/converge.ts';
import { doomedService, notePending, parseServicePs, repeatedFailure, sinceDeploy, stateAgeMs, TASK_FORMAT, unplaceable } from '../../tasks/lib/deploy/task-history.ts';

const IMG = '10.77.0.1:5000/fridge/flink:afc7bdd@sha256:4b1c0f4e8d0c2a7b6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19080';

/** #18's doomed deploy: the engines are amd64, the image arm/v7 only; every task Rejected "No such image". */
const NO_SUCH_IMAGE = `flink_jobmanager.1||Ready|Pending 1 second ago|
flink_jobmanager.1|pi1|Shutdown|Rejected 4 seconds ago|"No such image: ${IMG}"
flink_jobmanager.1|pi1|Shutdown|Rejected 10 seconds ago|"No such image: ${IMG}"
flink_jobmanager.1|pi1|Shutdown|Rejected 16 seconds ago|"No such image: ${IMG}"
flink_taskmanager.1|pi2|Shutdown|Rejected 2 seconds ago|"No such image: ${IMG}"
flink_taskmanager.1|pi2|Shutdown|Rejected 8 seconds ago|"No such image: ${IMG}"
flink_taskmanager.1|pi2|Shutdown|Rejected 14 seconds ago|"No such image: ${IMG}"
flink_taskmanager.2|pi3|Running|Rejected 1 second ago|"No such image: ${IMG}"
flink_taskmanager.2|pi3|Shutdown|Rejected 7 seconds ago|"No such image: ${IMG}"
flink_taskmanager.2|pi3|Shutdown|Rejected 13 seconds ago|"No such image: ${IMG}"
`;

/** A stack whose reservations do not fit a 1 GiB Pi: the scheduler leaves the tasks pending. */
const NO_MEMORY = `flink_jobmanager.1||Running|Pending 20 seconds ago|"no suitable node (insufficient resources on 3 nodes)"
flink_taskmanager.1||Running|Pending 20 seconds ago|"no suitable node (1 node not available for new tasks; insufficient resources on 2 nodes)"
flink_taskmanager.2||Running|Pending 20 seconds ago|"no suitable node (1 node not available for new tasks; insufficient resources on 2 nodes)"
`;

/** A redeploy: the previous spec failed three times, the new task is being prepared (pulling) now. */
const NEW_SPEC_STARTING = `flink_jobmanager.1|pi1|Running|Preparing 3 seconds ago|
flink_jobmanager.1|pi1|Shutdown|Rejected 40 seconds ago|"No such image: ${IMG}"
flink_jobmanager.1|pi1|Shutdown|Rejected 46 seconds ago|"No such image: ${IMG}"
flink_jobmanager.1|pi1|Shutdown|Rejected 52 seconds ago|"No such image: ${IMG}"
`;

/** A crash that healed: the latest attempt runs. */
const RECOVERED = `flink_taskmanager.1|pi2|Running|Running 5 seconds ago|
flink_taskmanager.1|pi2|Shutdown|Failed 12 seconds ago|"task: non-zero exit (1)"
flink_taskmanager.1|pi2|Shutdown|Failed 20 seconds ago|"task: non-zero exit (1)"
flink_taskmanager.1|pi2|Shutdown|Failed 28 seconds ago|"task: non-zero exit (1)"
`;

/** One replica runs, the other failed three times: the service is not all-doomed. */
const ONE_REPLICA_OK = `flink_taskmanager.1|pi2|Running|Running 2 minutes ago|
flink_taskmanager.2|pi3|Ready|Ready 1 second ago|
flink_taskmanager.2|pi3|Shutdown|Failed 6 seconds ago|"task: non-zero exit (137)"
flink_taskmanager.2|pi3|Shutdown|Failed 20 seconds ago|"task: non-zero exit (137)"
flink_taskmanager.2|pi3|Shutdown|Failed 34 seconds ago|"task: non-zero exit (137)"
`;

/** Two failures with one error, then another error: not the same error three times in a row. */
const MIXED = `flink_jobmanager.1|pi1|Shutdown|Failed 2 seconds ago|"task: non-zero exit (1)"
flink_jobmanager.1|pi1|Shutdown|Failed 9 seconds ago|"task: non-zero exit (1)"
flink_jobmanager.1|pi1|Shutdown|Rejected 16 seconds ago|"No such image: ${IMG}"
`;

describe('docker service ps parsing', () => {
  it('uses only docker\'s documented task placeholders, the error last', () => {
    expect(TASK_FORMAT).toBe('{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}');
  });
  it('reads name, slot, node (empty when unplaced), states and the unquoted error', () => {
    const rows = parseServicePs(NO_SUCH_IMAGE);
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({ name: 'flink_jobmanager.1', service: 'flink_jobmanager', slot: '1', node: '', desired: 'Ready', state: 'Pending', error: '', agoMs: 1_000 });
    expect(rows[1]).toEqual({ name: 'flink_jobmanager.1', service: 'flink_jobmanager', slot: '1', node: 'pi1', desired: 'Shutdown', state: 'Rejected', error: `No such image: ${IMG}`, agoMs: 4_000 });
    expect(parseServicePs(NO_MEMORY)[1]?.error).toBe('no suitable node (1 node not available for new tasks; insufficient resources on 2 nodes)');
  });
  it('keeps a | inside the error, reads a global service by node id, skips noise', () => {
    const rows = parseServicePs('flink_agent.k3x9w2|pi2|Running|Failed 1 second ago|"a|b"\nError: No such service: nope\n\n');
    expect(rows).toEqual([{ name: 'flink_agent.k3x9w2', service: 'flink_agent', slot: 'k3x9w2', node: 'pi2', desired: 'Running', state: 'Failed', error: 'a|b', agoMs: 1_000 }]);
  });
});

describe('a service that cannot start', () => {
  it.each([
    ['every replica rejected three times with one error', NO_SUCH_IMAGE, 'flink_jobmanager'],
    ['the new spec still being prepared', NEW_SPEC_STARTING, undefined],
    ['the latest attempt running', RECOVERED, undefined],
    ['one replica running', ONE_REPLICA_OK, undefined],
    ['different errors', MIXED, undefined],
    ['pending tasks (another rule)', NO_MEMORY, undefined],
    ['a slot left by a scale-down beside doomed ones', `${NO_SUCH_IMAGE}flink_jobmanager.2|pi2|Shutdown|Shutdown 5 minutes ago|
`, 'flink_jobmanager'],
  ])('%s → %s', (_, ps, service) => {
    expect(repeatedFailure(parseServicePs(ps))?.service).toBe(service);
  });
  it('names the service, the error, how often and the nodes', () => {
    expect(repeatedFailure(parseServicePs(NO_SUCH_IMAGE))?.why).toBe(`flink_jobmanager cannot start: its replica 3 times in a row rejected: No such image: ${IMG} (on pi1)`);
    const tms = parseServicePs(NO_SUCH_IMAGE).filter((r) => r.service === 'flink_taskmanager');
    expect(repeatedFailure(tms)?.why).toBe(`flink_taskmanager cannot start: all 2 replicas 3 times in a row rejected: No such image: ${IMG} (on pi2, pi3)`);
  });
});

describe('a service the scheduler cannot place', () => {
  const rows = parseServicePs(NO_MEMORY);
  it('is noticed when no replica runs and a wanted task is pending with "no suitable node"', () => {
    expect([...unplaceable(rows).keys()]).toEqual(['flink_jobmanager', 'flink_taskmanager']);
    expect(unplaceable(parseServicePs(`flink_taskmanager.1|pi2|Running|Running 1 minute ago|\n${NO_MEMORY.split('\n')[2]}\n`)).size).toBe(0);
  });
  it('is doomed only once that lasted 15 s without a break', () => {
    let since = notePending(new Map(), rows, 1_000);
    expect(doomedService(rows, since, 1_000)).toBeUndefined();
    since = notePending(since, rows, 10_000);
    expect(doomedService(rows, since, 10_000)).toBeUndefined();
    since = notePending(since, rows, 16_000);
    expect(doomedService(rows, since, 16_000)).toEqual({
      service: 'flink_jobmanager',
      why: 'flink_jobmanager cannot be placed: pending for 15 s with no replica running: no suitable node (insufficient resources on 3 nodes)',
    });
    // While a task of the stack is still stopping (30 s grace), its reservation may be what blocks: no clock.
    const withStopping = parseServicePs(`${NO_MEMORY}flink_taskmanager.3|pi2|Shutdown|Running 2 minutes ago|\n`);
    expect(notePending(since, withStopping, 17_000).size).toBe(0);
    // Placed in between: the clock starts again.
    const placed = notePending(since, [], 17_000);
    expect(notePending(placed, rows, 18_000).get('flink_jobmanager')).toBe(18_000);
  });
});

describe('the convergence verdict', () => {
  const services = parseServiceLs('flink_jobmanager 0/1\nflink_taskmanager 0/2\n---\n');
  const doomed = doomedService(parseServicePs(NO_SUCH_IMAGE), new Map(), 0);
  it('fails with the service and the error as soon as the history shows it cannot converge', () => {
    expect(convergeVerdict('flink', { slotsPerTaskmanager: 2 }, services, undefined, true, doomed)).toEqual({
      kind: 'failed',
      why: `flink_jobmanager cannot start: its replica 3 times in a row rejected: No such image: ${IMG} (on pi1)`,
    });
  });
  it('before the swarm had time to replace the previous deploy\'s tasks, it waits', () => {
    expect(convergeVerdict('flink', { slotsPerTaskmanager: 2 }, services, undefined, false, doomed).kind).toBe('waiting');
  });
});

describe('only this deploy\'s history counts', () => {
  it('reads the least age docker\'s CURRENT STATE allows', () => {
    expect(stateAgeMs('Failed 3 minutes ago')).toBe(180_000);
    expect(stateAgeMs('Running less than a second ago')).toBe(0);
    expect(stateAgeMs('Shutdown about a minute ago')).toBe(60_000);
    expect(stateAgeMs('Rejected 12 seconds ago')).toBe(12_000);
    expect(stateAgeMs('Pending')).toBeUndefined();
  });
  it('drops tasks that ended before the deploy: the spec they failed with is gone', () => {
    const rows = parseServicePs(
      [
        'flink_jobmanager.1|pi4|Running|Starting 2 seconds ago|',
        'flink_jobmanager.1|pi4|Shutdown|Failed 3 minutes ago|"task: non-zero exit (1)"',
        'flink_jobmanager.1|pi4|Shutdown|Failed 5 minutes ago|"task: non-zero exit (1)"',
        'flink_jobmanager.1|pi4|Shutdown|Failed 7 seconds ago|"task: non-zero exit (1)"',
      ].join('\n'),
    );
    expect(sinceDeploy(rows, 10_000).map((r) => r.state)).toEqual(['Starting', 'Failed']);
    // Three failures of the old spec in a row would otherwise doom the new one at once.
    const old = rows.slice(1).map((r) => ({ ...r, desired: 'Shutdown' }));
    expect(repeatedFailure([{ ...old[0]!, desired: 'Ready', state: 'Failed' }, ...old])).toBeDefined();
    expect(repeatedFailure(sinceDeploy([{ ...old[0]!, desired: 'Ready', state: 'Failed' }, ...old], 10_000))).toBeUndefined();
  });
});
