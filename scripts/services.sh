#!/usr/bin/env bash
# Real services for altlas's tests, on loopback: `up`, `down`, `status`, `env`.
# Installs what is missing with apt-get (as root, or through sudo), keeps every data file
# under $ALTLAS_SERVICES_DIR, and is quick when everything is already up.
set -euo pipefail

SERVICES_DIR=${ALTLAS_SERVICES_DIR:-/var/tmp/altlas-services}
PG_PORT=${ALTLAS_PG_PORT:-55432}
PG_DB=altlas_test
PG_USER=altlas
PG_PASSWORD=altlas
PG_DATA=$SERVICES_DIR/pg/data
PG_RUN=$SERVICES_DIR/pg/run
PG_LOG=$SERVICES_DIR/pg/postgres.log

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$(dirname "$0")/kafka/pom.xml")
KAFKA_PORT=${ALTLAS_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
KAFKA_HOME=$SERVICES_DIR/kafka
# The broker's jars live outside the repository so they survive fresh clones on this machine.
KAFKA_LIBS=${ALTLAS_CACHE_DIR:-$HOME/.cache/altlas}/kafka-$KAFKA_VERSION/libs

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else die "need root (or sudo) to run: $*"; fi
}

apt_install() {
  log "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null \
    || { as_root apt-get update -q >/dev/null && \
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null; } \
    || die "apt-get install $* failed"
}

# --- PostgreSQL -----------------------------------------------------------------------------

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  printf '%s' "$dir"
}

# Run a PostgreSQL server binary as an unprivileged user: postgres refuses to run as root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ensure_installed() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    apt_install postgresql
  fi
  [ -x "$(pg_bin)/initdb" ] || die "PostgreSQL server binaries not found after install"
}

pg_running() {
  [ -n "$(pg_bin)" ] && [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_up() {
  pg_ensure_installed
  local bin; bin=$(pg_bin)
  mkdir -p "$SERVICES_DIR"
  chmod 755 "$SERVICES_DIR"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $PG_DATA"
    mkdir -p "$PG_DATA" "$PG_RUN"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$SERVICES_DIR/pg"
    as_pg "$bin/initdb" -D "$PG_DATA" --auth=trust --username=postgres --encoding=UTF8 \
      --locale=C.UTF-8 >/dev/null
    cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
# Test cluster: durability is not what the tests measure.
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  if ! pg_running; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null \
      || { tail -n 20 "$PG_LOG" >&2; die "PostgreSQL did not start (log: $PG_LOG)"; }
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='$PG_USER'")" != 1 ]; then
    "${psql[@]}" -c "create role $PG_USER login password '$PG_PASSWORD' createdb"
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='$PG_DB'")" != 1 ]; then
    "${psql[@]}" -c "create database $PG_DB owner $PG_USER"
  fi
  log "PostgreSQL ready: $(pg_url)"
}

pg_down() {
  if pg_running; then
    log "stopping PostgreSQL"
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
  fi
}

pg_url() { printf 'postgresql://%s:%s@127.0.0.1:%s/%s' "$PG_USER" "$PG_PASSWORD" "$PG_PORT" "$PG_DB"; }

# --- Apache Kafka (single-node KRaft broker from Maven Central's jars) ------------------------

kafka_ensure_jars() {
  if [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]; then return; fi
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  local tmp="$KAFKA_LIBS.tmp"
  rm -rf "$tmp"
  mvn -q -B -Dstyle.color=never -f "$(dirname "$0")/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >&2 || die "mvn could not fetch the Kafka jars"
  rm -rf "$KAFKA_LIBS" && mv "$tmp" "$KAFKA_LIBS"
}

kafka_pid() { cat "$KAFKA_HOME/broker.pid" 2>/dev/null || true; }

kafka_running() {
  local pid; pid=$(kafka_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null
}

kafka_up() {
  if kafka_running; then log "Kafka ready: 127.0.0.1:$KAFKA_PORT"; return; fi
  kafka_ensure_jars
  mkdir -p "$KAFKA_HOME"
  local props=$KAFKA_HOME/server.properties
  cat >"$props" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_HOME/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
CONF
  cat >"$KAFKA_HOME/log4j2.properties" <<CONF
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_HOME/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
CONF
  local java_cp="$KAFKA_LIBS/*"
  if [ ! -f "$KAFKA_HOME/data/meta.properties" ]; then
    log "formatting Kafka storage in $KAFKA_HOME/data"
    local cluster_id
    cluster_id=$(java -cp "$java_cp" kafka.tools.StorageTool random-uuid 2>/dev/null)
    java -cp "$java_cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" --standalone \
      >"$KAFKA_HOME/format.log" 2>&1 || { cat "$KAFKA_HOME/format.log" >&2; die "kafka storage format failed"; }
  fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  : >"$KAFKA_HOME/broker.log"
  setsid nohup java -Xms256m -Xmx512m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$KAFKA_HOME/log4j2.properties" \
    -cp "$java_cp" kafka.Kafka "$props" >"$KAFKA_HOME/stdout.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_HOME/broker.pid"
  local waited=0
  until grep -q "Kafka Server started" "$KAFKA_HOME/broker.log" 2>/dev/null && kafka_running; do
    if ! kill -0 "$(kafka_pid)" 2>/dev/null; then
      tail -n 30 "$KAFKA_HOME/stdout.log" "$KAFKA_HOME/broker.log" >&2; die "Kafka exited during start"
    fi
    [ $waited -ge 120 ] && die "Kafka did not start within 60 s (log: $KAFKA_HOME/broker.log)"
    sleep 0.5; waited=$((waited + 1))
  done
  log "Kafka ready: 127.0.0.1:$KAFKA_PORT"
}

kafka_down() {
  local pid; pid=$(kafka_pid)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "stopping Kafka"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$KAFKA_HOME/broker.pid"
}

# --- commands -------------------------------------------------------------------------------

case "${1:-}" in
  up) pg_up; kafka_up ;;
  down) kafka_down; pg_down ;;
  kafka-up) kafka_up ;;
  kafka-down) kafka_down ;;
  status)
    if pg_running; then echo "postgresql: up ($(pg_url))"; else echo "postgresql: down"; fi
    if kafka_running; then echo "kafka $KAFKA_VERSION: up (127.0.0.1:$KAFKA_PORT)"; else echo "kafka: down"; fi ;;
  env)
    echo "export ALTLAS_TEST_DATABASE_URL=$(pg_url)"
    echo "export ALTLAS_TEST_KAFKA=127.0.0.1:$KAFKA_PORT"
    echo "export ALTLAS_SERVICES_SCRIPT=$(cd "$(dirname "$0")" && pwd)/services.sh" ;;
  *) echo "usage: $0 up|down|status|env|kafka-up|kafka-down" >&2; exit 2 ;;
esac
