// The SSH identification line a server sends first (RFC 4253 4.2), and what it says about the OS.
// Debian's OpenSSH names its package version: `OpenSSH_9.2p1 Debian-2+deb12u3`; 32-bit Raspberry Pi OS builds it
// from Raspbian's archive (`Raspbian-…`); 64-bit Raspberry Pi OS uses Debian's own package, so it says Debian.

/** The first `SSH-` line of what the server sent (servers may send other lines before it); undefined if none yet. */
export function bannerLine(received: string): string | undefined {
  for (const line of received.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l.startsWith('SSH-')) return l.slice(0, 255);
  }
  return undefined;
}

/** OpenSSH upstream version → the Debian release that ships it (when the package suffix names none). */
const OPENSSH_RELEASE: Readonly<Record<string, string>> = {
  '7.4p1': 'stretch',
  '7.9p1': 'buster',
  '8.4p1': 'bullseye',
  '9.2p1': 'bookworm',
  '10.0p1': 'trixie',
};
const DEB_RELEASE: Readonly<Record<string, string>> = { '9': 'stretch', '10': 'buster', '11': 'bullseye', '12': 'bookworm', '13': 'trixie' };

export interface OsHint {
  /** One line for the table: "Raspberry Pi OS 32-bit (bookworm)". */
  text: string;
  /** The banner itself says Raspbian: a Pi (or a clone running Raspbian). */
  raspbian: boolean;
}

export function osHint(banner: string): OsHint {
  const m = /^SSH-[\d.]+-(\S+)(?:\s+(.*))?$/.exec(banner);
  const software = m?.[1] ?? banner;
  const comment = m?.[2] ?? '';
  const version = /^OpenSSH_(\S+)$/.exec(software)?.[1];
  const deb = /\+deb(\d+)u/.exec(comment)?.[1];
  const release = (deb ? DEB_RELEASE[deb] : undefined) ?? (version ? OPENSSH_RELEASE[version] : undefined);
  const suffix = release ? ` (${release})` : '';
  if (/^Raspbian-/.test(comment)) return { text: `Raspberry Pi OS 32-bit${suffix}`, raspbian: true };
  if (/^Debian-/.test(comment)) return { text: `Debian${suffix} or 64-bit Raspberry Pi OS`, raspbian: false };
  if (/^Ubuntu-/.test(comment)) return { text: 'Ubuntu', raspbian: false };
  if (/^dropbear/i.test(software)) return { text: 'dropbear (a router or an embedded device?)', raspbian: false };
  return { text: software, raspbian: false };
}
