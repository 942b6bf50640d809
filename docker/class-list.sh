#!/bin/bash
# Remakes docker/flink-classes.lst, the class list the image's class-data sharing archive is dumped from:
# runs a JobManager and a TaskManager from IMAGE on a private docker network, runs the example job until it
# has checkpointed, stops it with a savepoint, and keeps the classes both JVMs loaded from the JDK and
# Flink's lib/ (not the job's own, nor plugins': those come from other class loaders).
# Rerun it for a new Flink version; classes a version does not have are skipped by the dump.
#
# usage: docker/class-list.sh IMAGE [JOB_JAR] > docker/flink-classes.lst
#   e.g. docker/class-list.sh 127.0.0.1:5000/fridge/flink:latest jobs/sensor-window/target/sensor-window.jar
set -euo pipefail

image=${1:?usage: class-list.sh IMAGE [JOB_JAR]}
jar=${2:-jobs/sensor-window/target/sensor-window.jar}
[[ -r "$jar" ]] || { echo "class-list.sh: no job jar at $jar (build it: mvn -f jobs/sensor-window package)" >&2; exit 1; }
net=fridge-class-list
work=
jm=fridge-class-list-jm
tm=fridge-class-list-tm
cleanup() {
  docker rm -f "$jm" "$tm" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
cleanup
work=$(mktemp -d) && chmod 0777 "$work" && mkdir -m 0777 "$work/state"
docker network create "$net" >/dev/null
common=(--network "$net" -v "$work:/lists" -v "$work/state:/mnt/fridge-state" -e JOB_MANAGER_RPC_ADDRESS="$jm")
docker run -d --name "$jm" "${common[@]}" -p 127.0.0.1::8081 \
  -e "FLINK_PROPERTIES=env.java.opts.jobmanager: -XX:TieredStopAtLevel=1 -XX:DumpLoadedClassList=/lists/jm.lst" "$image" jobmanager >/dev/null
docker run -d --name "$tm" "${common[@]}" -e TASK_MANAGER_HOST=container-ip \
  -e "FLINK_PROPERTIES=env.java.opts.taskmanager: -XX:DumpLoadedClassList=/lists/tm.lst
taskmanager.numberOfTaskSlots: 2" "$image" taskmanager >/dev/null
rest="http://$(docker port "$jm" 8081/tcp | head -n 1)"

wait_for() {
  local what=$1 test=$2 i
  for i in $(seq 1 180); do
    if eval "$test"; then return 0; fi
    sleep 1
  done
  echo "class-list.sh: gave up waiting for $what" >&2
  docker logs "$jm" 2>&1 | tail -n 20 >&2
  exit 1
}
wait_for 'a registered taskmanager' 'curl -fs "$rest/overview" | grep -q "\"taskmanagers\":1"'
upload=$(curl -fs -X POST -F "jarfile=@$jar" "$rest/jars/upload")
jar_id=$(sed -n 's/.*"filename":"[^"]*\/\([^"/]*\)".*/\1/p' <<<"$upload")
job=$(curl -fs -X POST -H 'Content-Type: application/json' -d '{"parallelism":1}' "$rest/jars/$jar_id/run" | sed -n 's/.*"jobid":"\([0-9a-f]*\)".*/\1/p')
wait_for 'a completed checkpoint' 'curl -fs "$rest/jobs/$job/checkpoints" | grep -q "\"completed\":[1-9]"'
curl -fs -X POST -H 'Content-Type: application/json' -d '{"drain":false}' "$rest/jobs/$job/stop" >/dev/null
wait_for 'the job to stop' 'curl -fs "$rest/jobs/$job" | grep -q "\"state\":\"FINISHED\""'
docker stop "$jm" "$tm" >/dev/null

# Lines of classes from the built-in loaders only: no comments, no @lambda entries, no `source:` (custom
# loaders); ids dropped, since two lists are merged.
echo "# Classes a Fridge JobManager and TaskManager load, for the image's class-data sharing archive."
echo "# Made by docker/class-list.sh from $(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.version"}}' "$image" 2>/dev/null || echo '?') on $(date -u +%F)."
cat "$work/jm.lst" "$work/tm.lst" | grep -v '^#\|^@\|source:' | sed 's/ id: [0-9]*$//' | LC_ALL=C sort -u
