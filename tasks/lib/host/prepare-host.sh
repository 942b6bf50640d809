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
for p in sudo debootstrap qemu-user-static binfmt-support docker-registry openssh-server openssh-client sshpass curl ca-certificates iproute2 shellcheck apt-cacher-ng openjdk-17-jdk-headless maven python3-pip git gnupg mtools dosfstools xz-utils fdisk openssl lxcfs fuse3 mosquitto mosquitto-clients e2fsprogs dnsmasq-base; do want "$p"; done

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then log "missing packages ${need_pkgs[*]} and not root: install them first"; exit 1; fi
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # Debian's packages start their own services where systemd runs; here it does not, so stop stray ones.
  pkill -x docker-registry 2>/dev/null || true
  # Where systemd does run (GitHub's runners), keep it from holding :5000 and :3142, which the virtual fridge uses.
  # The job's MQTT tests start their own mosquitto on a free loopback port; the system one is not used.
  if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry apt-cacher-ng mosquitto >/dev/null 2>&1 || true; fi
  if [ -x /etc/init.d/mosquitto ]; then /etc/init.d/mosquitto stop >/dev/null 2>&1 || true; fi
  # apt-cacher-ng's postinst starts the system instance on :3142; the virtual fridge runs its own (tasks/lib/sim).
  if [ -x /etc/init.d/apt-cacher-ng ]; then /etc/init.d/apt-cacher-ng stop >/dev/null 2>&1 || true; fi
fi

# lxcfs: a /proc/meminfo per cgroup, which the virtual fridge bind-mounts into each node so the node's dockerd
# (and swarm) see the node's memory limit, a Pi's 1 GiB, instead of this machine's memory. Reading the file is
# the check: a crashed lxcfs leaves a mount that fails with "Transport endpoint is not connected".
LXCFS=/var/lib/lxcfs
lxcfs_serves() { head -c 1 "$LXCFS/proc/meminfo" >/dev/null 2>&1; }
if ! lxcfs_serves; then
  if [ -d /run/systemd/system ]; then systemctl start lxcfs >/dev/null 2>&1 || true; fi
  if ! lxcfs_serves && [ -x /etc/init.d/lxcfs ]; then
    # The init script skips the start while $LXCFS/proc exists: a stale mount must go first.
    umount -l "$LXCFS" 2>/dev/null || true
    log "starting lxcfs on $LXCFS"
    /etc/init.d/lxcfs start >/dev/null 2>&1 || true
    for _ in $(seq 1 20); do lxcfs_serves && break; sleep 0.25; done
  fi
  lxcfs_serves || log "lxcfs does not serve $LXCFS/proc/meminfo (is FUSE available?): virtual Pis will report this machine's memory"
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
log "ready: $(docker version --format 'docker {{.Server.Version}}'), qemu-arm $( [ -e /proc/sys/fs/binfmt_misc/qemu-arm ] && echo registered || echo missing), lxcfs $(lxcfs_serves && echo serving || echo missing)"
