// Secrets (passwords, join tokens, registry tokens) are registered once and masked in every output.

const values = new Set<string>();
const listeners: Array<(value: string) => void> = [];

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4 || values.has(value)) return;
  values.add(value);
  for (const l of listeners) l(value);
}

/** Reporters that must also be told (GitHub's setSecret) subscribe here. */
export function onSecret(listener: (value: string) => void): void {
  listeners.push(listener);
  for (const v of values) listener(v);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A secret is masked where it stands as a word of its own: the Pi's default password `raspberry` must not
 * turn the hostname `raspberrypi` into `***pi`, while a token inside `user:token@host` is still masked.
 */
export function mask(text: string): string {
  let out = text;
  for (const v of values) out = out.replace(new RegExp(`(?<![A-Za-z0-9])${escape(v)}(?![A-Za-z0-9])`, 'g'), '***');
  return out;
}
