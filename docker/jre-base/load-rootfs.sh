#!/bin/sh
# Loads a root filesystem tar as a one-layer image whose config names the right platform.
# `docker import --platform` on Debian's dockerd 20.10 records the daemon's own architecture (amd64) for
# any platform; `docker load` takes the image config as written, and builds on top inherit it.
#
# usage: load-rootfs.sh ROOTFS.tar PLATFORM TAG 'LABEL=VALUE ...'   (PLATFORM: linux/amd64|linux/arm64|linux/arm/v7)
set -eu

rootfs_tar=$1
platform=$2
tag=$3
labels=${4:-}

os=${platform%%/*}
rest=${platform#*/}
arch=${rest%%/*}
variant=
case "$rest" in */*) variant=${rest#*/} ;; esac

dir=$(mktemp -d "${TMPDIR:-/var/tmp}/fridge-image-load-XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

layer_sha=$(sha256sum "$rootfs_tar" | cut -d ' ' -f 1)
mkdir "$dir/$layer_sha"
ln "$rootfs_tar" "$dir/$layer_sha/layer.tar" 2>/dev/null || cp "$rootfs_tar" "$dir/$layer_sha/layer.tar"

json_labels=
for l in $labels; do
  json_labels="$json_labels${json_labels:+,}\"${l%%=*}\":\"${l#*=}\""
done
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
printf '{"architecture":"%s",%s"os":"%s","created":"%s","config":{"Env":["PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=/opt/java/openjdk","LANG=C.UTF-8"],"Cmd":["bash"],"Labels":{%s}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"fridge docker/jre-base"}]}' \
  "$arch" "${variant:+\"variant\":\"$variant\",}" "$os" "$created" "$json_labels" "$layer_sha" "$created" >"$dir/config.json"
config_sha=$(sha256sum "$dir/config.json" | cut -d ' ' -f 1)
mv "$dir/config.json" "$dir/$config_sha.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_sha" "$tag" "$layer_sha" >"$dir/manifest.json"

tar -C "$dir" -cf - manifest.json "$config_sha.json" "$layer_sha" | docker load -q >/dev/null
