// Ansible's variable precedence, as an Ansible user expects it from the same YAML.

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatProblems, loadInventory } from '../../tasks/lib/inventory/load.ts';
import type { HostSpec, Inventory } from '../../tasks/lib/inventory/types.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/inventory');
let inv: Inventory;
const host = (name: string): HostSpec => {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
};

beforeAll(async () => {
  const r = await loadInventory(join(FIXTURES, 'precedence.yaml'));
  if (!r.ok) throw new Error(formatProblems(r.problems));
  inv = r.inventory;
});

describe('variable precedence: all.vars < parent group < child group < host', () => {
  it.each([
    // host, what, expected, why
    ['m1', 'model', '4-4GB', 'child group (managers) beats parent group (rack) and all.vars'],
    ['w1', 'model', '5-8GB', 'host variable beats every group'],
    ['w2', 'model', '4-2GB', 'parent group (rack) beats all.vars'],
    ['m1', 'port', 2200, 'parent group sets what nothing deeper overrides'],
    ['m1', 'user', 'pi', 'all.vars when no group sets it'],
    ['w1', 'user', 'fridge', 'workers group, written in a second place, still applies'],
    ['w2', 'site', 'beta', 'sibling groups at the same depth: the later name wins'],
    ['w3', 'site', 'gamma', 'ansible_group_priority beats the name order'],
  ] as const)('%s %s = %s (%s)', (name, what, expected, _why) => {
    const h = host(name);
    const actual = what === 'model' ? h.model : what === 'port' ? h.port : what === 'user' ? h.user : h.vars['site'];
    expect(actual).toBe(expected);
  });

  it('labels come from the winning fridge_labels plus model, memory and role', () => {
    expect(host('m1').labels).toEqual({ zone: 'rack', model: '4-4GB', memory: '4096', role: 'manager' });
    expect(host('w1').labels).toEqual({ zone: 'rack', model: '5-8GB', memory: '8192', role: 'worker' });
  });

  it('key paths resolve against the inventory directory, ~ against the home directory', () => {
    expect(host('m1').keyFile).toBe(join(FIXTURES, 'keys/fridge_ed25519'));
    expect(host('w1').keyFile).toBe(join(homedir(), '.ssh/w1'));
    expect(inv.cluster.authorizedKeyFile).toBe(join(FIXTURES, 'keys/fridge_ed25519.pub'));
  });

  it('groups are transitive and hosts keep the order they were written in', () => {
    expect(inv.groups['rack']).toEqual(['m1', 'w1', 'w2', 'w3']);
    expect(inv.groups['all']).toEqual(['m1', 'w1', 'w2', 'w3']);
    expect(host('w3').groups).toEqual(['all', 'alpha', 'beta', 'rack', 'gamma', 'workers']);
    expect(inv.hosts.map((h) => h.role)).toEqual(['manager', 'worker', 'worker', 'worker']);
  });
});
