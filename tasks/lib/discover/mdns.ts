// mDNS (`raspberrypi.local`, the name of a freshly flashed Pi) only through the system's own resolver: when
// /etc/nsswitch.conf routes names to nss-mdns (avahi-daemon, as desktop Debian and Ubuntu have). Fridge starts no
// daemon and sends no multicast of its own; without nss-mdns this source is skipped and the run says so.
import dns from 'node:dns/promises';
import fs from 'node:fs/promises';

export const PI_MDNS_NAME = 'raspberrypi.local';

/** The `hosts:` line of nsswitch.conf names an mdns module (mdns, mdns4, mdns4_minimal, mdns_minimal …). */
export function nsswitchHasMdns(text: string): boolean {
  const line = text.split('\n').find((l) => /^\s*hosts\s*:/.test(l));
  return line !== undefined && /\bmdns\w*/.test(line.replace(/#.*/, ''));
}

export async function mdnsAvailable(): Promise<boolean> {
  return nsswitchHasMdns(await fs.readFile('/etc/nsswitch.conf', 'utf8').catch(() => ''));
}

/** Addresses the system resolver gives for `name`, empty when none answered within the time. */
export async function resolveMdns(name: string, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string[]>((r) => (timer = setTimeout(() => r([]), timeoutMs)));
  const lookup = dns.lookup(name, { all: true, family: 4 }).then(
    (as) => as.map((a) => a.address),
    () => [],
  );
  try {
    return await Promise.race([lookup, late]);
  } finally {
    clearTimeout(timer);
  }
}
