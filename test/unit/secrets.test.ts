import { describe, expect, it } from 'vitest';
import { mask, registerSecret } from '../../tasks/lib/secrets.ts';

describe('mask', () => {
  it('masks a secret wherever it stands as a word, even inside URLs and key=value pairs', () => {
    registerSecret('s3cr3t-T0ken.value');
    expect(mask('token=s3cr3t-T0ken.value; https://u:s3cr3t-T0ken.value@host "s3cr3t-T0ken.value"')).toBe('token=***; https://u:***@host "***"');
  });
  it('leaves words that merely contain it alone (raspberry vs the hostname raspberrypi)', () => {
    registerSecret('raspberry');
    expect(mask('set hostname raspberrypi → pi1; password raspberry refused')).toBe('set hostname raspberrypi → pi1; password *** refused');
  });
  it('handles regex characters in secrets', () => {
    registerSecret('a+b(c)*d$');
    expect(mask('x a+b(c)*d$ y')).toBe('x *** y');
  });
});
