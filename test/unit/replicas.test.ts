// A scaled taskmanager count against the inventory's: what a redeploy keeps.
import { describe, expect, it } from 'vitest';
import { keepScaledReplicas, parseLiveTaskmanagers, replicasOverride } from '../../tasks/lib/stack/replicas.ts';
import { parse } from 'yaml';

describe('keepScaledReplicas', () => {
  it('keeps nothing when nothing runs or the count is the inventory\'s', () => {
    expect(keepScaledReplicas(undefined, 3, 6)).toEqual({ keep: false });
    expect(keepScaledReplicas({ replicas: 3, inventoryReplicas: 3 }, 3, 6)).toEqual({ keep: false });
  });
  it('keeps a scaled count while the inventory still says what it said at the last deploy', () => {
    expect(keepScaledReplicas({ replicas: 5, inventoryReplicas: 3 }, 3, 6)).toMatchObject({ keep: true, replicas: 5 });
  });
  it('lets the inventory win when its count changed, was not recorded, or the scaled count no longer fits', () => {
    expect(keepScaledReplicas({ replicas: 5, inventoryReplicas: 3 }, 4, 6)).toMatchObject({ keep: false, why: expect.stringContaining("inventory's count changed") });
    expect(keepScaledReplicas({ replicas: 5, inventoryReplicas: undefined }, 3, 6)).toMatchObject({ keep: false, why: expect.stringContaining('not known') });
    expect(keepScaledReplicas({ replicas: 5, inventoryReplicas: 3 }, 3, 4)).toMatchObject({ keep: false, why: expect.stringContaining('at most 4') });
  });
});

describe('live taskmanagers', () => {
  it('reads `docker service inspect` output, with or without the label', () => {
    expect(parseLiveTaskmanagers('5 3\n')).toEqual({ replicas: 5, inventoryReplicas: 3 });
    expect(parseLiveTaskmanagers('5 <no value>\n')).toEqual({ replicas: 5, inventoryReplicas: undefined });
    expect(parseLiveTaskmanagers('')).toBeUndefined();
  });
  it('overrides only the count', () => {
    expect(parse(replicasOverride(5))).toEqual({ version: '3.8', services: { taskmanager: { deploy: { replicas: 5 } } } });
  });
});
