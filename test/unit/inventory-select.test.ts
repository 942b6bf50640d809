// --limit, Ansible style, over the example inventory.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatProblems, loadInventory, selectHosts } from '../../tasks/lib/inventory/load.ts';
import type { Inventory } from '../../tasks/lib/inventory/types.ts';

let inv: Inventory;
beforeAll(async () => {
  const r = await loadInventory(resolve(import.meta.dirname, '../../inventory/fridge.yaml'));
  if (!r.ok) throw new Error(formatProblems(r.problems));
  inv = r.inventory;
});

describe('selectHosts', () => {
  it.each([
    [undefined, 'worker01,worker02,worker03,worker04,worker05'],
    ['worker03', 'worker03'],
    ['managers', 'worker01'],
    ['workers', 'worker02,worker03,worker04,worker05'],
    ['worker05,worker02', 'worker02,worker05'],
    ['managers:worker04', 'worker01,worker04'],
    ['all,!worker04', 'worker01,worker02,worker03,worker05'],
    ['!managers', 'worker02,worker03,worker04,worker05'],
    ['workers:!worker02:!worker03', 'worker04,worker05'],
    ['nope', undefined],
    ['worker01,nope', undefined],
    ['worker0*,&managers', 'worker01'],
    ['*5', 'worker05'],
    // Regular expressions as Ansible's: re.match, anchored at the start only.
    ['~worker0[24]', 'worker02,worker04'],
    ['~work.*5$', 'worker05'],
    ['~man', 'worker01'],
    ['~orker', undefined],
    ['~w.*,!~.*[13]$', 'worker02,worker04,worker05'],
  ])('--limit %j → %s', (limit, expected) => {
    const r = selectHosts(inv, limit);
    if (expected === undefined) {
      expect(r).toHaveProperty('error');
      return;
    }
    if ('error' in r) throw new Error(r.error);
    expect(r.hosts.map((h) => h.name).join(',')).toBe(expected);
  });

  it('names the unknown patterns and the known names', () => {
    expect(selectHosts(inv, 'worker09,managers,nope')).toEqual({
      error: '--limit: no host or group matches "worker09", "nope" (known: managers, workers, all, worker01, worker02, worker03, worker04, worker05)',
    });
  });

  it('refuses a limit that leaves nothing', () => {
    expect(selectHosts(inv, 'managers,!worker01')).toEqual({ error: '--limit "managers,!worker01" leaves no host to work on' });
  });
});

describe('--limit edge cases an operator hits', () => {
  // An unset shell variable (--limit "$HOSTS") used to select every host.
  it.each(['', ' ', ',', ' , ', '::'])('refuses the empty pattern %j instead of running everywhere', (limit) => {
    expect(selectHosts(inv, limit)).toEqual({
      error: `--limit ${JSON.stringify(limit)} names no host or group (an unset shell variable?): give a pattern, or leave --limit out to work on every host`,
    });
  });

  it('refuses an invalid regular expression with the reason', () => {
    const r = selectHosts(inv, '~worker[');
    expect(r).toHaveProperty('error');
    if ('error' in r) expect(r.error).toMatch(/^--limit: ~worker\[ is not a valid regular expression: /);
  });

  it('@file reads one pattern per line, as a retry file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fridge-limit-'));
    const retry = join(dir, 'deploy.retry');
    writeFileSync(retry, 'worker03\n\nworker05\n');
    const r = selectHosts(inv, `@${retry}`);
    if ('error' in r) throw new Error(r.error);
    expect(r.hosts.map((h) => h.name)).toEqual(['worker03', 'worker05']);

    const both = selectHosts(inv, `@${retry},!worker05`);
    if ('error' in both) throw new Error(both.error);
    expect(both.hosts.map((h) => h.name)).toEqual(['worker03']);

    expect(selectHosts(inv, `@${join(dir, 'missing.retry')}`)).toEqual({ error: `--limit @${join(dir, 'missing.retry')}: cannot read ${join(dir, 'missing.retry')}: no such file` });
    const empty = join(dir, 'empty.retry');
    writeFileSync(empty, '\n');
    expect(selectHosts(inv, `@${empty}`)).toEqual({ error: `--limit @${empty}: ${empty} names no host (expected one host or pattern per line)` });
  });
});
