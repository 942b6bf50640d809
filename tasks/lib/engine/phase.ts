// A phase is one module with a name, its options and a run function over a Run (plays of steps).
// Options declare what they accept: the CLI checks every value before the inventory is loaded
// (exit 5 naming the option and what it takes), so a phase reads values that are already known good.
import type { Run } from './runner.ts';

/** What a string option accepts. Absent: any text. */
export type OptionCheck =
  | { kind: 'int'; min?: number; max?: number }
  /** A plain number means `unit`; `90s`, `5m`, `1h`, `500ms` say their own. Bounds in milliseconds. */
  | { kind: 'duration'; unit: 's' | 'ms'; minMs?: number; maxMs?: number }
  | { kind: 'choice'; choices: readonly string[] }
  /** Comma-separated, each one of `choices`. */
  | { kind: 'list'; choices: readonly string[] }
  /** A local file that must exist; `jar`: a Java archive (zip with META-INF/MANIFEST.MF). */
  | { kind: 'file'; jar?: boolean }
  | { kind: 'url'; protocols: readonly string[] }
  /** Text of a phase's own syntax (a CIDR, an address range): `valid` is pure, `describe` completes "must be …". */
  | { kind: 'text'; describe: string; valid: (raw: string) => boolean };

export interface PhaseOption {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in --help. */
  placeholder?: string;
  check?: OptionCheck;
  /** The task cannot run without it. */
  required?: boolean;
}

export interface Phase {
  name: string;
  /** One line for --help. */
  description: string;
  options?: Record<string, PhaseOption>;
  /**
   * Never logs in to the inventory's hosts (sd-card writes cards; discover probes a CIDR behind its own guard): the
   * inventory may still name Pis by names that resolve nowhere, as before their first boot.
   */
  offline?: boolean;
  run(run: Run): Promise<void>;
}

export type OptionArgs = Record<string, string | boolean | string[] | undefined>;

export type Checked = { ok: true; value: string | number | string[] } | { ok: false; error: string };

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `90s`, `5m`, `1.5h`, `500ms`, or a plain number in `unit` → milliseconds; undefined when it is none of these. */
export function parseDurationMs(text: string, unit: 's' | 'ms'): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m?.[1]) return undefined;
  const suffix = (m[2] ?? unit) as keyof typeof UNIT_MS;
  const ms = Number(m[1]) * UNIT_MS[suffix];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** 90000 → "90s", 300000 → "5m": bounds are shown as the user would write them. */
export function formatDuration(ms: number): string {
  for (const [u, f] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) if (ms >= f && ms % f === 0) return `${ms / f}${u}`;
  return `${ms}ms`;
}

function intRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `an integer from ${min} to ${max}`;
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  if (min !== undefined) return `an integer of at least ${min}`;
  return max !== undefined ? `an integer of at most ${max}` : 'an integer';
}

/** What an option accepts, in words (error messages and --help). */
export function describeCheck(check: OptionCheck): string {
  switch (check.kind) {
    case 'int':
      return intRange(check.min, check.max);
    case 'duration': {
      const bounds = [check.minMs !== undefined ? `at least ${formatDuration(check.minMs)}` : '', check.maxMs !== undefined ? `at most ${formatDuration(check.maxMs)}` : '']
        .filter(Boolean)
        .join(', ');
      return `a duration such as 90s, 5m, 1h or 500ms (a plain number means ${check.unit === 's' ? 'seconds' : 'milliseconds'})${bounds ? `, ${bounds}` : ''}`;
    }
    case 'choice':
      return `one of ${check.choices.join(', ')}`;
    case 'list':
      return `a comma-separated list of ${check.choices.join(', ')}`;
    case 'file':
      return check.jar ? 'an existing jar file' : 'an existing file';
    case 'url':
      return `a ${check.protocols.join(' or ')} URL`;
    case 'text':
      return check.describe;
  }
}

/**
 * Checks one value against its option's declaration, without I/O (files are checked by the CLI).
 * Values are never echoed whole when long: an option may be given a secret by mistake.
 */
export function checkValue(name: string, option: PhaseOption, raw: string): Checked {
  const check = option.check;
  const shown = raw.length > 40 ? `${raw.slice(0, 37)}...` : raw;
  if (!check) return { ok: true, value: raw };
  const bad = (): Checked => ({ ok: false, error: `--${name} must be ${describeCheck(check)}, got '${shown}'` });
  if (raw.trim() === '') return bad();
  switch (check.kind) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(raw.trim())) return bad();
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || (check.min !== undefined && n < check.min) || (check.max !== undefined && n > check.max)) return bad();
      return { ok: true, value: n };
    }
    case 'duration': {
      const ms = parseDurationMs(raw, check.unit);
      if (ms === undefined || ms <= 0 || (check.minMs !== undefined && ms < check.minMs) || (check.maxMs !== undefined && ms > check.maxMs)) return bad();
      return { ok: true, value: ms };
    }
    case 'choice':
      return check.choices.includes(raw) ? { ok: true, value: raw } : bad();
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      return items.length > 0 && items.every((i) => check.choices.includes(i)) ? { ok: true, value: items } : bad();
    }
    case 'file':
      return { ok: true, value: raw };
    case 'url': {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return bad();
      }
      return check.protocols.includes(url.protocol.replace(/:$/, '')) ? { ok: true, value: raw } : bad();
    }
    case 'text':
      return check.valid(raw) ? { ok: true, value: raw } : bad();
  }
}

/**
 * A number option's value as a phase uses it: an int as is, a duration in milliseconds; undefined when not given.
 * The CLI refused bad values before anything ran, so one here is a bug in the caller.
 */
export function numberOption(args: OptionArgs, options: Record<string, PhaseOption>, name: string): number | undefined {
  const option = options[name];
  if (!option) throw new Error(`bug: no option --${name}`);
  const raw = args[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new Error(`bug: --${name} is not a single value`);
  const checked = checkValue(name, option, raw);
  if (!checked.ok) throw new Error(`bug: unchecked option: ${checked.error}`);
  if (typeof checked.value !== 'number') throw new Error(`bug: --${name} is not a number option`);
  return checked.value;
}
