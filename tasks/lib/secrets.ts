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

export function mask(text: string): string {
  let out = text;
  for (const v of values) out = out.split(v).join('***');
  return out;
}
