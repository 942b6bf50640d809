// Facts in → plan out for the stack-deploy and scale steps (pyinfra-style fixtures), including the no-op case.
import { describe, expect, it } from 'vitest';
import { convergeVerdict, failedUpdate, parseServiceLs } from '../../tasks/lib/deploy/converge.ts';
import { flinkUrl } from '../../tasks/lib/deploy/endpoints.ts';
import { resolveImageRef } from '../../tasks/lib/deploy/image-ref.ts';
import { stackDeployStep, stackDigest } from '../../tasks/lib/steps/stack/deploy.ts';
import { parseRolledBack } from '../../tasks/lib/steps/stack/deployed.ts';
import { stackFilesStep } from '../../tasks/lib/steps/stack/files.ts';
import { stackSecretsStep } from '../../tasks/lib/steps/stack/secrets.ts';
import { formatStatus, parseNodeLs } from '../../tasks/lib/deploy/status.ts';
import { scaleStep } from '../../tasks/lib/steps/stack/scale.ts';
import type { GeneratedStack } from '../../tasks/lib/stack/types.ts';
import { commands, ctxFor, inventory } from './steps-fixture.ts';

const stack: GeneratedStack = {
  yaml: 'version: "3.8"\nservices: {}\n',
  files: { 'prometheus.yml': 'scrape_configs: []\n' },
  services: ['jobmanager', 'taskmanager'],
  expected: { taskmanagers: 2, slots: 2 },
  capacity: { taskmanagers: 6, detail: 'pi2: 2, pi3: 2, pi5: 2' },
  secrets: [{ name: 'flink_grafana_admin', env: 'FRIDGE_TEST_GRAFANA' }],
  problems: [],
};

describe('stack files', () => {
  const inv = inventory();
  const step = stackFilesStep(inv, stack);
  it('writes missing files with a diff', () => {
    const plan = step.plan(
      [
        { path: '/opt/fridge/stacks/flink/docker-stack.yaml', current: undefined, desired: stack.yaml },
        { path: '/opt/fridge/stacks/flink/prometheus.yml', current: 'old\n', desired: 'scrape_configs: []\n' },
      ],
      ctxFor('pi1', { inv }),
    );
    expect(commands(plan)).toEqual(['put /opt/fridge/stacks/flink/docker-stack.yaml', 'put /opt/fridge/stacks/flink/prometheus.yml']);
    expect(plan.kind === 'change' && plan.changes[1]?.diff).toEqual({ path: '/opt/fridge/stacks/flink/prometheus.yml', before: 'old\n', after: 'scrape_configs: []\n' });
  });
  it('is ok when every file is as generated', () => {
    expect(step.plan([{ path: 'x', current: 'a', desired: 'a' }], ctxFor('pi1', { inv })).kind).toBe('ok');
  });
});

describe('docker stack deploy', () => {
  const inv = inventory();
  const step = stackDeployStep(inv, stack);
  const digest = stackDigest(stack);
  it('deploys with registry auth when nothing is deployed, then records the digest', () => {
    const plan = step.plan({ deployedDigest: undefined, services: [], taskmanagers: undefined }, ctxFor('pi1', { inv }));
    expect(commands(plan)).toEqual(["cd /opt/fridge/stacks/flink && docker stack deploy --with-registry-auth --prune -c docker-stack.yaml flink", 'put /opt/fridge/stacks/flink/.deployed.sha256', 'call note the deploy time']);
    expect(plan.kind === 'change' && plan.changes[0]?.summary).toContain('not deployed');
  });
  it('changes nothing when the deployed digest matches and every service exists', () => {
    expect(step.plan({ deployedDigest: digest, services: ['flink_jobmanager', 'flink_taskmanager'], taskmanagers: undefined }, ctxFor('pi1', { inv })).kind).toBe('ok');
  });
  it('redeploys when the stack changed or a service was removed by hand', () => {
    expect(step.plan({ deployedDigest: 'other', services: ['flink_jobmanager', 'flink_taskmanager'], taskmanagers: undefined }, ctxFor('pi1', { inv })).kind).toBe('change');
    const p = step.plan({ deployedDigest: digest, services: ['flink_jobmanager'], taskmanagers: undefined }, ctxFor('pi1', { inv }));
    expect(p.kind === 'change' && p.changes[0]?.summary).toContain('missing taskmanager');
  });
  it('deploys again when the swarm rolled back an update: the services run an older spec than the mark says', () => {
    const p = step.plan({ deployedDigest: digest, services: ['flink_jobmanager', 'flink_taskmanager'], taskmanagers: undefined, rolledBack: ['flink_jobmanager'] }, ctxFor('pi1', { inv }));
    expect(p.kind === 'change' && p.changes[0]?.summary).toBe('docker stack deploy flink (the swarm rolled back flink_jobmanager)');
    expect(parseRolledBack('flink_jobmanager rollback_completed\nflink_taskmanager completed\nflink_x \nflink_y paused\n')).toEqual(['flink_jobmanager', 'flink_y']);
  });
  it('a redeploy keeps a scaled taskmanager count (docker/cli#2235) until the inventory changes its own', () => {
    const wanted = inv.cluster.flink.taskmanagerReplicas;
    const scaled = { deployedDigest: 'other', services: ['flink_jobmanager', 'flink_taskmanager'], taskmanagers: { replicas: wanted + 1, inventoryReplicas: wanted } };
    const keep = step.plan(scaled, ctxFor('pi1', { inv }));
    expect(commands(keep)[0]).toBe('cd /opt/fridge/stacks/flink && docker stack deploy --with-registry-auth --prune -c docker-stack.yaml -c - flink');
    const run = keep.kind === 'change' ? keep.changes[0]?.actions[0] : undefined;
    expect(run?.kind === 'run' && run.stdin).toContain(`replicas: ${wanted + 1}`);
    expect(keep.kind === 'change' && keep.changes[0]?.summary).toContain(`keeping the ${wanted + 1} replicas set by scale`);
    const changed = step.plan({ ...scaled, taskmanagers: { replicas: wanted + 1, inventoryReplicas: wanted - 1 } }, ctxFor('pi1', { inv }));
    expect(commands(changed)[0]).toContain('-c docker-stack.yaml flink');
    expect(changed.kind === 'change' && changed.changes[0]?.summary).toContain("the inventory's count changed");
    const noop = step.plan({ ...scaled, deployedDigest: digest }, ctxFor('pi1', { inv }));
    expect(noop).toEqual({ kind: 'ok', msg: `stack flink is up to date (taskmanager scaled to ${wanted + 1})` });
  });
  it('the digest covers config files, not just the stack file', () => {
    expect(stackDigest({ ...stack, files: { 'prometheus.yml': 'changed' } })).not.toBe(digest);
  });
});

describe('stack secrets', () => {
  const step = stackSecretsStep(stack);
  it('fails naming the env var when a secret is missing and unset', () => {
    delete process.env.FRIDGE_TEST_GRAFANA;
    expect(step.plan({ existing: [] }, ctxFor('pi1'))).toEqual({ kind: 'fail', msg: 'set FRIDGE_TEST_GRAFANA in the environment: the stack needs swarm secret(s) flink_grafana_admin' });
  });
  it('creates it from stdin (never argv) when set, and is ok when it exists', () => {
    process.env.FRIDGE_TEST_GRAFANA = 'grafana-secret-value';
    const plan = step.plan({ existing: [] }, ctxFor('pi1'));
    expect(commands(plan)).toEqual(['docker secret create flink_grafana_admin -']);
    expect(JSON.stringify(plan.kind === 'change' && plan.changes.map((c) => c.summary))).not.toContain('grafana-secret-value');
    expect(step.plan({ existing: ['flink_grafana_admin'] }, ctxFor('pi1')).kind).toBe('ok');
    delete process.env.FRIDGE_TEST_GRAFANA;
  });
});

describe('scale', () => {
  const inv = inventory();
  it.each([
    [3, 3, 'ok', []],
    [2, 5, 'change', ['docker service scale --detach flink_taskmanager=5']],
  ] as const)('%i replicas, %i wanted → %s', (current, wanted, kind, cmds) => {
    const plan = scaleStep(inv, 'taskmanager', wanted).plan({ current }, ctxFor('pi1', { inv }));
    expect(plan.kind).toBe(kind);
    expect(commands(plan)).toEqual(cmds);
  });
  it('fails when the service is not deployed', () => {
    expect(scaleStep(inv, 'taskmanager', 2).plan({ current: undefined }, ctxFor('pi1', { inv }))).toMatchObject({ kind: 'fail', msg: expect.stringContaining('run stack-deploy first') });
  });
});

describe('reading the swarm', () => {
  it('parses docker service ls replicas, including the max-per-node note, and the update state', () => {
    expect(parseServiceLs('flink_jobmanager 1/1\nflink_taskmanager 2/3 (max 2 per node)\n---\nflink_jobmanager none\nflink_taskmanager updating\n')).toEqual([
      { name: 'flink_jobmanager', running: 1, desired: 1, update: 'none' },
      { name: 'flink_taskmanager', running: 2, desired: 3, update: 'updating' },
    ]);
  });
  it('names a service whose update was rolled back', () => {
    expect(failedUpdate(parseServiceLs('flink_jobmanager 1/1\n---\nflink_jobmanager rollback_completed\n'))?.name).toBe('flink_jobmanager');
    expect(failedUpdate(parseServiceLs('flink_jobmanager 1/1\n---\nflink_jobmanager completed\n'))).toBeUndefined();
  });
  it('is converged only when every service settled and Flink has every taskmanager and slot', () => {
    const want = { slotsPerTaskmanager: 1 };
    const rolling = parseServiceLs('flink_jobmanager 1/1\nflink_taskmanager 4/5\n---\nflink_jobmanager completed\nflink_taskmanager updating\n');
    const done = parseServiceLs('flink_jobmanager 1/1\nflink_taskmanager 5/5\n---\nflink_jobmanager completed\nflink_taskmanager completed\n');
    expect(convergeVerdict('flink', want, rolling, overview(4), true)).toEqual({
      kind: 'waiting',
      state: 'flink_jobmanager 1/1, flink_taskmanager 4/5; Flink: 4/5 taskmanagers, 4/5 slots',
    });
    expect(convergeVerdict('flink', want, done, overview(4), true).kind).toBe('waiting');
    expect(convergeVerdict('flink', want, done, overview(5), false).kind).toBe('waiting');
    expect(convergeVerdict('flink', want, done, overview(5), true)).toEqual({ kind: 'done' });
    expect(convergeVerdict('flink', want, parseServiceLs('flink_jobmanager 1/1\n---\nflink_jobmanager rollback_completed\n'), overview(5), true)).toMatchObject({ kind: 'failed' });
  });
  it("counts a dead Pi's task, still running for the swarm, as settled; Flink's count decides", () => {
    const want = { slotsPerTaskmanager: 1 };
    const stale = parseServiceLs('flink_jobmanager 1/1\nflink_taskmanager 4/3 (max 2 per node)\n---\nflink_jobmanager completed\nflink_taskmanager completed\n');
    expect(convergeVerdict('flink', want, stale, overview(3), true)).toEqual({ kind: 'done' });
    expect(convergeVerdict('flink', want, stale, overview(4), true).kind).toBe('waiting');
  });
  it('for a resume, is ready once the new jobmanager runs and answers, before any taskmanager', () => {
    const want = { slotsPerTaskmanager: 1, forResume: true };
    const jmUpdating = parseServiceLs('flink_jobmanager 1/1\nflink_taskmanager 0/5\n---\nflink_jobmanager updating\nflink_taskmanager updating\n');
    const jmDone = parseServiceLs('flink_jobmanager 1/1\nflink_taskmanager 0/5\n---\nflink_jobmanager completed\nflink_taskmanager updating\n');
    // While the jobmanager is being replaced, a REST answer may still come from the old one.
    expect(convergeVerdict('flink', want, jmUpdating, overview(5), true).kind).toBe('waiting');
    expect(convergeVerdict('flink', want, jmDone, undefined, true)).toEqual({
      kind: 'waiting',
      state: 'flink_jobmanager 1/1, flink_taskmanager 0/5; Flink REST not answering yet',
    });
    expect(convergeVerdict('flink', want, jmDone, overview(0), false).kind).toBe('waiting');
    expect(convergeVerdict('flink', want, jmDone, overview(0), true)).toEqual({ kind: 'done' });
  });
  it('formats status as tables with the dashboard URL', () => {
    const text = formatStatus({
      nodes: parseNodeLs('pi1\tReady\tActive\tLeader\npi2\tReady\tActive\t\n'),
      services: [{ name: 'flink_taskmanager', running: 2, desired: 2 }],
      flink: { taskmanagers: 2, 'slots-total': 2, 'slots-available': 1, 'jobs-running': 1, 'flink-version': '2.3.0' },
      jobs: [{ jid: 'abc', name: 'sensor-window', state: 'RUNNING', 'start-time': 0 }],
      dashboard: 'http://10.77.0.11:8081',
    });
    expect(text).toContain('pi2   Ready   Active        worker');
    expect(text).toContain('Flink 2.3.0: 2 taskmanagers, 2 slots (1 free), 1 jobs running');
    expect(text).toContain('sensor-window  abc  RUNNING');
    expect(text).toContain('Dashboard: http://10.77.0.11:8081');
  });
});

describe('endpoints and image', () => {
  it('points at the jobmanager node with host-mode ports (no IPVS), else at the leader', () => {
    const virt = inventory('    fridge_flink_jobmanager_host: pi2\n');
    expect(flinkUrl(virt)).toBe('http://10.77.0.12:8081');
    const mesh = inventory('    fridge_flink_jobmanager_host: pi2\n    fridge_dnsrr: false\n');
    expect(flinkUrl(mesh)).toBe('http://10.77.0.11:8081');
  });
  it('uses --image, else what this run built, else the last published, else the Flink version tag', () => {
    const inv = inventory();
    const none = '/nonexistent/image.json';
    expect(resolveImageRef(inv, 'x/y:z', undefined, none)).toBe('x/y:z');
    expect(resolveImageRef(inv, undefined, { ref: 'built@sha256:1', planned: false }, none)).toBe('built@sha256:1');
    expect(resolveImageRef(inv, undefined, undefined, none)).toBe(`10.77.0.1:5000/fridge/flink:${inv.cluster.flink.version}`);
  });
});

function overview(taskmanagers: number) {
  return { taskmanagers, 'slots-total': taskmanagers, 'slots-available': taskmanagers, 'jobs-running': 0, 'flink-version': '2.3.0' };
}
