// Step outputs, recorded by the runner (Ansible's `register`, pyinfra's OperationMeta): what a step found or
// made, per host, for later steps and phases of the same command. The type travels with the step or the key
// that produced the value, so a reader never casts; a failed or skipped step records nothing.

/** A typed name for an output that a reader in another module (or phase) looks up without holding the step. */
export interface OutputKey<T> {
  readonly kind: 'output-key';
  readonly name: string;
  /** Phantom: ties the key to its value's type (never set). */
  type?(value: T): T;
}

export function outputKey<T>(name: string): OutputKey<T> {
  return { kind: 'output-key', name };
}

/**
 * Where an output comes from: a step (its output, by default its facts), a wait step (its last look), or a key.
 * Structural, so that engine/types.ts's Step and WaitStep fit without this module importing them.
 */
export type OutputSource<T> =
  | OutputKey<T>
  | { readonly name: string; output?(facts: never): T; gather(ctx: never): Promise<unknown> }
  | { readonly kind: 'wait'; poll(ctx: never, previous: never): Promise<T> };

/** What the runner recorded in one command: per source, per host. Lives as long as the session. */
export class Outputs {
  private readonly values = new Map<object, Map<string, unknown>>();
  /** Keys by name: two keys with the same name are the same output (a key made twice reads what the first recorded). */
  private readonly keys = new Map<string, object>();

  private slot(source: OutputSource<unknown>): object {
    if ('kind' in source && source.kind === 'output-key') {
      const known = this.keys.get(source.name);
      if (known) return known;
      this.keys.set(source.name, source);
    }
    return source;
  }

  get<T>(source: OutputSource<T>, host: string): T | undefined {
    // The value was stored from a producer of the same source, so it has the source's type.
    return this.values.get(this.slot(source))?.get(host) as T | undefined;
  }

  set<T>(source: OutputSource<T>, host: string, value: T): void {
    const slot = this.slot(source);
    let byHost = this.values.get(slot);
    if (!byHost) this.values.set(slot, (byHost = new Map()));
    byHost.set(host, value);
  }

  delete<T>(source: OutputSource<T>, host: string): void {
    this.values.get(this.slot(source))?.delete(host);
  }
}
