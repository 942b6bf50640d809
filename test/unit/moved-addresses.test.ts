// .fridge/addresses.json (inventory/moved.ts): where pi-setup moved each Pi, applied only while the inventory
// still says what it said then.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { movedHost, parseMoveBook, readMoveBook, recordMove, withMoves } from '../../tasks/lib/inventory/moved.ts';
import { inventory } from './steps-fixture.ts';

const inv = inventory();
const pi1 = inv.hosts.find((h) => h.name === 'pi1');
if (!pi1) throw new Error('fixture without pi1');
const atLease = { ...pi1, address: '10.77.0.112' };
const move = { from: '10.77.0.112', to: pi1.staticIp ?? '', at: '2026-12-08T02:00:00.000Z' };

describe('moved addresses', () => {
  it('a recorded move puts the host at its static address, keeping the lease as its first contact', () => {
    expect(movedHost(atLease, move)).toEqual({ ...atLease, address: pi1.staticIp, firstContact: '10.77.0.112' });
  });
  it('the inventory wins once it says something else: another ansible_host or another static address', () => {
    expect(movedHost({ ...atLease, address: '10.77.0.150' }, move)).toEqual({ ...atLease, address: '10.77.0.150' });
    expect(movedHost({ ...atLease, staticIp: '10.77.0.50' }, move).address).toBe('10.77.0.112');
    expect(movedHost(atLease, undefined)).toBe(atLease);
  });
  it('applies the moves of this inventory file only', () => {
    const lease = { ...inv, hosts: inv.hosts.map((h) => (h.name === 'pi1' ? atLease : h)) };
    const mine = withMoves(lease, { [path.resolve(inv.file)]: { pi1: move } });
    expect(mine.moved.map((h) => h.name)).toEqual(['pi1']);
    expect(mine.inventory.hosts.find((h) => h.name === 'pi1')?.address).toBe(pi1.staticIp);
    const other = withMoves(lease, { '/elsewhere/inventory.yaml': { pi1: move } });
    expect(other.moved).toEqual([]);
    expect(other.inventory).toBe(lease);
  });
  it('a damaged book costs the moves, never the run', () => {
    expect(parseMoveBook('{not json')).toEqual({});
    expect(parseMoveBook('{"/a.yaml": {"pi1": {"from": 1}}, "/b.yaml": 3}')).toEqual({});
  });
  it('records next to the moves already there, atomically', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-moved-'));
    const file = path.join(dir, 'addresses.json');
    recordMove('/x/inventory.yaml', 'pi1', move, file);
    recordMove('/x/inventory.yaml', 'pi2', { ...move, from: '10.77.0.113', to: '10.77.0.12' }, file);
    expect(Object.keys(readMoveBook(file)['/x/inventory.yaml'] ?? {})).toEqual(['pi1', 'pi2']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
