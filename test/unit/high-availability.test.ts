// Flink's high availability (#14): fridge_flink_high_availability in the inventory, and the stack it gives: a
// jobmanager on each of its hosts, a ZooKeeper ensemble from the Flink image, Flink's official HA keys.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { flinkUrls } from '../../tasks/lib/deploy/endpoints.ts';
import { flinkHosts } from '../../tasks/lib/deploy/pre-pull.ts';
import { parseInventory } from '../../tasks/lib/inventory/load.ts';
import { formatProblem, type Inventory } from '../../tasks/lib/inventory/types.ts';
import type { ComposeFile, ComposeService } from '../../tasks/lib/stack/compose-types.ts';
import { generateStack } from '../../tasks/lib/stack/generate.ts';

const HEAD = 'all:\n  vars:\n    fridge_model: "3B"\n    fridge_image: a/b\n    fridge_flink_taskmanager_exclude: [w1, w4]\n';
const HOSTS = [
  '  children:',
  '    managers:',
  '      hosts: {w1: {ansible_host: 10.77.0.11}}',
  '    workers:',
  '      hosts: {w2: {ansible_host: 10.77.0.12}, w3: {ansible_host: 10.77.0.13}, w4: {ansible_host: 10.77.0.14}, w5: {ansible_host: 10.77.0.15}}',
  '',
].join('\n');
const parsed = (vars: string) => parseInventory('inline.yaml', `${HEAD}${vars}${HOSTS}`);
const problems = (vars: string): string[] => {
  const r = parsed(vars);
  return (r.ok ? r.warnings : r.problems).map(formatProblem);
};
function inventory(vars: string): Inventory {
  const r = parsed(vars);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.inventory;
}
const HA = '    fridge_flink_jobmanager_host: w4\n    fridge_flink_high_availability: {type: zookeeper, jobmanager_hosts: [w4, w1], zookeeper_hosts: [w2, w3, w5]}\n';

function stackOf(inv: Inventory): { doc: ComposeFile; problems: string[] } {
  const stack = generateStack(inv, { imageRef: 'r/flink:2.3.0' });
  return { doc: parse(stack.yaml) as ComposeFile, problems: stack.problems.map((p) => `${p.severity} ${p.subject}: ${p.message}`) };
}
function svc(doc: ComposeFile, name: string): ComposeService {
  const s = doc.services[name];
  if (!s) throw new Error(`no service ${name}: ${Object.keys(doc.services).join(', ')}`);
  return s;
}
const props = (s: ComposeService) => parse(s.environment?.['FLINK_PROPERTIES'] ?? '') as Record<string, unknown>;

describe('fridge_flink_high_availability in the inventory', () => {
  it('unset: one jobmanager pinned to its host, no node label', () => {
    const inv = inventory('    fridge_flink_jobmanager_host: w4\n');
    expect(inv.cluster.flink.highAvailability).toEqual({ kind: 'none' });
    expect(inv.cluster.flink.jobmanagerHosts).toEqual(['w4']);
    expect(inv.hosts.map((h) => h.labels['jobmanager'])).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('zookeeper: the hosts as written, and a yes/no label on every host (the swarm phase never removes one)', () => {
    const inv = inventory(HA);
    expect(inv.cluster.flink.highAvailability).toEqual({ kind: 'zookeeper', zookeeperHosts: ['w2', 'w3', 'w5'] });
    expect(inv.cluster.flink.jobmanagerHost).toBe('w4');
    expect(inv.cluster.flink.jobmanagerHosts).toEqual(['w4', 'w1']);
    expect(Object.fromEntries(inv.hosts.map((h) => [h.name, h.labels['jobmanager']]))).toEqual({ w1: 'yes', w2: 'no', w3: 'no', w4: 'yes', w5: 'no' });
    expect(problems(HA)).toEqual([]);
  });

  it('zookeeper alone: a standby on the leader, and the ensemble on the first three other hosts', () => {
    const inv = inventory('    fridge_flink_jobmanager_host: w4\n    fridge_flink_high_availability: {type: zookeeper}\n');
    expect(inv.cluster.flink.jobmanagerHosts).toEqual(['w4', 'w1']);
    expect(inv.cluster.flink.highAvailability).toEqual({ kind: 'zookeeper', zookeeperHosts: ['w2', 'w3', 'w5'] });
  });

  it('refuses unknown hosts, an even ensemble, a jobmanager host outside the list; warns where one loss costs the jobs', () => {
    expect(problems('    fridge_flink_high_availability: {type: zookeeper, jobmanager_hosts: [w4, w9], zookeeper_hosts: [w2, w3, w5]}\n').join('\n')).toMatch(
      /inline\.yaml:\d+:\d+: .*jobmanager_hosts: "w9" is not a host of this inventory/,
    );
    expect(problems('    fridge_flink_high_availability: {type: zookeeper, jobmanager_hosts: [w4, w1], zookeeper_hosts: [w2, w3]}\n').join('\n')).toContain(
      'zookeeper_hosts: 2 ZooKeeper servers outlive no more lost Pis than 1',
    );
    expect(problems('    fridge_flink_jobmanager_host: w2\n    fridge_flink_high_availability: {type: zookeeper, jobmanager_hosts: [w4, w1], zookeeper_hosts: [w3]}\n').join('\n')).toContain(
      'fridge_flink_jobmanager_host: "w2" is not one of fridge_flink_high_availability.jobmanager_hosts (w4, w1)',
    );
    const one = problems('    fridge_flink_high_availability: {type: zookeeper, jobmanager_hosts: [w4], zookeeper_hosts: [w3]}\n').join('\n');
    expect(one).toContain('when that Pi dies it has nowhere to move');
    expect(one).toContain('one ZooKeeper server (w3): when its Pi dies, Flink loses its leader');
    expect(problems('    fridge_flink_high_availability: {type: none, zookeeper_hosts: [w3]}\n').join('\n')).toContain('only type zookeeper has zookeeper_hosts');
    expect(problems('    fridge_flink_high_availability: {type: raft}\n').join('\n')).toMatch(/fridge_flink_high_availability.*expected zookeeper .* or none/);
  });
});

describe('the stack under high availability', () => {
  it('without it: one jobmanager on its host, no ZooKeeper, no HA keys', () => {
    const { doc } = stackOf(inventory('    fridge_flink_jobmanager_host: w4\n'));
    const jm = svc(doc, 'jobmanager');
    expect(jm.deploy.replicas).toBe(1);
    expect(jm.deploy.placement.constraints).toEqual(['node.hostname == w4']);
    expect(Object.keys(doc.services).filter((n) => n.startsWith('zookeeper'))).toEqual([]);
    expect(Object.keys(props(jm)).filter((k) => k.startsWith('high-availability'))).toEqual([]);
  });

  it('a jobmanager on each labelled host, each telling ZooKeeper its own address; Flink told of the ensemble and the shared storage', () => {
    const { doc, problems: found } = stackOf(inventory(HA));
    const jm = svc(doc, 'jobmanager');
    expect(jm.deploy.replicas).toBe(2);
    expect(jm.deploy.placement).toEqual({ constraints: ['node.labels.jobmanager == yes'], max_replicas_per_node: 1 });
    expect(jm.environment?.['JOB_MANAGER_RPC_ADDRESS']).toBe('container-ip');
    expect(svc(doc, 'taskmanager').environment?.['JOB_MANAGER_RPC_ADDRESS']).toBe('jobmanager');
    expect(props(jm)).toMatchObject({
      'high-availability.type': 'zookeeper',
      'high-availability.zookeeper.quorum': 'zookeeper-1:2181,zookeeper-2:2181,zookeeper-3:2181',
      'high-availability.storageDir': 'file:///mnt/fridge-state/ha',
      'high-availability.cluster-id': '/flink',
      'high-availability.zookeeper.client.session-timeout': 10000,
      'high-availability.zookeeper.client.tolerate-suspended-connections': true,
    });
    expect(props(svc(doc, 'taskmanager'))['high-availability.zookeeper.quorum']).toBe('zookeeper-1:2181,zookeeper-2:2181,zookeeper-3:2181');
    expect(found).toEqual([]);
  });

  it('one ZooKeeper service per server, pinned, from the Flink image, with its data on its own Pi', () => {
    const { doc } = stackOf(inventory(HA));
    const servers = 'server.1=zookeeper-1:2888:3888 server.2=zookeeper-2:2888:3888 server.3=zookeeper-3:2888:3888';
    ['w2', 'w3', 'w5'].forEach((host, i) => {
      const zk = svc(doc, `zookeeper-${i + 1}`);
      expect(zk.image).toBe('r/flink:2.3.0');
      expect(zk.command).toEqual(['zookeeper']);
      expect(zk.environment).toEqual({ ZOO_MY_ID: String(i + 1), ZOO_SERVERS: servers, ZOO_HEAP_MB: '32' });
      expect(zk.deploy.placement.constraints).toEqual([`node.hostname == ${host}`]);
      expect(zk.volumes).toEqual([{ type: 'volume', source: 'zookeeper-data', target: '/opt/flink/zookeeper' }]);
      expect(zk.deploy.resources.reservations).toEqual({ memory: '160M' });
    });
    expect(Object.keys(doc.volumes ?? {})).toContain('zookeeper-data');
  });

  it('counts the standby and the ZooKeeper servers against the Pis: a 1 GiB ZooKeeper Pi has room for one taskmanager, not two', () => {
    const two = generateStack(inventory(`${HA}    fridge_flink_taskmanager_max_per_host: 2\n`), { imageRef: 'r/flink:2.3.0' });
    expect(two.problems.map((p) => `${p.severity} ${p.subject}: ${p.message}`)).toEqual([
      expect.stringMatching(/^error w2: w2 \(3B, 1024 MiB\): TaskManager task heap for 1 slot\(s\) needs 64 MiB but taskmanager.memory.process.size 304 MiB/),
    ]);
    const one = generateStack(inventory(`${HA}    fridge_flink_taskmanager_max_per_host: 1\n`), { imageRef: 'r/flink:2.3.0' });
    expect(one.problems).toEqual([]);
    expect(one.capacity.detail).toMatch(/^w2: 1, w3: 1, w5: 1 \(\d+ MiB each, at most 1 per host\)$/);
    const tm = parse(one.yaml) as ComposeFile;
    // (1024 MiB - 256 for the OS - 160 for ZooKeeper) for one taskmanager, and its container fits beside the server.
    expect(props(svc(tm, 'taskmanager'))['taskmanager.memory.process.size']).toBe('608m');
  });

  it('pulls the image onto every host that may run it, and looks for the dashboard on every jobmanager host without a routing mesh', () => {
    const inv = inventory(HA);
    expect(flinkHosts(inv).map((h) => h.name)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    expect(flinkUrls(inv)).toEqual(['http://10.77.0.11:8081']);
    const sim = inventory(`${HA}    fridge_dnsrr: true\n`);
    expect(flinkUrls(sim)).toEqual(['http://10.77.0.14:8081', 'http://10.77.0.11:8081']);
  });
});
