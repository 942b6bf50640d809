#!/bin/bash
# HEALTHCHECK without curl: a JobManager is healthy when REST /overview answers 200, a TaskManager when
# its RPC port accepts connections, a ZooKeeper server when its client port does. Ports come from the
# configuration the entrypoint wrote (flat keys).
set -uo pipefail

conf=${FLINK_CONF_DIR:-${FLINK_HOME:-/opt/flink}/conf}/${FLINK_CONF_FILE:-config.yaml}
role=$(cat "${FRIDGE_ROLE_FILE:-/tmp/fridge-flink-role}" 2>/dev/null || echo none)

value() {
  local v
  v=$(sed -n "s/^$1: *['\"]\{0,1\}\([0-9][0-9]*\).*/\1/p" "$conf" 2>/dev/null | tail -n 1)
  echo "${v:-$2}"
}

case "$role" in
  jobmanager)
    port=$(value 'rest\.port' 8081)
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET /overview HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    IFS= read -r -t 5 status <&3 || exit 1
    # Under high availability a jobmanager waiting for the leadership answers 503, and is as healthy as a
    # standby can be: were it restarted for that, a failover would kill the one that is about to take over.
    if grep -Eq '^high-availability(\.type)?: *["'"'"']?zookeeper' "$conf" 2>/dev/null; then
      [[ "$status" == *" 200 "* || "$status" == *" 503 "* ]]
    else
      [[ "$status" == *" 200 "* ]]
    fi
    ;;
  zookeeper)
    exec 3<>"/dev/tcp/127.0.0.1/${ZOO_PORT:-2181}"
    ;;
  taskmanager)
    port=$(value 'taskmanager\.rpc\.port' 6122)
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    ;;
  *)
    exit 0
    ;;
esac
