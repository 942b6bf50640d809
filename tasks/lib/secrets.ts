// Secrets (passwords, join tokens, registry tokens) are registered once and masked in every output.

const values = new Set<string>();
const listeners: Array<(value: string) => void> = [];
/** One regular expression for all secrets, rebuilt when one is added (mask() runs on every line printed). */
let pattern: RegExp | undefined;

export function registerSecret(value: string | undefined): void {
  // Every length counts: a 3-character password is weak, but printing it makes it no secret at all.
  if (!value || values.has(value)) return;
  values.add(value);
  pattern = undefined;
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

const WORD = /[\p{L}\p{N}]/u;

/**
 * A secret is masked where it stands as a word of its own: the Pi's default password `raspberry` must not
 * turn the hostname `raspberrypi` into `***pi`, while a token inside `user:token@host` is still masked.
 * The edge that is a letter or digit must not continue into one; a secret made only of punctuation
 * (`!!`) is masked only between spaces, or every sentence's full stop would be masked with it.
 */
function secretPattern(v: string): string {
  const body = escape(v);
  if (!WORD.test(v)) return `(?<!\\S)${body}(?!\\S)`;
  const before = WORD.test(v[0] ?? '') ? '(?<![\\p{L}\\p{N}])' : '';
  const after = WORD.test(v.at(-1) ?? '') ? '(?![\\p{L}\\p{N}])' : '';
  return `${before}${body}${after}`;
}

function compiled(): RegExp | undefined {
  if (values.size === 0) return undefined;
  // Longest first, in one pass: a secret that is part of a longer one must not leave the rest visible.
  pattern ??= new RegExp([...values].sort((a, b) => b.length - a.length).map(secretPattern).join('|'), 'gu');
  return pattern;
}

export function mask(text: string): string {
  const re = compiled();
  return re ? text.replace(re, '***') : text;
}
