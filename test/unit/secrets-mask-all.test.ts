// Issue #15 item 3: every registered secret is masked whatever its length, ordinary words are left alone,
// the FRIDGE_DEBUG stack trace is masked, and a password file others can read is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mask, registerSecret } from '../../tasks/lib/secrets.ts';
import { passwordFor, readPasswordFile } from '../../tasks/lib/transport/credentials.ts';
import type { HostSpec } from '../../tasks/lib/inventory/types.ts';
import { UnreachableError } from '../../tasks/lib/transport/types.ts';

describe('mask: short secrets', () => {
  it('masks a 3-, 2- and 1-character secret where it stands as a word', () => {
    registerSecret('pw1');
    registerSecret('Zq');
    registerSecret('7');
    expect(mask('sudo -S: pw1 rejected; token=Zq; "7"')).toBe('sudo -S: *** rejected; token=***; "***"');
  });
  it('leaves words and numbers that merely contain them alone', () => {
    expect(mask('pw12 Zqx 17 70 step 7/9 host pi7')).toBe('pw12 Zqx 17 70 step ***/9 host pi7');
  });
  it('masks the longer of two overlapping secrets whole, not leaving its tail visible', () => {
    registerSecret('ab');
    registerSecret('ab-cd');
    expect(mask('login ab-cd ok; ab')).toBe('login *** ok; ***');
  });
  it('a secret made of punctuation only is masked between spaces, not in every sentence', () => {
    registerSecret('!!');
    expect(mask('password !! refused. wow!!')).toBe('password *** refused. wow!!');
  });
  it('masks the stack trace FRIDGE_DEBUG prints (main.ts prints it through mask())', () => {
    registerSecret('hunter2');
    const err = new Error('docker login -p hunter2 failed');
    expect(err.stack).toContain('hunter2');
    const printed = mask(err.stack ?? '');
    expect(printed).not.toContain('hunter2');
    expect(printed).toContain('docker login -p *** failed');
    expect(printed).toMatch(/\n\s+at /);
  });
});

describe('fridge_ssh_password_file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fridge-pwfile-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, mode: number): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, 'Sekr1t-pass\n');
    fs.chmodSync(f, mode);
    return f;
  };
  const host = (file: string): HostSpec => ({ name: 'pi1', vars: { fridge_ssh_password_file: file } }) as unknown as HostSpec;

  it('reads a mode-600 file without its trailing newline', () => {
    const f = write('ok', 0o600);
    expect(readPasswordFile(f)).toEqual({ kind: 'ok', password: 'Sekr1t-pass' });
    expect(passwordFor(host(f))).toBe('Sekr1t-pass');
  });
  it.each([0o644, 0o640, 0o604, 0o660])('refuses mode %s, naming the file, its mode and chmod 600', (mode) => {
    const f = write(`open-${mode.toString(8)}`, mode);
    const octal = mode.toString(8);
    expect(readPasswordFile(f)).toEqual({
      kind: 'refused',
      message: `fridge_ssh_password_file ${f} has mode ${octal}: users other than its owner can read or change it; run \`chmod 600 ${f}\``,
    });
    expect(() => passwordFor(host(f))).toThrow(UnreachableError);
    expect(() => passwordFor(host(f))).toThrow(`has mode ${octal}`);
  });
  it('a missing file is no password, not an error', () => {
    expect(readPasswordFile(path.join(dir, 'missing'))).toEqual({ kind: 'absent' });
  });
});
