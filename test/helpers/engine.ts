// Builds a Session over local "hosts" (each a directory on this machine) for engine tests.
import { Outputs } from '../../tasks/lib/engine/outputs.ts';
import type { Session } from '../../tasks/lib/engine/runner.ts';
import type { RunSummary } from '../../tasks/lib/engine/types.ts';
import { LOCALHOST } from '../../tasks/lib/inventory/local-host.ts';
import type { HostSpec, Inventory } from '../../tasks/lib/inventory/types.ts';
import type { Reporter, ReportEvent } from '../../tasks/lib/report/types.ts';
import { TransportPool } from '../../tasks/lib/transport/open.ts';

export class RecordingReporter implements Reporter {
  readonly events: ReportEvent[] = [];
  emit(e: ReportEvent): void {
    this.events.push(e);
  }
  async finish(_: RunSummary[]): Promise<void> {}
}

export function localHosts(names: string[], vars: (name: string) => Record<string, unknown>): HostSpec[] {
  return names.map((name) => ({ ...LOCALHOST, name, vars: vars(name) }));
}

export function fakeInventory(hosts: HostSpec[]): Inventory {
  return {
    file: '<test>',
    hosts,
    groups: { all: hosts.map((h) => h.name) },
    cluster: {} as Inventory['cluster'],
  };
}

export function session(hosts: HostSpec[], opts: Partial<Session['options']> = {}): Session & { reporter: RecordingReporter } {
  return {
    inventory: fakeInventory(hosts),
    hosts,
    options: { check: false, diff: false, forks: Number.POSITIVE_INFINITY, ...opts },
    reporter: new RecordingReporter(),
    pool: new TransportPool(),
    args: {},
    outputs: new Outputs(),
  };
}
