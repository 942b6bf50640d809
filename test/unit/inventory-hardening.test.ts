// Inputs a careless user or an attacker gives the loader (issue #15, items 6-8): each is refused with a
// line a person understands, at a position, and nothing throws; group_vars/ and host_vars/ are applied
// with Ansible's precedence instead of being ignored.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems, loadInventory, parseInventory } from '../../tasks/lib/inventory/load.ts';
import type { HostSpec, LoadResult } from '../../tasks/lib/inventory/types.ts';
import { MAX_INVENTORY_BYTES } from '../../tasks/lib/inventory/yaml-source.ts';
import { generateInventory } from '../helpers/inventory-generate.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/inventory');

function lines(result: LoadResult, dir = FIXTURES): string[] {
  const problems = result.ok ? result.warnings : result.problems;
  return formatProblems(problems)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replaceAll(`${dir}/`, ''));
}

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fridge-inv-')), name);
  writeFileSync(file, text);
  return file;
}

const HEAD = 'all:\n  vars: {fridge_model: "3B", fridge_image: a/b}\n  children:\n';
const VALID = `${HEAD}    managers:\n      hosts: {m: {ansible_host: 10.0.0.2}}\n    workers:\n      hosts: {w: {ansible_host: 10.0.0.3}}\n`;

describe('item 6: YAML alias bombs are problems, not crashes', () => {
  it('three levels of nine aliases: refused at the alias, with what it expands to', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'all:',
      '  vars:',
      '    x: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      '',
    ].join('\n');
    const file = tempFile('bomb.yaml', bomb);
    const r = await loadInventory(file);
    expect(r.ok).toBe(false);
    expect(lines(r, join(file, '..'))).toEqual([
      'bomb.yaml:6:9: error: YAML aliases expand this 22-value file to 8289 values (*c alone stands for 820): an alias may repeat a block of defaults, not multiply them (a "billion laughs" alias bomb?)',
    ]);
  });

  it("a smaller bomb that only yaml's own alias counter catches is a problem at the alias too", () => {
    const text = `${VALID}a: &a [x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b]\nd:\n  vars:\n    x: [*c,*c,*c,*c,*c]\n`;
    const out = lines(parseInventory('inline.yaml', text));
    expect(out).toContain(
      'inline.yaml:13:9: error: YAML aliases here expand too much (Excessive alias count): an alias may repeat a block of defaults, not multiply them (a "billion laughs" alias bomb?)',
    );
  });

  it('an alias inside the node it names is refused', () => {
    expect(lines(parseInventory('inline.yaml', 'all:\n  vars: &v\n    x: *v\n'))).toEqual([
      'inline.yaml:3:8: error: alias *v refers to a node that contains it: the value would be infinite',
    ]);
  });

  it.each([
    ['binary garbage', '\u0000\u0001\u0002\ufffd{{{]]]'],
    ['an undefined alias', 'all: *nowhere\n'],
    ['a tab-indented file', 'all:\n\tvars:\n\t\tx: 1\n'],
    ['a key that is a mapping', '? {a: 1}\n: b\n'],
  ])('%s: problems, never an exception', (_name, text) => {
    const r = parseInventory('inline.yaml', text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.every((p) => p.pos.file === 'inline.yaml' && p.pos.line >= 1 && p.pos.col >= 1)).toBe(true);
  });
});

describe('item 7: size cap, and loading time linear in the size', () => {
  it('a generated ~1 MB inventory (thousands of hosts) loads', async () => {
    const text = generateInventory(1_000_000);
    expect(text.length).toBeGreaterThan(990_000);
    expect(text.length).toBeLessThanOrEqual(MAX_INVENTORY_BYTES);
    const r = await loadInventory(tempFile('big.yaml', text));
    if (!r.ok) throw new Error(formatProblems(r.problems.slice(0, 5)));
    expect(r.inventory.hosts.length).toBeGreaterThan(10_000);
    expect(r.warnings).toEqual([]);
  }, 60_000);

  it('a file over 1 MiB is refused before it is parsed, saying what the cap is and why', async () => {
    const text = generateInventory(MAX_INVENTORY_BYTES + 4096);
    const expected = [
      'big.yaml:1:1: error: the inventory is 1 MiB, more than the 1 MiB Fridge reads: an inventory of a few hundred Pis is a few tens of kB, so this is most likely not the file you meant',
    ];
    const file = tempFile('big.yaml', text);
    expect(lines(await loadInventory(file), join(file, '..'))).toEqual(expected);
    expect(lines(parseInventory('big.yaml', text))).toEqual(expected);
    expect(lines(parseInventory('big.yaml', 'x'.repeat(5 * 1024 * 1024)))[0]).toMatch(/^big\.yaml:1:1: error: the inventory is 5 MiB, more than the 1 MiB Fridge reads/);
  });
});

describe('item 8: group_vars/ and host_vars/ next to the inventory, as Ansible applies them', () => {
  const dir = join(FIXTURES, 'vars-dirs');
  const load = async (): Promise<{ r: LoadResult; host: (n: string) => HostSpec }> => {
    const r = await loadInventory(join(dir, 'inventory.yaml'));
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const inv = r.inventory;
    return {
      r,
      host: (n) => {
        const h = inv.hosts.find((x) => x.name === n);
        if (!h) throw new Error(`no host ${n}`);
        return h;
      },
    };
  };

  it.each([
    ['m1', 'port', 2222, 'group_vars/all.yml beats all.vars in the inventory'],
    ['m1', 'user', 'admin', 'group_vars/managers/ (a directory, files in name order) beats group_vars/all.yml'],
    ['m1', 'model', '4-8GB', 'the later file of group_vars/managers/ wins'],
    ['w1', 'port', 2200, 'host_vars/w1.yml beats the host variable written in the inventory'],
    ['w1', 'user', 'ubuntu', "group_vars/all.yml beats the workers group's vars in the inventory (Ansible's documented order)"],
    ['w1', 'model', '5-8GB', 'a host variable in the inventory beats group_vars/workers.yaml'],
    ['w2', 'port', 2222, 'group_vars/all.yml'],
    ['w2', 'model', '4-4GB', 'group_vars/workers.yaml beats all.vars'],
  ] as const)('%s %s = %s (%s)', async (name, what, expected, _why) => {
    const { host } = await load();
    const h = host(name);
    expect(what === 'port' ? h.port : what === 'user' ? h.user : h.model).toBe(expected);
  });

  it('files Ansible would not read are reported, not skipped silently', async () => {
    const { r } = await load();
    expect(lines(r, dir)).toEqual([
      'group_vars/all.yaml:1:1: warning: not read: group_vars/all.yml holds the variables of group "all" (Ansible reads only the first of NAME, NAME.yml, NAME.yaml, NAME.json)',
      'group_vars/notes.txt:1:1: warning: not read: Ansible and Fridge read only NAME, NAME.yml, NAME.yaml or NAME.json in group_vars/',
      'group_vars/worker.yml:1:1: warning: not read: there is no group "worker" in the inventory, so Ansible ignores group_vars/ for it too; did you mean "workers"?',
    ]);
  });

  it('problems in those files point into them', () => {
    const r = parseInventory('inventory.yaml', VALID, [
      { kind: 'group', name: 'all', file: 'group_vars/all.yml', text: '# defaults\nansible_port: 70000\nansible_password: hunter22\n' },
      { kind: 'host', name: 'w', file: 'host_vars/w.yml', text: 'fridge_flink_slots: 2\n' },
      { kind: 'group', name: 'workers', file: 'group_vars/workers.yml', text: 'a: [1\n' },
    ]);
    expect(r.ok).toBe(false);
    expect(lines(r)).toEqual([
      'group_vars/all.yml:2:15: error: ansible_port: expected a TCP port 1-65535, got 70000',
      'group_vars/all.yml:3:1: error: ansible_password: secrets must not be written in the inventory (it ends up in git and logs); name an environment variable that holds it in fridge_ssh_password_env (or a mode-600 file in fridge_ssh_password_file) instead',
      'group_vars/workers.yml:2:1: error: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
      'host_vars/w.yml:1:1: error: fridge_flink_slots is a cluster-wide setting: set it once in all.vars, not in host "w"',
    ]);
    expect(lines(r).join('\n')).not.toContain('hunter22');
  });
});

describe('item 8: Ansible settings Fridge would otherwise ignore', () => {
  const withHostVars = (vars: string): LoadResult =>
    parseInventory('inline.yaml', `${HEAD}    managers:\n      hosts: {m: {ansible_host: 10.0.0.2, ${vars}}}\n    workers:\n      hosts: {w: {ansible_host: 10.0.0.3}}\n`);

  it.each([
    ['ansible_ssh_host: 10.0.0.9', 'ansible_ssh_host: the pre-2.0 name of ansible_host, which Fridge does not read: write ansible_host'],
    ['ansible_ssh_port: 2222', 'ansible_ssh_port: the pre-2.0 name of ansible_port, which Fridge does not read: write ansible_port'],
    ['ansible_ssh_user: ubuntu', 'ansible_ssh_user: the pre-2.0 name of ansible_user, which Fridge does not read: write ansible_user'],
    [
      'ansible_ssh_common_args: "-o ProxyJump=bastion"',
      'ansible_ssh_common_args: Fridge does not pass extra ssh options; put ProxyJump and other options in ~/.ssh/config (a "Host" entry matching the host\'s ansible_host), which Fridge\'s SSH transport reads',
    ],
  ])('%s is refused, naming what to write instead', (vars, message) => {
    expect(lines(withHostVars(vars))).toEqual([`inline.yaml:5:43: error: ${message}`]);
  });

  it('misspelt role groups: "did you mean"', () => {
    const r = parseInventory('inline.yaml', `${HEAD}    manager:\n      hosts: {m: {ansible_host: 10.0.0.2}}\n    worker:\n      hosts: {w: {ansible_host: 10.0.0.3}}\n`);
    const out = lines(r);
    expect(out).toContain('inline.yaml:4:5: error: group "manager": did you mean "managers"? Fridge gives swarm roles only to the groups "managers" and "workers"');
    expect(out).toContain('inline.yaml:6:5: error: group "worker": did you mean "workers"? Fridge gives swarm roles only to the groups "managers" and "workers"');
  });

  it('several YAML documents in one file', () => {
    expect(lines(parseInventory('inline.yaml', `${VALID}---\nall:\n  hosts: {}\n`))).toEqual([
      'inline.yaml:8:1: error: a second YAML document starts here (after "---"): an inventory is one document; merge the two or keep one',
    ]);
  });

  it.each([
    ['[managers]\npi1 ansible_host=10.0.0.2\n\n[workers]\npi2 ansible_host=10.0.0.3\n', 1, '[managers]'],
    ['# hosts\n\npi1 ansible_host=10.0.0.2 ansible_user=pi\n', 3, 'pi1 ansible_host=10.0.0.2 ansible_user=pi'],
    ['[all:vars]\nansible_user=pi\n', 1, '[all:vars]'],
  ])('an INI inventory: how to convert it', (text, line, shown) => {
    expect(lines(parseInventory('hosts', text))).toEqual([
      `hosts:${line}:1: error: this looks like an INI inventory ("${shown.slice(0, 40)}"): INI inventories are not supported: convert with \`ansible-inventory -i FILE --list -y\``,
    ]);
  });

  it('5000-deep flow nesting: one message, with a position', () => {
    const text = `all:\n  vars:\n    x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const out = lines(parseInventory('inline.yaml', text));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /^inline\.yaml:3:\d+: error: the YAML nests more than 64 levels deep here: an inventory needs about ten \(all → children → group → hosts → host → variables\)$/,
    );
  });

  it('100-deep block nesting: the position of the first level too many', () => {
    let text = 'all:\n';
    for (let i = 1; i <= 100; i++) text += `${'  '.repeat(i)}k:\n`;
    expect(lines(parseInventory('inline.yaml', text))).toEqual([
      'inline.yaml:64:127: error: the YAML nests more than 64 levels deep here: an inventory needs about ten (all → children → group → hosts → host → variables)',
    ]);
  });

  it('an Ansible Vault-encrypted file', () => {
    expect(lines(parseInventory('inline.yaml', '$ANSIBLE_VAULT;1.1;AES256\n6162636465\n'))).toEqual([
      'inline.yaml:1:1: error: this file is encrypted with Ansible Vault, which Fridge does not support: keep secrets out of the inventory and name environment variables in *_env settings',
    ]);
  });
});
