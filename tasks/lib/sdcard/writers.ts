// What a boot partition must hold for a headless first boot, per OS version: pure functions of the card's
// current files and the host's settings. Modelled on what Raspberry Pi Imager writes
// (raspberrypi/rpi-imager src/customization_generator.cpp and src/downloadthread.cpp), quoted where followed.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { nmConnectionPath } from '../facts/network.ts';
import { nmKeyfile } from '../steps/network.ts';
import { shq } from '../transport/types.ts';
import type { BootOs } from './detect.ts';

export type FirstNetwork =
  | { kind: 'dhcp'; iface: string }
  /** ansible_host is the static address itself: the Pi must answer there from the first boot. */
  | { kind: 'static'; iface: string; address: string; prefix: number; router: string | undefined; dns: string[] };

export interface CardSettings {
  hostname: string;
  user: string;
  /** SHA-512 crypt ($6$...). */
  passwordHash: string;
  /** Public keys; when any is given, password login is off from the first boot. */
  authorizedKeys: string[];
  network: FirstNetwork;
}

export interface FileWrite {
  name: string;
  before: string | undefined;
  after: string;
}

/** The files of the card's root that the writers read (case as on the card does not matter on FAT). */
export type BootFiles = ReadonlyMap<string, string>;

// rpi-imager src/downloadthread.cpp: `_cmdline += " systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot
// systemd.unit=kernel-command-line.target"`; its firstrun.sh ends with `sed -i 's| systemd.run.*||g' /boot/cmdline.txt`.
// Those are the paths of Bullseye and before, where the boot partition was /boot. Bookworm mounts it at
// /boot/firmware and leaves only a stub /boot/cmdline.txt: there, /boot/firstrun.sh does not exist, so the
// paths are the boot partition's own (measured on the first-boot virtual fridge: systemd.run= runs the script
// and the script removes itself from the card).
export const BOOT_MOUNT = '/boot/firmware';
export const FIRSTRUN_CMDLINE = ` systemd.run=${BOOT_MOUNT}/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target`;

/** The same keyfile pi-setup writes for the static address, so its later run finds it in place and changes nothing. */
function firstBootKeyfile(n: Extract<FirstNetwork, { kind: 'static' }>): string {
  return nmKeyfile({ iface: n.iface, ip: n.address, prefix: n.prefix, router: n.router, dns: n.dns });
}

/** Bookworm's firstrun.sh: the fallback branches of Imager's generateSystemdScript, plus the first-contact network. */
export function firstrunScript(s: CardSettings): string {
  const h = s.hostname;
  const lines = [
    '#!/bin/sh',
    `# Written by Fridge (npx zx tasks/sd-card.mjs) for ${h}: run once by systemd.run= from cmdline.txt, then removed.`,
    'set +e',
    '',
    'CURRENT_HOSTNAME=$(cat /etc/hostname | tr -d " \\t\\n\\r")',
    'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
    `   /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname ${h}`,
    'else',
    `   echo ${h} >/etc/hostname`,
    `   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t${h}/g" /etc/hosts`,
    'fi',
    'FIRSTUSER=$(getent passwd 1000 | cut -d: -f1)',
    'FIRSTUSERHOME=$(getent passwd 1000 | cut -d: -f6)',
  ];
  if (s.authorizedKeys.length > 0) {
    lines.push(
      'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
      `   /usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k ${s.authorizedKeys.map(shq).join(' ')}`,
      'else',
      '   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"',
      '   cat > "$FIRSTUSERHOME/.ssh/authorized_keys" <<\'EOF\'',
      ...s.authorizedKeys,
      'EOF',
      '   chown "$FIRSTUSER:$FIRSTUSER" "$FIRSTUSERHOME/.ssh/authorized_keys"',
      '   chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"',
      '   systemctl enable ssh',
      'fi',
      // Password login off from the first boot: a drop-in, read before the main sshd_config's own setting.
      "echo 'PasswordAuthentication no' >/etc/ssh/sshd_config.d/10-fridge-no-password.conf",
    );
  } else {
    lines.push('if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then', '   /usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh', 'else', '   systemctl enable ssh', 'fi');
  }
  if (s.network.kind === 'static') {
    const file = nmConnectionPath(s.network.iface);
    lines.push(`install -m 600 /dev/null ${file}`, `cat > ${file} <<'EOF'`, firstBootKeyfile(s.network).trimEnd(), 'EOF');
  }
  lines.push(`rm -f ${BOOT_MOUNT}/firstrun.sh`, `sed -i 's| systemd.run.*||g' ${BOOT_MOUNT}/cmdline.txt`, 'exit 0', '');
  return lines.join('\n');
}

/** cmdline.txt is one line; what an earlier run (Fridge's or Imager's) appended is replaced, never doubled. */
function cmdlineWith(cmdline: string | undefined, strip: RegExp, suffix: string): string {
  const base = (cmdline ?? '').split('\n')[0]?.trim().replace(strip, '') ?? '';
  return `${base}${suffix}\n`;
}

function bookwormFiles(current: BootFiles, s: CardSettings): Map<string, string> {
  return new Map([
    // raspberrypi-sys-mods' sshswitch enables sshd when an `ssh` file is on the boot partition.
    ['ssh', current.get('ssh') ?? ''],
    // userconf-pi reads `user:SHA-512-crypt` from userconf.txt on the first boot and renames the first user.
    ['userconf.txt', `${s.user}:${s.passwordHash}\n`],
    ['firstrun.sh', firstrunScript(s)],
    ['cmdline.txt', cmdlineWith(current.get('cmdline.txt'), / systemd\.run=.*$/, FIRSTRUN_CMDLINE)],
  ]);
}

/** user-data as Imager 2.x writes it (generateCloudInitUserData): singular `user:`, quoted hash, sshd enabled by runcmd. */
export function userData(s: CardSettings): string {
  const withKeys = s.authorizedKeys.length > 0;
  const doc: Record<string, unknown> = {
    // Imager prepends it: "Don't let cloud-init manage DNS - let dhcpcd/NetworkManager handle it".
    manage_resolv_conf: false,
    hostname: s.hostname,
    manage_etc_hosts: true,
    user: {
      name: s.user,
      shell: '/bin/bash',
      lock_passwd: false,
      passwd: s.passwordHash,
      ...(withKeys ? { ssh_authorized_keys: s.authorizedKeys } : {}),
      // Raspberry Pi OS's first user has passwordless sudo (pi-gen's 99_default.cfg); pi-setup relies on it.
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
    },
    ssh_pwauth: !withKeys,
    // "cc_ssh only writes host keys / authorized_keys; it does not enable the sshd unit ... RPi OS does not".
    runcmd: [['systemctl', 'enable', '--now', 'ssh']],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** network-config (netplan v2, as Imager writes it): DHCP for a first contact found by discover, else the static address. */
export function networkConfig(n: FirstNetwork): string {
  const eth =
    n.kind === 'dhcp'
      ? { dhcp4: true, optional: true }
      : {
          dhcp4: false,
          addresses: [`${n.address}/${n.prefix}`],
          ...(n.router ? { routes: [{ to: 'default', via: n.router }] } : {}),
          ...(n.dns.length ? { nameservers: { addresses: n.dns } } : {}),
          optional: true,
        };
  return stringify({ network: { version: 2, ethernets: { [n.iface]: eth } } }, { lineWidth: 0 });
}

function trixieFiles(current: BootFiles, s: CardSettings): Map<string, string> {
  const user = userData(s);
  const net = networkConfig(s.network);
  // Imager uses a timestamp; a digest of the seed keeps a second run identical while a changed seed still gets
  // a new instance id, which is what makes cloud-init process it again.
  const instance = `fridge-${createHash('sha256').update(user).update(net).digest('hex').slice(0, 16)}`;
  return new Map([
    ['ssh', current.get('ssh') ?? ''],
    ['user-data', user],
    ['network-config', net],
    ['meta-data', `instance-id: ${instance}\n`],
    // downloadthread.cpp: `_cmdline += " ds=nocloud;i=" + instanceId` so cloud-init's cache check works across reboots.
    ['cmdline.txt', cmdlineWith(current.get('cmdline.txt'), / ds=nocloud;i=\S+/, ` ds=nocloud;i=${instance}`)],
  ]);
}

/** The files to write: only those whose content differs from the card's (an empty list: nothing to do). */
export function planBootFiles(os: BootOs, current: BootFiles, s: CardSettings): FileWrite[] {
  const wanted = os === 'bookworm' ? bookwormFiles(current, s) : trixieFiles(current, s);
  return [...wanted].filter(([name, after]) => current.get(name) !== after).map(([name, after]) => ({ name, before: current.get(name), after }));
}

/** The password hash already on the card for this user, kept when it still matches (crypt salts are random). */
export function existingHash(os: BootOs, current: BootFiles, user: string): string | undefined {
  if (os === 'bookworm') {
    const line = current.get('userconf.txt')?.split('\n')[0]?.trim() ?? '';
    return line.startsWith(`${user}:`) ? line.slice(user.length + 1) : undefined;
  }
  const text = current.get('user-data') ?? '';
  if (!new RegExp(`^\\s+name: ${user.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(text)) return undefined;
  return /^\s+passwd: ["']?(\$6\$[^"'\s]+)["']?$/m.exec(text)?.[1];
}

/** The files the writers read from a card's root. */
export const READ_FILES = ['cmdline.txt', 'issue.txt', 'ssh', 'userconf.txt', 'firstrun.sh', 'user-data', 'network-config', 'meta-data'];
