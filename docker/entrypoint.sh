#!/bin/bash
# Starts a Flink JobManager, TaskManager or ZooKeeper server in the foreground (tini is PID 1 and forwards signals).
#
# The configuration was generated outside the image, in TypeScript, and baked in as conf/fridge-base.yaml.
# At start this script writes conf/$FLINK_CONF_FILE from it, overridden by FLINK_PROPERTIES (YAML: flat
# `key: value` lines or nested maps; values with spaces stay intact) and by JOB_MANAGER_RPC_ADDRESS.
# Unlike the official image it never starts a JVM to parse the configuration; launch.sh starts Flink.
set -euo pipefail

FLINK_HOME=${FLINK_HOME:-/opt/flink}
conf_dir=${FLINK_CONF_DIR:-$FLINK_HOME/conf}
conf_file=$conf_dir/${FLINK_CONF_FILE:-config.yaml}
base_file=$conf_dir/fridge-base.yaml
zoo_data=${ZOO_DATA_DIR:-$FLINK_HOME/zookeeper}

die() {
  echo "fridge-entrypoint: $*" >&2
  exit 64
}

# A YAML subset, enough for Flink's configuration: comments, `key: scalar`, nested maps by indentation.
# Prints `key<TAB>scalar` with the scalar exactly as written (quotes included), so writing it back as
# `key: scalar` means the same to Flink's YAML parser.
flatten_yaml() {
  awk -v src="$1" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
    /^[ \t]*(#.*)?[\r]?$/ { next }
    /^---/ { next }
    {
      match($0, /^ */); indent = RLENGTH; line = substr($0, indent + 1)
      if (line ~ /^- /) { printf "%s line %d: YAML lists are not supported, write the list inline: key: [a, b]\n", src, NR > "/dev/stderr"; failed = 1; exit 1 }
      pos = index(line, ": ")
      if (pos > 0) { key = trim(substr(line, 1, pos - 1)); value = trim(substr(line, pos + 2)) }
      else if (trim(line) ~ /:$/) { key = trim(line); key = substr(key, 1, length(key) - 1); value = "" }
      else { printf "%s line %d: expected `key: value`, got: %s\n", src, NR, line > "/dev/stderr"; failed = 1; exit 1 }
      if (key ~ /^".*"$/ || key ~ /^\047.*\047$/) key = substr(key, 2, length(key) - 2)
      while (depth > 0 && ind[depth] >= indent) depth--
      full = depth > 0 ? path[depth] "." key : key
      if (value == "") { depth++; ind[depth] = indent; path[depth] = full; next }
      if (value ~ /^[|>][-+0-9]*$/) { printf "%s line %d: block scalars (| or >) are not supported, write %s on one line\n", src, NR, full > "/dev/stderr"; failed = 1; exit 1 }
      if (value !~ /^["\047]/) sub(/[ \t]+#.*$/, "", value)
      print full "\t" value
    }
    END { exit failed }
  '
}

# Later lines win; the order of first appearance is kept so the file reads like the generated one.
merge_flat() {
  awk -F '\t' '
    !($1 in v) { order[++n] = $1 }
    { v[$1] = substr($0, length($1) + 2) }
    END { for (i = 1; i <= n; i++) print order[i] ": " v[order[i]] }
  '
}

# An address for Flink to advertise: as given, or the container's own for container-ip. $1 names the variable.
advertised() {
  local name=$1 value=$2
  if [[ "$value" == "container-ip" ]]; then
    value=$(hostname -i 2>/dev/null | awk '{ print $1 }')
    [[ -n "$value" ]] || die "$name=container-ip: hostname -i gave no address"
  fi
  if [[ -n "$value" && ! "$value" =~ ^[A-Za-z0-9._:-]+$ ]]; then die "$name is not a host name: $value"; fi
  printf '%s' "$value"
}

write_config() {
  local overrides=() jm_host tm_host
  # Under high availability every jobmanager publishes its own address in ZooKeeper (container-ip): the service's
  # name would stand for all of them.
  jm_host=$(advertised JOB_MANAGER_RPC_ADDRESS "${JOB_MANAGER_RPC_ADDRESS:-}") || exit
  if [[ -n "$jm_host" ]]; then overrides+=("jobmanager.rpc.address	$jm_host" "rest.address	$jm_host"); fi
  # Without it a TaskManager spends up to pekko.lookup.timeout (10 s) probing for the JobManager to learn its
  # own address, which in a swarm is most of its start: the JobManager is not in DNS until it is healthy.
  tm_host=$(advertised TASK_MANAGER_HOST "${TASK_MANAGER_HOST:-}") || exit
  if [[ -n "$tm_host" ]]; then overrides+=("taskmanager.host	$tm_host"); fi
  local base='' props tmp
  if [[ -f "$base_file" ]]; then
    base=$(flatten_yaml fridge-base.yaml < "$base_file") || die "conf/fridge-base.yaml is not usable"
  fi
  props=$(printf '%s\n' "${FLINK_PROPERTIES:-}" | flatten_yaml FLINK_PROPERTIES) || die "FLINK_PROPERTIES is not usable (see above)"
  tmp=$(mktemp "$conf_dir/.config.XXXXXX")
  {
    echo "# Written by the entrypoint at $(date -u +%FT%TZ) from fridge-base.yaml, FLINK_PROPERTIES and the environment."
    printf '%s\n' "$base" "$props" "${overrides[@]}" | sed '/^$/d' | merge_flat
  } > "$tmp"
  mv "$tmp" "$conf_file"
}

# Debian names the multiarch directory arm-linux-gnueabihf where uname -m says armv7l: look it up by glob.
use_jemalloc() {
  if [[ "${DISABLE_JEMALLOC:-false}" == "true" ]]; then return 0; fi
  local lib
  for lib in /usr/lib/*-linux-gnu*/libjemalloc.so.2; do
    if [[ -e "$lib" ]]; then
      export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
      return 0
    fi
  done
}

# conf/zoo.cfg for a server of the ensemble, from the variables the official zookeeper image reads.
write_zoo_cfg() {
  local id=${ZOO_MY_ID:-} servers=${ZOO_SERVERS:-} entry tmp
  [[ "$id" =~ ^[0-9]+$ ]] || die "ZOO_MY_ID must be this server's number (1-255), got: ${id:-nothing}"
  tmp=$(mktemp "$conf_dir/.zoo.XXXXXX")
  {
    echo "# Written by the entrypoint at $(date -u +%FT%TZ) from ZOO_MY_ID and ZOO_SERVERS."
    echo "tickTime=2000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$zoo_data"
    echo "clientPort=${ZOO_PORT:-2181}"
    # Peers' names resolve only while their tasks are up: listen on every address rather than on our own name.
    echo "quorumListenOnAllIPs=true"
    echo "autopurge.snapRetainCount=3"
    echo "autopurge.purgeInterval=1"
    for entry in $servers; do
      [[ "$entry" =~ ^server\.[0-9]+=[A-Za-z0-9._-]+:[0-9]+:[0-9]+$ ]] || die "ZOO_SERVERS: expected server.N=host:peerport:electionport entries, got: $entry"
      echo "$entry"
    done
  } > "$tmp"
  mv "$tmp" "$conf_dir/zoo.cfg"
}

# Flink's quorum peer (what bin/zookeeper.sh starts), without the helper JVMs of Flink's scripts and with a heap a
# Pi can spare: ZOO_HEAP_MB.
run_zookeeper() {
  local heap=${ZOO_HEAP_MB:-32} cds=()
  [[ "$heap" =~ ^[0-9]+$ ]] || die "ZOO_HEAP_MB is not a number: $heap"
  mkdir -p "$zoo_data"
  if [[ -f "$FLINK_HOME/cds/flink.jsa" ]]; then cds=(-XX:SharedArchiveFile="$FLINK_HOME/cds/flink.jsa" -Xshare:auto); fi
  exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" "-Xms${heap}m" "-Xmx${heap}m" -XX:MaxMetaspaceSize=64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k \
    "${cds[@]}" -Dlog4j.configurationFile="file:$conf_dir/log4j-console.properties" -Dzookeeper.jmx.log4j.disable=true \
    -classpath "$("$FLINK_HOME/bin/fridge-launch.sh" --classpath)" \
    org.apache.flink.runtime.zookeeper.FlinkZooKeeperQuorumPeer --zkConfigFile "$conf_dir/zoo.cfg" --peerId "$ZOO_MY_ID"
}

usage() {
  cat <<USAGE
usage: jobmanager | taskmanager [-D key=value ...] | zookeeper | help | <command ...>
  env JOB_MANAGER_RPC_ADDRESS  the JobManager's host name (default from the baked configuration;
                               container-ip: the container's own, for high availability)
  env FLINK_PROPERTIES         YAML overriding the baked configuration
  env TASK_MANAGER_HOST        address a TaskManager advertises (default: Flink decides;
                               container-ip: the container's own, from hostname -i)
  env ZOO_MY_ID, ZOO_SERVERS   zookeeper: this server's number and the ensemble,
                               "server.1=zookeeper-1:2888:3888 server.2=..." (as the official image)
  env ZOO_HEAP_MB              zookeeper: heap in MiB (default 32)
  env FRIDGE_FLINK_LAUNCHER    fridge (default: one helper JVM, see fridge-launch.sh) or flink
                               (Flink's bin/jobmanager.sh / taskmanager.sh start-foreground)
USAGE
}

role=${1:-help}
case "$role" in
  jobmanager | taskmanager)
    shift
    write_config
    use_jemalloc
    echo "$role" > "${FRIDGE_ROLE_FILE:-/tmp/fridge-flink-role}"
    if [[ "${FRIDGE_FLINK_LAUNCHER:-fridge}" == "flink" ]]; then
      exec "$FLINK_HOME/bin/$role.sh" start-foreground "$@"
    fi
    exec "$FLINK_HOME/bin/fridge-launch.sh" "$role" "$@"
    ;;
  zookeeper)
    write_zoo_cfg
    use_jemalloc
    echo "$role" > "${FRIDGE_ROLE_FILE:-/tmp/fridge-flink-role}"
    run_zookeeper
    ;;
  help | --help | -h)
    usage
    ;;
  *)
    # `flink run ...` and friends read the same configuration; a read-only conf/ keeps the baked one.
    if [[ -w "$conf_dir" ]]; then (write_config) || exit; fi
    exec "$@"
    ;;
esac
