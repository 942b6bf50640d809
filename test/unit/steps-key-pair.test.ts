import { describe, expect, it } from 'vitest';
import type { Plan } from '../../tasks/lib/engine/types.ts';
import { keyPairStep } from '../../tasks/lib/steps/key-pair.ts';
import { ctxFor } from './steps-fixture.ts';

const commands = (p: Plan) => (p.kind === 'change' ? p.changes.flatMap((c) => c.actions.map((a) => (a.kind === 'run' ? a.command : a.kind))) : []);

describe('the operator key pair (localhost)', () => {
  const step = keyPairStep(['/home/op/.ssh/fridge', '/home/op/.ssh/other key']);
  it('ok when every named key exists', () => {
    const p = step.plan({ files: [{ path: '/home/op/.ssh/fridge', exists: true }] }, ctxFor('pi1'));
    expect(p).toEqual({ kind: 'ok', msg: '/home/op/.ssh/fridge' });
  });
  it('makes each missing one with ssh-keygen, unencrypted, as the operator, quoted', () => {
    const p = step.plan({ files: [{ path: '/home/op/.ssh/fridge', exists: true }, { path: '/home/op/.ssh/other key', exists: false }] }, ctxFor('pi1'));
    expect(p.kind === 'change' && p.changes.map((c) => c.summary)).toEqual(['create the SSH key pair /home/op/.ssh/other key']);
    expect(commands(p)).toEqual([`umask 077 && mkdir -p "$(dirname '/home/op/.ssh/other key')" && ssh-keygen -q -t ed25519 -N '' -C fridge -f '/home/op/.ssh/other key'`]);
    expect(p.kind === 'change' && p.changes[0]?.actions[0]).toMatchObject({ kind: 'run', sudo: false });
  });
});
