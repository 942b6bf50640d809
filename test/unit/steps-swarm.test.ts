// Table tests for swarm and reset steps: facts in → plan out; join tokens never reach a summary.
import { describe, expect, it } from 'vitest';
import { parseNodes, parseSwarmInfo, type SwarmFacts, type SwarmNode } from '../../tasks/lib/facts/swarm.ts';
import { removeStacksStep } from '../../tasks/lib/steps/swarm-services.ts';
import { demoteManagersStep, planHealth, promoteCommand, raftRetried, swarmInitStep, swarmJoinStep, swarmLeaveStep, swarmNodesStep, type JoinInfo } from '../../tasks/lib/steps/swarm.ts';
import { commands, ctxFor, inventory } from './steps-fixture.ts';

const inactive: SwarmFacts = { state: 'inactive', nodeId: '', nodeAddr: '', control: false, clusterId: '', remoteManagers: [], error: '' };
const absent: SwarmFacts = { ...inactive, state: 'absent' };
const leaderFacts: SwarmFacts = { state: 'active', nodeId: 'n1', nodeAddr: '10.77.0.11', control: true, clusterId: 'cluster-ours-000000', remoteManagers: ['10.77.0.11:2377'], error: '' };
const TOKEN_W = 'SWMTKN-1-worker-secret-0000';
const join: JoinInfo = { clusterId: 'cluster-ours-000000', managerAddr: '10.77.0.11:2377', workerToken: TOKEN_W, managerToken: 'SWMTKN-1-manager-secret', nodeIds: ['n1', 'n2'], nodes: [] };

describe('swarm facts', () => {
  it('parses docker info .Swarm for a worker and a manager', () => {
    expect(parseSwarmInfo('{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"Error":"","RemoteManagers":null}').state).toBe('inactive');
    const m = parseSwarmInfo('{"NodeID":"n1","NodeAddr":"10.77.0.11","LocalNodeState":"active","ControlAvailable":true,"RemoteManagers":[{"NodeID":"n1","Addr":"10.77.0.11:2377"}],"Cluster":{"ID":"c1"}}');
    expect(m).toMatchObject({ state: 'active', control: true, clusterId: 'c1', remoteManagers: ['10.77.0.11:2377'] });
    expect(parseSwarmInfo(undefined).state).toBe('absent');
  });
  it('parses docker node inspect', () => {
    const nodes = parseNodes('[{"ID":"n1","Spec":{"Labels":{"role":"manager"},"Role":"manager","Availability":"active"},"Description":{"Hostname":"pi1"},"Status":{"State":"ready","Addr":"10.77.0.11"},"ManagerStatus":{"Leader":true}}]');
    expect(nodes).toEqual([{ id: 'n1', hostname: 'pi1', role: 'manager', availability: 'active', state: 'ready', addr: '10.77.0.11', labels: { role: 'manager' }, leader: true }]);
  });
});

describe('swarm init (leader)', () => {
  it('fresh: init with the inventory address', () => {
    expect(commands(swarmInitStep.plan(inactive, ctxFor('pi1')))).toEqual(['docker swarm init --advertise-addr 10.77.0.11']);
  });
  it('no-op when already managing', () => {
    expect(swarmInitStep.plan(leaderFacts, ctxFor('pi1')).kind).toBe('ok');
  });
  it('a worker elsewhere cannot lead: fails naming the host', () => {
    const p = swarmInitStep.plan({ ...leaderFacts, control: false, remoteManagers: ['192.0.2.9:2377'] }, ctxFor('pi1'));
    expect(p).toEqual({ kind: 'fail', msg: expect.stringContaining('pi1 is a worker in another swarm (managers 192.0.2.9:2377)') });
  });
  it('docker missing: unmet (pi-setup makes it): the runner fails a real run and skips in check mode', () => {
    expect(swarmInitStep.plan(absent, ctxFor('pi1'))).toEqual({
      kind: 'unmet',
      msg: 'docker is not running: run pi-setup first',
      inCheck: { skip: 'docker is not running yet (check mode: pi-setup would start it)' },
    });
  });
});

describe('swarm join', () => {
  it('joins with the token on stdin, never in the summary or the command', () => {
    const p = swarmJoinStep(join).plan(inactive, ctxFor('pi3'));
    expect(p.kind).toBe('change');
    if (p.kind !== 'change') return;
    const c = p.changes[0];
    expect(c?.summary).toBe('join the swarm as worker (10.77.0.11:2377)');
    expect(JSON.stringify(c?.summary)).not.toContain(TOKEN_W);
    const a = c?.actions[0];
    expect(a?.kind === 'run' && a.command).not.toContain(TOKEN_W);
    expect(a?.kind === 'run' && a.stdin).toBe(`${TOKEN_W}\n`);
    expect(a?.kind === 'run' && a.command).toContain('--advertise-addr 10.77.0.13');
  });
  it('no-op when the node is already in this swarm', () => {
    expect(swarmJoinStep(join).plan({ ...inactive, state: 'active', nodeId: 'n2' }, ctxFor('pi2')).kind).toBe('ok');
  });
  it('a node in another swarm is an error that names it', () => {
    const p = swarmJoinStep(join).plan({ ...inactive, state: 'active', nodeId: 'zz', remoteManagers: ['10.77.0.99:2377'] }, ctxFor('pi3'));
    expect(p).toEqual({ kind: 'fail', msg: expect.stringMatching(/^pi3 is already in another swarm \(managers 10\.77\.0\.99:2377\)/) });
  });
  it('no join token: unmet; check mode (before the leader has a swarm) would join', () => {
    expect(swarmJoinStep(undefined).plan(inactive, ctxFor('pi3'))).toEqual({
      kind: 'unmet',
      msg: 'no join token: the leader has no swarm (did swarm init fail?)',
      inCheck: { changes: [{ summary: 'join the swarm as worker', actions: [] }] },
    });
  });
});

const node = (over: Partial<SwarmNode>): SwarmNode => ({ id: 'x', hostname: 'x', role: 'worker', availability: 'active', state: 'ready', addr: '', labels: {}, leader: false, ...over });
function inSync(): SwarmNode[] {
  const inv = inventory();
  return inv.hosts.map((h, i) => node({ id: `n${i + 1}`, hostname: h.name, role: h.role, labels: { ...h.labels }, leader: i === 0 }));
}

describe('swarm nodes (labels, roles, strangers)', () => {
  const step = swarmNodesStep({ prune: false });
  it('no-op when labels and roles match', () => {
    expect(step.plan({ nodes: inSync(), swarm: leaderFacts }, ctxFor('pi1'))).toEqual({ kind: 'ok', msg: '3 nodes, roles and labels as in the inventory' });
  });
  it('adds only the labels that differ', () => {
    const nodes = inSync().map((n) => (n.hostname === 'pi3' ? { ...n, labels: { model: 'virtual', memory: '1024', role: 'worker', disk: 'hdd' } } : n));
    const p = step.plan({ nodes, swarm: leaderFacts }, ctxFor('pi1'));
    expect(commands(p)).toEqual([raftRetried('docker node update --label-add disk=ssd n3')]);
    expect(raftRetried('docker node update x')).toBe('(i=0; until docker node update x; do i=$((i + 1)); [ "$i" -lt 4 ] || exit 1; sleep 3; done)');
  });
  it('demotes a node the inventory calls a worker, last; removes a stale Down duplicate', () => {
    const nodes = [...inSync().map((n) => (n.hostname === 'pi2' ? { ...n, role: 'manager' as const } : n)), node({ id: 'old3', hostname: 'pi3', state: 'down' })];
    expect(commands(step.plan({ nodes, swarm: leaderFacts }, ctxFor('pi1')))).toEqual(['docker node rm --force old3', raftRetried('docker node demote n2')]);
  });
  it('a node gone from the inventory: warning without --prune, removed with it', () => {
    const nodes = [...inSync(), node({ id: 'n9', hostname: 'pi9', role: 'manager', state: 'down' })];
    const p = step.plan({ nodes, swarm: leaderFacts }, ctxFor('pi1'));
    expect(p).toEqual({ kind: 'ok', msg: expect.stringContaining('warning: node pi9 (n9, down) is not in the inventory; --prune removes it') });
    expect(commands(swarmNodesStep({ prune: true }).plan({ nodes, swarm: leaderFacts }, ctxFor('pi1')))).toEqual(['docker node demote n9', 'docker node rm --force n9']);
  });
});

describe('promotions', () => {
  it('promotes a manager of the inventory that the swarm has as a worker, and waits until Raft reaches it', () => {
    const nodes = inSync().map((n) => (n.hostname === 'pi1' ? { ...n, role: 'worker' as const } : n));
    const cmds = commands(swarmNodesStep({ prune: false }).plan({ nodes, swarm: leaderFacts }, ctxFor('pi1')));
    const id = nodes.find((n) => n.hostname === 'pi1')?.id ?? '';
    expect(cmds).toEqual([promoteCommand(id)]);
    expect(promoteCommand('n1')).toBe(
      `(i=0; until docker node promote n1; do i=$((i + 1)); [ "$i" -lt 4 ] || exit 1; sleep 3; done) && timeout 120 sh -c 'until [ "$(docker node inspect n1 --format '\\''{{if .ManagerStatus}}{{.ManagerStatus.Reachability}}{{end}}'\\'')" = reachable ]; do sleep 1; done'`,
    );
  });
});

describe('swarm health', () => {
  const expected = ['pi1', 'pi2', 'pi3'];
  it('all Ready/Active', () => {
    expect(planHealth({ nodes: inSync(), swarm: leaderFacts }, expected)).toEqual({ kind: 'ok', msg: '3 nodes Ready/Active: pi1 (leader), pi2, pi3' });
  });
  it('names nodes that are not', () => {
    const nodes = inSync().filter((n) => n.hostname !== 'pi2').map((n) => (n.hostname === 'pi3' ? { ...n, state: 'down' } : n));
    expect(planHealth({ nodes, swarm: leaderFacts }, expected)).toMatchObject({ kind: 'unmet', msg: 'not Ready/Active: pi2 missing, pi3 down/active' });
  });
  it('waits for a manager just promoted until Raft reaches it', () => {
    const promoted = (r: string) => inSync().map((n) => (n.hostname === 'pi2' ? { ...n, role: 'manager' as const, reachability: r } : n));
    expect(planHealth({ nodes: promoted('unknown'), swarm: leaderFacts }, expected)).toMatchObject({ kind: 'unmet', msg: 'not Ready/Active: pi2 manager unknown' });
    expect(planHealth({ nodes: promoted('reachable'), swarm: leaderFacts }, expected)).toMatchObject({ kind: 'ok' });
  });
});

describe('reset steps', () => {
  it('stacks: removed when present, no-op otherwise', () => {
    expect(commands(removeStacksStep.plan({ manager: true, stacks: ['flink'], services: ['flink_jobmanager', 'flink_visualizer'] }, ctxFor('pi1')))).toEqual(['docker stack rm flink']);
    expect(removeStacksStep.plan({ manager: true, stacks: [], services: [] }, ctxFor('pi1')).kind).toBe('ok');
  });
  it('leave: no-op outside a swarm, forced leave inside', () => {
    expect(swarmLeaveStep.plan(inactive, ctxFor('pi2')).kind).toBe('ok');
    expect(swarmLeaveStep.plan(absent, ctxFor('pi2')).kind).toBe('ok');
    expect(commands(swarmLeaveStep.plan(leaderFacts, ctxFor('pi1')))).toEqual(['docker swarm leave --force']);
  });
  it('demotes the other managers before anyone leaves', () => {
    const nodes = [node({ id: 'n1', hostname: 'pi1', role: 'manager' }), node({ id: 'n2', hostname: 'pi2', role: 'manager' }), node({ id: 'n3', hostname: 'pi3' })];
    expect(commands(demoteManagersStep.plan({ nodes, swarm: leaderFacts }, ctxFor('pi1')))).toEqual(['docker node demote n2']);
  });
});
