#!/bin/bash
# Starts a Flink JobManager or TaskManager JVM in the foreground with the command line Flink's own
# `bin/jobmanager.sh|taskmanager.sh start-foreground` → `bin/flink-console.sh` would build, but with one
# helper JVM instead of four. Flink's scripts start a JVM (BashJavaUtils) to flatten the configuration each
# time config.sh is sourced (twice), one more for `java -XshowSettings` and one for the memory flags. The
# entrypoint has already written a flat configuration and the Java version is in $JAVA_HOME/release, so only
# the memory computation is left to Flink (GET_JM_RESOURCE_PARAMS / GET_TM_RESOURCE_PARAMS, same
# configuration, same arguments). During a redeploy every Flink process of the swarm starts at once, and
# on a Pi 3B each helper JVM costs seconds of CPU the JobManager needs to come up.
#
# usage: launch.sh jobmanager|taskmanager [-D key=value ...]
#        launch.sh --classpath    (the class path it starts Flink with)
# FRIDGE_LAUNCH_CACHE=DIR keeps BashJavaUtils' answer there, for the next start with the same inputs.
# FRIDGE_FLINK_LAUNCHER=flink makes the entrypoint use Flink's scripts instead; a test holds the two
# command lines equal.
set -euo pipefail

FLINK_HOME=${FLINK_HOME:-/opt/flink}
FLINK_CONF_DIR=${FLINK_CONF_DIR:-$FLINK_HOME/conf}
FLINK_BIN_DIR=${FLINK_BIN_DIR:-$FLINK_HOME/bin}
FLINK_LIB_DIR=${FLINK_LIB_DIR:-$FLINK_HOME/lib}
FLINK_OPT_DIR=${FLINK_OPT_DIR:-$FLINK_HOME/opt}
FLINK_PLUGINS_DIR=${FLINK_PLUGINS_DIR:-$FLINK_HOME/plugins}
export FLINK_HOME FLINK_CONF_DIR FLINK_BIN_DIR FLINK_LIB_DIR FLINK_OPT_DIR FLINK_PLUGINS_DIR
conf=$FLINK_CONF_DIR/${FLINK_CONF_FILE:-config.yaml}

die() {
  echo "fridge-launch: $*" >&2
  exit 1
}

# constructFlinkClassPath: every jar under lib/ in sort order, flink-dist last.
flink_classpath() {
  local jar cp='' dist=''
  while IFS= read -r -d '' jar; do
    if [[ "$jar" =~ .*/flink-dist[^/]*.jar$ ]]; then
      [[ -z "$dist" ]] || die "more than one flink-dist*.jar in $FLINK_LIB_DIR"
      dist=$jar
    else
      cp=${cp:+$cp:}$jar
    fi
  done < <(find "$FLINK_LIB_DIR" ! -type d -name '*.jar' -print0 | sort -z)
  [[ -n "$dist" ]] || die "no flink-dist*.jar in $FLINK_LIB_DIR"
  echo "$cp:$dist"
}

# The image build dumps the class-data sharing archive against exactly this class path.
if [[ "${1:-}" == "--classpath" ]]; then
  flink_classpath
  exit 0
fi
role=${1:?usage: launch.sh jobmanager|taskmanager [-D key=value ...] | --classpath}
shift

[[ -r "$conf" ]] || die "no configuration at $conf (the entrypoint writes it)"

# config.sh's readFromConfig over the flat file (last line wins), plus what its YAML flattening does to
# quoted scalars: one pair of outer quotes goes.
conf_value() {
  local v
  v=$(grep "^[ ]*$1[ ]*:" "$conf" | cut -d ':' -f2- | sed 's/^ *//;s/ *$//' | tail -n 1 || true)
  if [[ "$v" =~ ^\"(.*)\"$ || "$v" =~ ^\'(.*)\'$ ]]; then v=${BASH_REMATCH[1]}; fi
  echo "${v:-$2}"
}

# Flink strips one pair of double quotes from option strings.
unquote() { sed -e 's/^"//' -e 's/"$//' <<<"$1"; }

case "$role" in
  jobmanager)
    service=standalonesession
    class=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint
    resource_cmd=GET_JM_RESOURCE_PARAMS
    role_key=jobmanager
    ;;
  taskmanager)
    service=taskexecutor
    class=org.apache.flink.runtime.taskexecutor.TaskManagerRunner
    resource_cmd=GET_TM_RESOURCE_PARAMS
    role_key=taskmanager
    ;;
  *) die "unknown role '$role': jobmanager or taskmanager" ;;
esac

java_home=$(conf_value 'env.java.home' "${JAVA_HOME:-}")
if [[ -n "$java_home" ]]; then export JAVA_HOME=$java_home; fi
if [[ -n "${JAVA_HOME:-}" && -d "$JAVA_HOME" ]]; then JAVA_RUN=$JAVA_HOME/bin/java; else JAVA_RUN=java; fi
export JAVA_RUN

java_major() {
  local v=''
  if [[ -n "${JAVA_HOME:-}" && -r "$JAVA_HOME/release" ]]; then
    v=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$JAVA_HOME/release")
  fi
  [[ -n "$v" ]] || v=$("$JAVA_RUN" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = //p')
  v=${v#1.}
  echo "${v%%[._+-]*}"
}

if [[ -z "${FLINK_ENV_JAVA_OPTS:-}" ]]; then
  opts=$(conf_value 'env.java.opts.all' '')
  [[ -n "$opts" ]] || opts=$(conf_value 'env.java.opts' '')
  FLINK_ENV_JAVA_OPTS="-XX:+IgnoreUnrecognizedVMOptions $(unquote "$(conf_value 'env.java.default-opts.all' '') $opts")"
  major=$(java_major)
  if [[ "$major" =~ ^[0-9]+$ ]] && (( major > 17 )); then FLINK_ENV_JAVA_OPTS="$FLINK_ENV_JAVA_OPTS -Djava.security.manager=allow"; fi
fi
role_opts_var=FLINK_ENV_JAVA_OPTS_$([[ $role == jobmanager ]] && echo JM || echo TM)
role_opts=${!role_opts_var:-}
if [[ -z "$role_opts" ]]; then
  role_opts=$(unquote "$(conf_value "env.java.default-opts.$role_key" '') $(conf_value "env.java.opts.$role_key" '')")
fi
FLINK_ENV_JAVA_OPTS="$FLINK_ENV_JAVA_OPTS $role_opts"

classpath=$(flink_classpath)
dist=${classpath##*:}

# The one helper JVM. Short-lived, so it runs with the cheapest JIT and GC; it sees the same configuration
# directory and arguments as Flink's run would.
run_helper() {
  "$JAVA_RUN" -XX:+IgnoreUnrecognizedVMOptions -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -classpath "$FLINK_BIN_DIR/bash-java-utils.jar:$dist" org.apache.flink.runtime.util.bash.BashJavaUtils \
    "$resource_cmd" --configDir "$FLINK_CONF_DIR" "$@" 2>&1 | tail -n 1000
}
prefix=BASH_JAVA_UTILS_EXEC_RESULT:
valid() { [[ $(grep -c "$prefix" <<<"$1" || true) -eq 2 ]]; }

# BashJavaUtils' answer depends only on the memory and CPU keys of the configuration, the arguments and
# Flink's own jars. A redeploy with a new image usually changes none of them, so the answer is kept in
# $FRIDGE_LAUNCH_CACHE (the stack mounts a volume per node there) and the next start on the node skips the
# helper JVM. At a redeploy every Flink container starts at once, and the helper JVMs alone kept the
# jobmanager's REST API down 2 s longer on the virtual fridge; on a Pi 3B each costs seconds of CPU.
resource_inputs() {
  echo "$resource_cmd"
  printf '%s\n' "$@"
  stat -c '%n %s %Y' "$dist" "$FLINK_BIN_DIR/bash-java-utils.jar"
  grep -E '^[ ]*((jobmanager|taskmanager)\.(memory|heap)\.|taskmanager\.cpu\.cores|taskmanager\.numberOfTaskSlots|external-resource)' "$conf" || true
}
cache_dir=${FRIDGE_LAUNCH_CACHE:-}
cache_file=''
if [[ -n "$cache_dir" ]]; then cache_file=$cache_dir/$resource_cmd-$(resource_inputs "$@" | sha256sum | cut -c1-32); fi
helper_output=''
if [[ -n "$cache_file" && -r "$cache_file" ]]; then
  helper_output=$(cat "$cache_file")
  if valid "$helper_output"; then
    echo "fridge-launch: memory and CPU flags from $cache_file (Flink's BashJavaUtils $resource_cmd, same inputs)"
  else
    helper_output=''
  fi
fi
if [[ -z "$helper_output" ]]; then
  helper_output=$(run_helper "$@") || true
  if [[ -n "$cache_file" ]] && valid "$helper_output"; then
    # Another container of the node may write the same answer at the same time: rename, never a partial file.
    if { mkdir -p "$cache_dir" && printf '%s\n' "$helper_output" >"$cache_file.$$" && mv -f "$cache_file.$$" "$cache_file"; } 2>/dev/null; then
      find "$cache_dir" -maxdepth 1 -name "$resource_cmd-*" ! -name "${cache_file##*/}" ! -name '*.*' -delete 2>/dev/null || true
    else
      rm -f "$cache_file.$$" 2>/dev/null || true
    fi
  fi
fi
results=$(grep "$prefix" <<<"$helper_output" || true)
if ! valid "$results"; then
  echo "fridge-launch: Flink's BashJavaUtils $resource_cmd did not give JVM parameters and dynamic configuration:" >&2
  echo "$helper_output" >&2
  exit 1
fi
results=${results//$prefix/}
jvm_params=$(head -n 1 <<<"$results")
dynamic_params=$(tail -n 1 <<<"$results")
JVM_ARGS="${JVM_ARGS:-} $jvm_params"
# Class-data sharing: Flink's and the JDK's classes pre-parsed and pre-verified at image build (Dockerfile),
# mapped instead of loaded. A JVM that cannot use the archive (other flags, other class path) ignores it.
cds_archive=${FRIDGE_CDS_ARCHIVE:-$FLINK_HOME/cds/flink.jsa}
if [[ -r "$cds_archive" && "$cds_archive" != off ]]; then JVM_ARGS="$JVM_ARGS -XX:SharedArchiveFile=$cds_archive"; fi
export FLINK_INHERITED_LOGS="
${FLINK_INHERITED_LOGS:-}

RESOURCE_PARAMS extraction logs:
jvm_params: $jvm_params
dynamic_configs: $dynamic_params
logs: $(grep -v "$prefix" <<<"$helper_output" || true)
"

# Word splitting of the dynamic parameters is intended: `-D key=value` pairs, as Flink's scripts split them.
# shellcheck disable=SC2206
if [[ $role == jobmanager ]]; then
  args=($dynamic_params --configDir "$FLINK_CONF_DIR" "$@")
else
  args=(--configDir "$FLINK_CONF_DIR" $dynamic_params "$@")
fi

: "${MAX_LOG_FILE_NUMBER:=$(conf_value 'env.log.max' 10 | sed -e "s/^'//" -e "s/'$//")}"
: "${ROOT_LOG_LEVEL:=$(conf_value 'env.log.level' INFO)}"
: "${STD_REDIRECT_TO_FILE:=$(conf_value 'env.stdout-err.redirect-to-file' false)}"
: "${FLINK_LOG_DIR:=$(conf_value 'env.log.dir' "$FLINK_HOME/log")}"
: "${FLINK_PID_DIR:=$(conf_value 'env.pid.dir' /tmp)}"
: "${HADOOP_CONF_DIR:=$(conf_value 'env.hadoop.conf.dir' '')}"
: "${YARN_CONF_DIR:=$(conf_value 'env.yarn.conf.dir' '')}"
: "${HBASE_CONF_DIR:=$(conf_value 'env.hbase.conf.dir' '')}"
export MAX_LOG_FILE_NUMBER ROOT_LOG_LEVEL
hadoop_classpath="${HADOOP_CLASSPATH:-}:$HADOOP_CONF_DIR:$YARN_CONF_DIR${HBASE_CONF_DIR:+:$HBASE_CONF_DIR}"

# flink-console.sh numbers instances by the pid file; a container runs one, but keep the names Flink gives.
ident=${FLINK_IDENT_STRING:-${USER:-}}
mkdir -p "$FLINK_PID_DIR"
pid_file=$FLINK_PID_DIR/flink-$ident-$service.pid
id=0
if [[ -f "$pid_file" ]]; then
  alive=0
  while read -r p; do kill -0 "$p" 2>/dev/null && alive=1; done <"$pid_file"
  if (( alive )); then id=$(wc -l <"$pid_file"); else rm -f "$pid_file"; fi
fi
FLINK_LOG_PREFIX="$FLINK_LOG_DIR/flink-$ident-$service-$id-$HOSTNAME"
log_setting=("-Dlog.file=$FLINK_LOG_PREFIX.log" "-Dlog4j.configuration=file:$FLINK_CONF_DIR/log4j-console.properties" "-Dlog4j.configurationFile=file:$FLINK_CONF_DIR/log4j-console.properties" "-Dlogback.configurationFile=file:$FLINK_CONF_DIR/logback-console.xml")

echo "Starting $service as a console application on host $HOSTNAME."
echo $$ >>"$pid_file" 2>/dev/null || true

# Flink expands ${...} in user options (for example -Xloggc:${FLINK_LOG_PREFIX}.gc) the same way.
set +u
FLINK_ENV_JAVA_OPTS=$(eval echo ${FLINK_ENV_JAVA_OPTS})
set -u

if [[ "$STD_REDIRECT_TO_FILE" == "true" ]]; then
  log_setting=("-Dconsole.log.level=OFF" "${log_setting[@]}")
  exec 1>"$FLINK_LOG_PREFIX.out"
  exec 2>"$FLINK_LOG_PREFIX.err"
fi

# shellcheck disable=SC2086
exec "$JAVA_RUN" $JVM_ARGS ${FLINK_ENV_JAVA_OPTS} "${log_setting[@]}" -classpath "$classpath::$hadoop_classpath" $class "${args[@]}"
