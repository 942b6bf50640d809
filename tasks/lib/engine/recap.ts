// Per-host counts, as Ansible's PLAY RECAP shows them, and the exit code that follows from them.
import { EXIT, type HostOutcome, type HostRecap } from './types.ts';

export function recapHosts(hosts: string[], outcomes: HostOutcome[]): HostRecap[] {
  return hosts.map((host) => {
    const mine = outcomes.filter((o) => o.host === host);
    const results = mine.flatMap((o) => o.results);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    const unreachable = mine.find((o) => o.unreachable !== undefined)?.unreachable;
    const firstFailed = results.find((r) => r.status === 'failed');
    const firstError = unreachable ?? (firstFailed ? `${firstFailed.step}: ${firstFailed.msg ?? 'failed'}` : undefined);
    return {
      host,
      ok: count('ok'),
      changed: count('changed'),
      failed: count('failed'),
      skipped: count('skipped'),
      unreachable: unreachable !== undefined,
      ...(firstError !== undefined ? { firstError } : {}),
    };
  });
}

/** Unreachable wins over failed, as in Ansible (3 over 2). */
export function exitCodeFor(recap: HostRecap[]): number {
  if (recap.some((h) => h.unreachable)) return EXIT.unreachable;
  if (recap.some((h) => h.failed > 0)) return EXIT.hostFailed;
  return EXIT.ok;
}
