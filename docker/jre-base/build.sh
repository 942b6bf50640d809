#!/bin/sh
# Builds the local stand-in for eclipse-temurin:17-jre: Debian bookworm minbase + Debian's OpenJDK 17 JRE,
# for one architecture. Foreign architectures run under qemu-user-static (binfmt). Temurin has no arm/v7
# build past 17 and fails under QEMU (flink-facts.md); Debian's openjdk-17 works.
#   1. debootstrap a minbase rootfs (with tini and jemalloc) and load it as ${TAG}-rootfs (load-rootfs.sh
#      writes the image config, so the platform is right);
#   2. install OpenJDK in a container build on top (Dockerfile next to this script);
#   3. export that container and load it again as one layer.
#
# usage: build.sh DEB_ARCH PLATFORM TAG 'LABEL=VALUE [LABEL=VALUE ...]'
#   e.g. build.sh armhf linux/arm/v7 fridge/jre:17-bookworm-armhf 'fridge.recipe=abc123'
set -eu

arch=$1
platform=$2
tag=$3
labels=${4:-fridge.image=jre}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${FRIDGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=tini,libjemalloc2,ca-certificates,netbase

rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/fridge-image-jre-$arch-XXXXXX")
# An interrupted debootstrap can leave /proc and /sys mounted inside the rootfs: unmount before removing.
cleanup() {
  awk -v d="$rootfs/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$rootfs" "$rootfs.tar"
}
trap cleanup EXIT INT TERM

if ! debootstrap --arch="$arch" --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
  tail -n 20 "$rootfs/debootstrap/debootstrap.log" "$rootfs.log" >&2 2>/dev/null || true
  exit 1
fi
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf

tar --numeric-owner -C "$rootfs" -cf "$rootfs.tar" .
"$here/load-rootfs.sh" "$rootfs.tar" "$platform" "$tag-rootfs"
rm -f "$rootfs.tar"
DOCKER_BUILDKIT=0 docker build -q --platform "$platform" --build-arg "ROOTFS=$tag-rootfs" -t "$tag-stage" "$here" >/dev/null
# Squashed into one layer, like Temurin's: files the install step deleted do not linger in a lower layer.
cid=$(docker create "$tag-stage")
docker export "$cid" >"$rootfs.tar"
docker rm "$cid" >/dev/null
"$here/load-rootfs.sh" "$rootfs.tar" "$platform" "$tag" "$labels"
rm -f "$rootfs.tar"
docker image rm "$tag-stage" "$tag-rootfs" >/dev/null
