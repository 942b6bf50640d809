#!/bin/bash
# HEALTHCHECK without curl: a JobManager is healthy when REST /overview answers 200, a TaskManager when
# its RPC port accepts connections. Ports come from the configuration the entrypoint wrote (flat keys).
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
    [[ "$status" == *" 200 "* ]]
    ;;
  taskmanager)
    port=$(value 'taskmanager\.rpc\.port' 6122)
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    ;;
  *)
    exit 0
    ;;
esac
