// Which first-boot mechanism a Raspberry Pi OS boot partition expects, read from the partition itself.
//
// Trixie images carry cloud-init's NoCloud seed on the boot partition: pi-gen's stage2/04-cloud-init/01-run.sh
// (RPi-Distro/pi-gen) installs files/meta-data, user-data and network-config into /boot/firmware. Bookworm images
// have none of them and are customised by a firstrun.sh that cmdline.txt hands to systemd.run= (rpi-imager
// src/downloadthread.cpp, init format "systemd"). Both have cmdline.txt and pi-gen's issue.txt.

export type BootOs = 'bookworm' | 'trixie';

export type Detected = { ok: true; os: BootOs; evidence: string } | { ok: false; error: string };

const CLOUD_INIT_FILES = ['meta-data', 'user-data', 'network-config'];

/** `names`: the files in the partition's root (any case, FAT); `issue`: issue.txt's text when present. */
export function detectBootOs(names: readonly string[], issue: string | undefined): Detected {
  const lower = new Set(names.map((n) => n.toLowerCase()));
  if (!lower.has('cmdline.txt')) {
    return { ok: false, error: 'no cmdline.txt in the boot partition: not a Raspberry Pi OS card (flash one first, or give --image FILE.img.xz)' };
  }
  const seed = CLOUD_INIT_FILES.filter((f) => lower.has(f));
  if (seed.length > 0) return { ok: true, os: 'trixie', evidence: `cloud-init seed (${seed.join(', ')})` };
  const date = /Raspberry Pi reference (\d{4}-\d{2}-\d{2})/.exec(issue ?? '')?.[1];
  return { ok: true, os: 'bookworm', evidence: date ? `no cloud-init seed; issue.txt: reference ${date}` : 'no cloud-init seed' };
}
