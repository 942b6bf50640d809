// The inventory loader as the operator sees it: which files validate, and the exact
// `file:line:col: severity: message` lines printed for the ones that do not.

import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems, loadInventory, parseInventory } from '../../tasks/lib/inventory/load.ts';
import { leader, type LoadResult } from '../../tasks/lib/inventory/types.ts';
import { mask } from '../../tasks/lib/secrets.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/inventory');
const fixture = (name: string): string => join(FIXTURES, name);
const EXAMPLE = resolve(import.meta.dirname, '../../inventory/fridge.yaml');

/** The lines the CLI prints, with the fixture's path shortened to its name. */
function lines(result: LoadResult): string[] {
  const problems = result.ok ? result.warnings : result.problems;
  return formatProblems(problems)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(`${FIXTURES}/`, ''));
}

describe('the example inventory (inventory/fridge.yaml)', () => {
  it('validates without errors or warnings', async () => {
    const r = await loadInventory(EXAMPLE);
    expect(lines(r)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it("describes the seed's fridge", async () => {
    const r = await loadInventory(EXAMPLE);
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const inv = r.inventory;
    expect(inv.hosts.map((h) => `${h.name}=${h.address}/${h.role}/${h.model}`)).toEqual([
      'worker01=192.168.0.104/manager/3B',
      'worker02=192.168.0.105/worker/3B',
      'worker03=192.168.0.106/worker/3B',
      'worker04=192.168.0.107/worker/3B',
      'worker05=192.168.0.108/worker/3B',
    ]);
    expect(leader(inv).name).toBe('worker01');
    expect(inv.cluster.flink).toMatchObject({
      version: '2.3.0',
      jobmanagerHost: 'worker04',
      taskmanagerExclude: ['worker01', 'worker04'],
      taskmanagerReplicas: 3,
      taskmanagerMaxPerHost: 2,
      slotsPerTaskmanager: 1,
    });
    expect(inv.cluster.registry).toEqual({
      host: 'docker.io',
      repository: 'digitaljazz/flink-fridge',
      insecure: false,
      usernameEnv: 'DOCKERHUB_USERNAME',
      passwordEnv: 'DOCKERHUB_TOKEN',
      pullHost: 'docker.io',
    });
    expect(inv.cluster.platforms).toEqual(['linux/arm/v7', 'linux/arm64', 'linux/amd64']);
    expect(inv.cluster.network).toEqual({ prefix: 24, router: '192.168.0.1', dns: ['192.168.0.1'], interface: 'eth0' });
    const w1 = inv.hosts[0];
    expect(w1?.labels).toEqual({ model: '3B', memory: '1024', role: 'manager' });
    expect(w1?.keyFile).toMatch(/^\/.*\/\.ssh\/fridge_ed25519$/);
    expect(w1?.passwordEnv).toBe('FRIDGE_SSH_PASSWORD');
    expect(w1?.pos).toEqual({ file: EXAMPLE, line: 67, col: 9 });
    expect(inv.groups['all']).toHaveLength(5);
  });
});

it('a virtual fridge inventory validates with its defaults', async () => {
  const r = await loadInventory(fixture('virtual.yaml'));
  if (!r.ok) throw new Error(formatProblems(r.problems));
  const { cluster, hosts } = r.inventory;
  expect(hosts.map((h) => [h.name, h.model, h.memoryMiB, h.user])).toEqual([
    ['pi1', 'virtual', 1024, 'root'],
    ['pi2', 'virtual', 1024, 'root'],
    ['pi3', 'virtual', 1024, 'root'],
  ]);
  expect(cluster).toMatchObject({ virtual: true, dnsrr: true, dockerInstall: 'apt', stackName: 'flink', name: 'fridge' });
  expect(cluster.registry).toMatchObject({ host: '127.0.0.1:5000', pullHost: '10.77.0.1:5000', insecure: true });
  expect(cluster.flink).toMatchObject({ jobmanagerHost: 'pi1', taskmanagerReplicas: 2, stateDir: '/mnt/fridge-state' });
  expect(cluster.services).toEqual({ mosquitto: false, prometheus: false, grafana: false, visualizer: false });
});

// Each case: the fixture and every line expected, in file order (nothing more, nothing less).
const CASES: Array<{ fixture: string; ok?: boolean; expected: string[] }> = [
  {
    fixture: 'syntax-error.yaml',
    expected: ['syntax-error.yaml:3:19: error: YAML syntax error: Missing closing "quote: the string opened here is never closed'],
  },
  {
    fixture: 'bad-indent.yaml',
    expected: ['bad-indent.yaml:6:5: error: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }'],
  },
  {
    fixture: 'missing.yaml',
    expected: ['missing.yaml:1:1: error: cannot read the inventory: no such file'],
  },
  {
    fixture: 'duplicate-host.yaml',
    expected: [
      'duplicate-host.yaml:12:9: error: duplicate key: this name is already used in the same mapping (a host or variable written twice?)',
      'duplicate-host.yaml:12:20: error: duplicate host "worker02": ansible_host is already set to a different value at 11:20; define a host\'s variables once',
      'duplicate-host.yaml:13:9: error: duplicate host name: "Worker01" and "worker01" (8:9) are the same hostname (names are case-insensitive)',
    ],
  },
  {
    fixture: 'roles.yaml',
    expected: [
      'roles.yaml:6:5: error: host "lonely" is in neither managers nor workers: put it in one of them',
      'roles.yaml:8:5: error: no host in group "managers": add at least one (the first one becomes the swarm leader)',
    ],
  },
  {
    fixture: 'even-managers.yaml',
    ok: true,
    expected: ['even-managers.yaml:6:5: warning: 2 managers: an even number tolerates no more failures than 1; use 1, 3 or 5'],
  },
  {
    fixture: 'replicas.yaml',
    expected: [
      'replicas.yaml:6:40: error: fridge_flink_taskmanager_replicas: 3 taskmanagers do not fit: 1 host(s) may run them (w1) with at most 1 per host',
      'replicas.yaml:8:25: error: fridge_flink_slots: expected a positive whole number (task slots per taskmanager), got 1.5',
    ],
  },
  {
    fixture: 'network.yaml',
    expected: [
      'network.yaml:5:22: error: the nodes cannot pull from the loopback address 127.0.0.1:5000; set fridge_registry_pull to an address they reach (the virtual fridge: 10.77.0.1:5000)',
      'network.yaml:10:67: error: fridge_static_ip 192.168.1.104 of "worker01" is outside the router\'s network 192.168.0.1/24: the Pi would have no route',
      'network.yaml:13:67: error: fridge_static_ip 192.168.0.1 of "worker02" is the router\'s address',
      'network.yaml:14:65: error: fridge_static_ip: expected an IPv4 address such as 192.168.0.104 (four numbers 0-255 separated by dots), got "192.168.0.256"',
      // The quoted port is accepted, as Ansible does; the address clash is not.
      'network.yaml:15:89: error: fridge_static_ip 192.168.0.105 of "worker04" is the ansible_host of "worker02" (13:9)',
    ],
  },
  {
    fixture: 'shapes.yaml',
    expected: [
      'shapes.yaml:5:38: error: fridge_platforms[1]: expected a platform, one of linux/arm/v6, linux/arm/v7, linux/arm64, linux/amd64, got "linux/arm64/v8"; did you mean "linux/arm64"?',
      'shapes.yaml:6:37: error: fridge_services: unknown key "prometeus"; did you mean "prometheus"?',
      'shapes.yaml:7:35: error: fridge_registry_password_env: expected the NAME of an environment variable (upper-case letters, digits and _), not its value',
      'shapes.yaml:9:7: error: fridge_flink_properties: taskmanager.heap.size was removed in Flink 2.0; use taskmanager.memory.process.size',
      'shapes.yaml:10:7: warning: fridge_flink_properties: taskmanager.numberOfTaskSlots overrides fridge_flink_slots; prefer setting fridge_flink_slots',
      'shapes.yaml:11:26: error: fridge_cluster_name: expected a name of letters, digits and -, got "my fridge"',
      'shapes.yaml:13:5: warning: 2 managers: an even number tolerates no more failures than 1; use 1, 3 or 5',
      'shapes.yaml:14:7: error: unknown key "fridge_model" in group "managers": expected hosts, vars or children (hosts go under "hosts:", variables under "vars:")',
      'shapes.yaml:16:63: error: ansible_port: expected a TCP port 1-65535, got 70000',
      'shapes.yaml:16:97: error: fridge_labels.role: model, memory, role are labels Fridge sets itself; choose another name',
      'shapes.yaml:17:9: error: host "worker[02:05]": ranges such as worker[01:05] are not supported, list each host',
      'shapes.yaml:20:9: error: fridge_flink_slots is a cluster-wide setting: set it once in all.vars, not in group "workers" vars',
      'shapes.yaml:22:34: warning: host "worker06" is reached through the mDNS name pi-six.local: set fridge_static_ip so the swarm joins by address',
      'shapes.yaml:22:68: error: ansible_connection: expected ssh or local, got "paramiko"',
      'shapes.yaml:22:78: warning: "ansible_hots" is not used by Fridge; did you mean "ansible_host"?',
    ],
  },
  {
    // Everything wrong at once is reported at once, each at its own spot.
    fixture: 'many-problems.yaml',
    expected: [
      'many-problems.yaml:3:5: error: unknown Fridge setting "fridge_modle"; did you mean "fridge_model"?',
      'many-problems.yaml:4:19: error: fridge_model: expected a Raspberry Pi model, one of 3B, 3B+, 4-1GB, 4-2GB, 4-4GB, 4-8GB, 5-2GB, 5-4GB, 5-8GB, 5-16GB, virtual, got "3C"; did you mean "3B"?',
      'many-problems.yaml:5:5: error: ansible_password: secrets must not be written in the inventory (it ends up in git and logs); name an environment variable that holds it in fridge_ssh_password_env (or a mode-600 file in fridge_ssh_password_file) instead',
      'many-problems.yaml:6:22: error: fridge_registry: expected a registry as host[:port] without scheme or path, e.g. docker.io or 10.77.0.1:5000, got "https://docker.io"',
      'many-problems.yaml:7:19: error: fridge_image: expected an image repository in lower case without tag or registry, such as digitaljazz/flink-fridge, got "Flink:latest"',
      'many-problems.yaml:8:27: error: fridge_flink_version: expected a Flink version in quotes, such as "2.1.0" (unquoted 2.0 is read as a number), got 2',
      'many-problems.yaml:9:35: error: fridge_flink_jobmanager_host: "worker09" is not a host of this inventory; did you mean "worker01"?',
      'many-problems.yaml:10:50: error: fridge_flink_taskmanager_exclude: "wrker02" is not a host of this inventory; did you mean "worker02"?',
      'many-problems.yaml:11:40: error: fridge_flink_taskmanager_replicas: expected a positive whole number (how many taskmanagers to run), got 0',
      'many-problems.yaml:12:55: error: fridge_network: unknown key "dsn"; did you mean "dns"?',
      'many-problems.yaml:13:5: error: fridge_registry_password: secrets must not be written in the inventory (it ends up in git and logs); name an environment variable that holds it in fridge_registry_password_env instead',
      'many-problems.yaml:17:34: error: ansible_host: expected an IPv4 address (four numbers 0-255) or a DNS name, got "192.168.0.300"',
      'many-problems.yaml:20:9: error: host "worker01" is in both managers and workers: a swarm node is one or the other (managers run tasks too)',
      'many-problems.yaml:21:67: error: duplicate fridge_static_ip 192.168.0.104: already given to "worker01" (17:9)',
      'many-problems.yaml:22:34: error: duplicate ansible_host 192.168.0.105 (port 22): "worker03" and "worker02" (21:9) would be the same machine',
      'many-problems.yaml:25:9: error: host "worker05" is in neither managers nor workers: put it in one of them',
    ],
  },
];

describe.each(CASES)('$fixture', ({ fixture: name, ok, expected }) => {
  it(`reports ${expected.length} problem(s) with their positions`, async () => {
    const r = await loadInventory(fixture(name));
    expect(lines(r)).toEqual(expected);
    expect(r.ok).toBe(ok ?? false);
  });
});

describe('literal secrets', () => {
  it('are refused without being echoed, and masked from then on', async () => {
    const r = await loadInventory(fixture('literal-secrets.yaml'));
    const out = lines(r).join('\n');
    expect(r.ok).toBe(false);
    expect(lines(r).map((l) => l.split(': error: ')[0])).toEqual([
      'literal-secrets.yaml:5:5',
      'literal-secrets.yaml:6:5',
      'literal-secrets.yaml:10:49',
      'literal-secrets.yaml:13:9',
    ]);
    expect(out).toContain('ansible_become_password: secrets must not be written in the inventory');
    expect(out).toContain('in fridge_registry_password_env instead');
    expect(out).not.toMatch(/s3cret/);
    expect(mask('login with s3cret-login, push with s3cret-registry')).toBe('login with ***, push with ***');
  });

  it('a token pasted where an env var name belongs is not echoed either', async () => {
    const r = await loadInventory(fixture('shapes.yaml'));
    expect(lines(r).join('\n')).not.toContain('dckr_pat_2hL9sQ');
    expect(mask('token dckr_pat_2hL9sQ')).toBe('token ***');
  });
});

// Small shapes written inline: the whole inventory fits on a line or two.
const HEAD = 'all:\n  vars: {fridge_model: "3B", fridge_image: a/b}\n  children:\n';
const INLINE: Array<{ name: string; text: string; ok?: boolean; expected: string[] }> = [
  { name: 'empty file', text: '', expected: ['inline.yaml:1:1: error: the inventory is empty: expected "all:" with children "managers" and "workers"'] },
  { name: 'a list', text: '- a\n- b\n', expected: ['inline.yaml:1:1: error: expected a mapping at the top level, starting with "all:"'] },
  {
    name: 'a host written straight under its group',
    text: `${HEAD}    managers:\n      worker01: {ansible_host: 10.77.0.11}\n`,
    expected: [
      'inline.yaml:1:1: warning: no group "workers": every host is a manager (fine for tiny clusters)',
      'inline.yaml:4:5: error: no host in group "managers": add at least one (the first one becomes the swarm leader)',
      'inline.yaml:5:7: error: unknown key "worker01" in group "managers": expected hosts, vars or children (hosts go under "hosts:", variables under "vars:")',
    ],
  },
  {
    name: 'a group that contains itself',
    text: `${HEAD}    managers:\n      hosts: {m: {ansible_host: 10.77.0.2}}\n      children:\n        workers:\n          children:\n            managers:\n`,
    expected: ['inline.yaml:9:13: error: group "managers" is a child of itself (all → managers → workers → managers)'],
  },
  {
    name: 'an Ansible Vault value',
    text: `${HEAD}    managers:\n      hosts: {m: {ansible_host: 10.77.0.2, db_env: !vault "$ANSIBLE_VAULT;1.1;AES256"}}\n    workers:\n`,
    expected: ['inline.yaml:5:52: error: Ansible Vault values are not supported: keep secrets out of the inventory and name an environment variable in a *_env setting'],
  },
  {
    name: 'anchors, merge keys and YAML 1.1 booleans',
    text: `${HEAD}    managers:\n      vars: {fridge_dnsrr: yes}\n      hosts:\n        m: &h {ansible_host: 10.77.0.2, ansible_port: 2222}\n    workers:\n      hosts:\n        w: {<<: *h, ansible_host: 10.77.0.3}\n`,
    expected: ['inline.yaml:5:14: error: fridge_dnsrr is a cluster-wide setting: set it once in all.vars, not in group "managers" vars'],
  },
];

describe.each(INLINE)('$name', ({ text, ok, expected }) => {
  it('reports exactly the expected lines', () => {
    const r = parseInventory('inline.yaml', text);
    expect(lines(r)).toEqual(expected);
    expect(r.ok).toBe(ok ?? false);
  });
});

it('merge keys: the host inherits the anchor and overrides what it writes itself', () => {
  const r = parseInventory('inline.yaml', `${HEAD}    managers:\n      hosts:\n        m: &h {ansible_host: 10.77.0.2, ansible_port: 2222}\n    workers:\n      hosts:\n        w: {<<: *h, ansible_host: 10.77.0.3}\n`);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  expect(r.inventory.hosts.map((h) => `${h.name} ${h.address}:${h.port}`)).toEqual(['m 10.77.0.2:2222', 'w 10.77.0.3:2222']);
});
