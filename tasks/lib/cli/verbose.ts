// -v / -vv: every command run on a host is reported (and with -vv its output), through the reporter so
// that the console's live lines, --json and GitHub's log each show it their way. Secrets are masked by the
// reporters; stdin (where passwords go) is never shown.
import type { HostSpec } from '../inventory/types.ts';
import type { Reporter } from '../report/types.ts';
import { mask } from '../secrets.ts';
import { TransportPool } from '../transport/open.ts';
import type { ExecOptions, ExecResult, PutOptions, Transport } from '../transport/types.ts';

/** At -vv, output longer than this is cut: a 20-minute apt log would bury the results. */
const MAX_OUTPUT_LINES = 40;

export type CommandLog = (host: string, text: string) => void;

function tail(text: string): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  if (lines.length <= MAX_OUTPUT_LINES) return lines;
  return [`... ${lines.length - MAX_OUTPUT_LINES} lines not shown`, ...lines.slice(-MAX_OUTPUT_LINES)];
}

/** The same transport, telling `log` what it runs (anything else a transport offers is passed through). */
export function tracedTransport(t: Transport, level: number, log: CommandLog): Transport {
  const say = (text: string): void => log(t.host, mask(text));
  const traced: Partial<Transport> = {
    async exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
      say(`${opts?.sudo ? 'sudo ' : ''}$ ${command}${opts?.stdin !== undefined ? ' <stdin>' : ''}`);
      const r = await t.exec(command, opts);
      if (level >= 2) {
        const out = [...(r.stdout.trim() ? tail(r.stdout).map((l) => `  | ${l}`) : []), ...(r.stderr.trim() ? tail(r.stderr).map((l) => `  ! ${l}`) : [])];
        say([`  => exit ${r.code}`, ...out].join('\n'));
      } else if (r.code !== 0) say(`  => exit ${r.code}`);
      return r;
    },
    async put(remotePath: string, content: string | Buffer, opts?: PutOptions): Promise<void> {
      say(`put ${remotePath} (${Buffer.byteLength(content)} bytes${opts?.mode !== undefined ? `, mode ${opts.mode.toString(8)}` : ''})`);
      await t.put(remotePath, content, opts);
    },
    async putFile(localPath: string, remotePath: string, opts?: PutOptions): Promise<void> {
      say(`copy ${localPath} → ${remotePath}`);
      await t.putFile(localPath, remotePath, opts);
    },
    async get(remotePath: string, opts?: { sudo?: boolean }): Promise<string | undefined> {
      say(`get ${remotePath}`);
      return t.get(remotePath, opts);
    },
  };
  return new Proxy(t, {
    get(target, prop) {
      if (Object.hasOwn(traced, prop)) return traced[prop as keyof Transport];
      const v: unknown = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** A pool whose transports report what they run; the connections themselves are the pool's as usual. */
export class VerbosePool extends TransportPool {
  constructor(
    private readonly level: number,
    private readonly log: CommandLog,
  ) {
    super();
  }

  override get(host: HostSpec): Promise<Transport> {
    return super.get(host).then((t) => tracedTransport(t, this.level, this.log));
  }
}

export function reporterLog(reporter: Reporter): CommandLog {
  return (host, text) => reporter.emit({ kind: 'message', level: 'info', text, host });
}
