#!/usr/bin/env bash
# Installs and starts what the virtual fridge and the tests need on a Debian machine (root).
# Idempotent: every step checks first, so a second run takes a second or two.
set -euo pipefail

log() { printf '[prepare-host] %s\n' "$*" >&2; }

need_pkgs=()
want() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$1"); }
# An engine installed another way (GitHub's ubuntu runners ship docker-ce, whose containerd.io conflicts with
# docker.io) is used as it is.
if command -v dockerd >/dev/null 2>&1 && ! dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q 'install ok installed'; then
  log "using the installed Docker engine ($(command -v dockerd)), not Debian's docker.io"
else
  want docker.io
fi
for p in sudo debootstrap qemu-user-static binfmt-support docker-registry openssh-server openssh-client sshpass curl ca-certificates iproute2 shellcheck apt-cacher-ng openjdk-17-jdk-headless maven python3-pip git gnupg mtools dosfstools xz-utils fdisk openssl; do want "$p"; done

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then log "missing packages ${need_pkgs[*]} and not root: install them first"; exit 1; fi
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # Debian's packages start their own services where systemd runs; here it does not, so stop stray ones.
  pkill -x docker-registry 2>/dev/null || true
  # Where systemd does run (GitHub's runners), keep it from holding :5000 and :3142, which the virtual fridge uses.
  if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry apt-cacher-ng >/dev/null 2>&1 || true; fi
  # apt-cacher-ng's postinst starts the system instance on :3142; the virtual fridge runs its own (tasks/lib/sim).
  if [ -x /etc/init.d/apt-cacher-ng ]; then /etc/init.d/apt-cacher-ng stop >/dev/null 2>&1 || true; fi
fi

# binfmt: kernel-wide registration of qemu-arm/aarch64 with the F flag, so containers can run ARM images.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || log "cannot mount binfmt_misc"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-arm ]; then
  update-binfmts --enable qemu-arm >/dev/null 2>&1 || true
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
fi

# dockerd: no systemd here, so start it ourselves and wait for it.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/fridge-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start, see /var/log/fridge-dockerd.log"; exit 1; }
fi
log "ready: $(docker version --format 'docker {{.Server.Version}}'), qemu-arm $( [ -e /proc/sys/fs/binfmt_misc/qemu-arm ] && echo registered || echo missing)"
