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

SSH_PORT=${ALTLAS_SSH_PORT:-52222}
SSH_USER=altlas-test
SSH_DIR=$SERVICES_DIR/ssh
PROM_PORT=${ALTLAS_PROMETHEUS_PORT:-59090}
NODE_PORT=$((PROM_PORT + 10))
AM_PORT=$((PROM_PORT + 13))
# Where the real Alertmanager sends its webhook: an altlas the end-to-end test serves there.
RECEIVER_PORT=$((PROM_PORT + 20))
# Alertmanager proves itself with this bearer token (testkit/helpers.py ALERTMANAGER_TOKEN).
AM_TOKEN=tok-alertmanager-7f3a
PROM_DIR=$SERVICES_DIR/prometheus
TEXTFILE_DIR=$PROM_DIR/textfile

WEAVIATE_VERSION=1.35.2
WEAVIATE_PORT=${ALTLAS_WEAVIATE_PORT:-58080}
WEAVIATE_GRPC_PORT=$((WEAVIATE_PORT - 29))
WEAVIATE_DIR=$SERVICES_DIR/weaviate
# Built from its Go module once per machine; the binary lives outside the repository.
WEAVIATE_BIN=${ALTLAS_CACHE_DIR:-$HOME/.cache/altlas}/weaviate-$WEAVIATE_VERSION/weaviate-server

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else die "need root (or sudo) to run: $*"; fi
}

apt_install() {
  log "installing $* with apt-get"
  # Packaged services must not start on their own: the peers below run as our processes.
  local added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
  as_root "${apt[@]}" install -y -q --no-install-recommends "$@" >/dev/null \
    || { as_root "${apt[@]}" update -q >/dev/null && \
         as_root "${apt[@]}" install -y -q --no-install-recommends "$@" >/dev/null; } \
    || { [ -n "$added_policy" ] && as_root rm -f /usr/sbin/policy-rc.d; die "apt-get install $* failed"; }
  [ -n "$added_policy" ] && as_root rm -f /usr/sbin/policy-rc.d
  return 0
}

# pid_alive PIDFILE PATTERN: the pid file names a live process whose command line has PATTERN.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# stop_pidfile PIDFILE PATTERN: TERM, up to 10 s, then KILL.
stop_pidfile() {
  if pid_alive "$1" "$2"; then
    local pid; pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$1"
}

# spawn PIDFILE LOG CMD...: run CMD detached in its own session; the pid file gets its real pid.
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  for _ in $(seq 50); do [ -s "$pidfile" ] && return 0; sleep 0.02; done
  return 1
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
    if [ $waited -ge 240 ]; then  # a cold machine's first start can take a minute
      kill "$(kafka_pid)" 2>/dev/null || true  # never leave a half-started broker holding the ports
      die "Kafka did not start within 120 s (log: $KAFKA_HOME/broker.log)"
    fi
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

# --- OpenSSH server (a real sshd on loopback, its own host key, a test user) -----------------

ssh_running() { pid_alive "$SSH_DIR/sshd.pid" "$SSH_DIR/sshd_config"; }

ssh_setup() {
  mkdir -p "$SSH_DIR" && chmod 755 "$SERVICES_DIR" "$SSH_DIR"
  id "$SSH_USER" >/dev/null 2>&1 || \
    as_root useradd --create-home --shell /bin/bash --user-group "$SSH_USER"
  # useradd locks the account ('!'), and with UsePAM no sshd refuses even keys for it.
  if as_root getent shadow "$SSH_USER" | cut -d: -f2 | grep -q '^!'; then
    as_root usermod -p '*' "$SSH_USER"
  fi
  [ -f "$SSH_DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C altlas-test-host -f "$SSH_DIR/host_key"
  [ -f "$SSH_DIR/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C altlas-test-client -f "$SSH_DIR/client_key"
  chmod 600 "$SSH_DIR/host_key" "$SSH_DIR/client_key"
  install -m 644 "$SSH_DIR/client_key.pub" "$SSH_DIR/authorized_keys"
  printf '[127.0.0.1]:%s,[localhost]:%s %s\n' "$SSH_PORT" "$SSH_PORT" \
    "$(cut -d' ' -f1,2 "$SSH_DIR/host_key.pub")" >"$SSH_DIR/known_hosts"
  cat >"$SSH_DIR/sshd_config" <<CONF
ListenAddress 127.0.0.1:$SSH_PORT
AddressFamily inet
HostKey $SSH_DIR/host_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
# the keys live under a world-writable parent (/var/tmp); StrictModes would refuse them
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $SSH_USER
AllowTcpForwarding no
X11Forwarding no
UseDNS no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 50
LogLevel VERBOSE
CONF
}

ssh_up() {
  if ssh_running; then log "sshd ready: $SSH_USER@127.0.0.1:$SSH_PORT"; return; fi
  [ -x /usr/sbin/sshd ] || apt_install openssh-server
  ssh_setup
  as_root mkdir -p /run/sshd && as_root chmod 755 /run/sshd
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" || die "sshd_config is invalid"
  log "starting sshd on 127.0.0.1:$SSH_PORT"
  as_root /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log"
  for _ in $(seq 100); do
    ssh -q -i "$SSH_DIR/client_key" -p "$SSH_PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
      -o ConnectTimeout=2 -o UserKnownHostsFile="$SSH_DIR/known_hosts" \
      -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
      "$SSH_USER@127.0.0.1" true </dev/null && { log "sshd ready: $SSH_USER@127.0.0.1:$SSH_PORT"; return; }
    sleep 0.1
  done
  die "sshd does not accept the test key (log: $SSH_DIR/sshd.log)"
}

ssh_down() { stop_pidfile "$SSH_DIR/sshd.pid" "$SSH_DIR/sshd_config"; }

# --- Prometheus and Alertmanager, a node exporter with a textfile collector ------------------
# (Debian packages, run as our processes). The tests set `altlas_test_signal` in the textfile
# directory; a rule fires on it within seconds and Alertmanager posts to RECEIVER_PORT.

prom_running() { pid_alive "$PROM_DIR/prometheus.pid" "$PROM_DIR/prometheus-am.yml"; }
node_running() { pid_alive "$PROM_DIR/node_exporter.pid" "textfile.directory=$TEXTFILE_DIR"; }
am_running() { pid_alive "$PROM_DIR/alertmanager.pid" "$PROM_DIR/alertmanager.yml"; }

am_up() {
  [ -x /usr/bin/prometheus-alertmanager ] || apt_install prometheus-alertmanager
  if am_running; then log "Alertmanager ready: http://127.0.0.1:$AM_PORT"; return; fi
  cat >"$PROM_DIR/alertmanager.yml" <<CONF
route:
  receiver: altlas
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: altlas
    webhook_configs:
      - url: http://127.0.0.1:$RECEIVER_PORT/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization: {credentials: $AM_TOKEN}
CONF
  rm -rf "$PROM_DIR/alertmanager" "$PROM_DIR/alertmanager.pid"
  mkdir -p "$PROM_DIR/alertmanager"
  log "starting Alertmanager on 127.0.0.1:$AM_PORT (webhook to :$RECEIVER_PORT)"
  spawn "$PROM_DIR/alertmanager.pid" "$PROM_DIR/alertmanager.log" \
    /usr/bin/prometheus-alertmanager --config.file="$PROM_DIR/alertmanager.yml" \
    --storage.path="$PROM_DIR/alertmanager" --web.listen-address="127.0.0.1:$AM_PORT" \
    --cluster.listen-address= --log.level=warn || die "Alertmanager did not start"
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$AM_PORT/-/ready" 2>/dev/null \
      && { log "Alertmanager ready: http://127.0.0.1:$AM_PORT"; return; }
    sleep 0.1
  done
  die "Alertmanager is not ready after 30 s (log: $PROM_DIR/alertmanager.log)"
}

prom_up() {
  [ -x /usr/bin/prometheus ] || apt_install prometheus
  [ -x /usr/bin/prometheus-node-exporter ] || apt_install prometheus-node-exporter
  mkdir -p "$PROM_DIR" "$TEXTFILE_DIR"
  # quiet until a test raises it
  printf 'altlas_test_signal{service="web"} 0\n' >"$TEXTFILE_DIR/altlas.prom"
  if ! node_running; then
    stop_pidfile "$PROM_DIR/node_exporter.pid" "127.0.0.1:$NODE_PORT"
    rm -f "$PROM_DIR/node_exporter.pid"
    spawn "$PROM_DIR/node_exporter.pid" "$PROM_DIR/node_exporter.log" \
      /usr/bin/prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" \
      --collector.disable-defaults --collector.filesystem --collector.loadavg \
      --collector.meminfo --collector.cpu --collector.uname --collector.textfile \
      --collector.textfile.directory="$TEXTFILE_DIR" --web.disable-exporter-metrics \
      --log.level=warn || die "node exporter did not start"
  fi
  am_up
  if prom_running; then log "Prometheus ready: http://127.0.0.1:$PROM_PORT"; return; fi
  stop_pidfile "$PROM_DIR/prometheus.pid" "$PROM_DIR/prometheus.yml"  # one of an older layout
  cat >"$PROM_DIR/rules.yml" <<CONF
groups:
  - name: altlas-test
    interval: 1s
    rules:
      - alert: AltlasTestSignalHigh
        expr: altlas_test_signal > 0
        labels: {severity: page}
        annotations: {summary: "the test signal of {{ \$labels.service }} is {{ \$value }}",
                      altlas: "restart nginx on web-1"}
CONF
  cat >"$PROM_DIR/prometheus-am.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['$PROM_DIR/rules.yml']
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$AM_PORT']
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$NODE_PORT']
        labels: {host: localhost}
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$PROM_PORT']
CONF
  # a fresh database per start: a restarted server would otherwise answer from old samples
  rm -rf "$PROM_DIR/data" "$PROM_DIR/prometheus.pid" && mkdir -p "$PROM_DIR/data"
  log "starting Prometheus on 127.0.0.1:$PROM_PORT (scraping a node exporter on :$NODE_PORT)"
  spawn "$PROM_DIR/prometheus.pid" "$PROM_DIR/prometheus.log" /usr/bin/prometheus \
    --config.file="$PROM_DIR/prometheus-am.yml" --storage.tsdb.path="$PROM_DIR/data" \
    --storage.tsdb.retention.time=1d --web.listen-address="127.0.0.1:$PROM_PORT" \
    --log.level=warn || die "Prometheus did not start"
  # ready = this server has scraped the exporter (it applies targets on a 5 s timer)
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/targets?state=active" 2>/dev/null \
      | grep -q '"scrapePool":"node"[^}]*"health":"up"' \
      && { log "Prometheus ready: http://127.0.0.1:$PROM_PORT"; return; }
    sleep 0.1
  done
  die "Prometheus has not scraped the exporter in 30 s (log: $PROM_DIR/prometheus.log)"
}

prom_down() {
  stop_pidfile "$PROM_DIR/prometheus.pid" "$PROM_DIR/prometheus-am.yml"
  stop_pidfile "$PROM_DIR/alertmanager.pid" "$PROM_DIR/alertmanager.yml"
  stop_pidfile "$PROM_DIR/node_exporter.pid" "textfile.directory=$TEXTFILE_DIR"
}

# --- Weaviate, built from its Go module (github.com/weaviate/weaviate) -------------------------

weaviate_running() { pid_alive "$WEAVIATE_DIR/weaviate.pid" "--port $WEAVIATE_PORT"; }

weaviate_build() {
  [ -x "$WEAVIATE_BIN" ] && return 0
  command -v go >/dev/null 2>&1 || die "Go is needed to build Weaviate (go install)"
  log "building Weaviate $WEAVIATE_VERSION from its Go module (once per machine, ~10 min)"
  local gobin; gobin=$(dirname "$WEAVIATE_BIN")
  mkdir -p "$gobin"
  GOBIN="$gobin" go install \
    "github.com/weaviate/weaviate/cmd/weaviate-server@v$WEAVIATE_VERSION" \
    || die "go install of Weaviate $WEAVIATE_VERSION failed"
}

weaviate_up() {
  weaviate_build
  mkdir -p "$WEAVIATE_DIR"
  if ! weaviate_running; then
    # a fresh database per start, like Prometheus: tests make their own collections
    rm -rf "$WEAVIATE_DIR/data" "$WEAVIATE_DIR/weaviate.pid"
    log "starting Weaviate $WEAVIATE_VERSION on 127.0.0.1:$WEAVIATE_PORT (gRPC :$WEAVIATE_GRPC_PORT)"
    spawn "$WEAVIATE_DIR/weaviate.pid" "$WEAVIATE_DIR/weaviate.log" env \
      AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true PERSISTENCE_DATA_PATH="$WEAVIATE_DIR/data" \
      DEFAULT_VECTORIZER_MODULE=none ENABLE_MODULES= DISABLE_TELEMETRY=true \
      CLUSTER_HOSTNAME=altlas-test CLUSTER_ADVERTISE_ADDR=127.0.0.1 \
      CLUSTER_GOSSIP_BIND_PORT=$((WEAVIATE_PORT + 1)) CLUSTER_DATA_BIND_PORT=$((WEAVIATE_PORT + 2)) \
      RAFT_PORT=$((WEAVIATE_PORT + 3)) RAFT_INTERNAL_RPC_PORT=$((WEAVIATE_PORT + 4)) \
      RAFT_BOOTSTRAP_EXPECT=1 GRPC_PORT=$WEAVIATE_GRPC_PORT LOG_LEVEL=warning \
      GOMAXPROCS=2 LIMIT_RESOURCES=true \
      "$WEAVIATE_BIN" --host 127.0.0.1 --port "$WEAVIATE_PORT" --scheme http \
      || die "Weaviate did not start"
  fi
  for _ in $(seq 900); do
    curl -fsS -o /dev/null "http://127.0.0.1:$WEAVIATE_PORT/v1/.well-known/ready" 2>/dev/null \
      && { log "Weaviate ready: http://127.0.0.1:$WEAVIATE_PORT"; return; }
    weaviate_running || die "Weaviate exited (log: $WEAVIATE_DIR/weaviate.log)"
    sleep 0.1
  done
  die "Weaviate is not ready after 90 s (log: $WEAVIATE_DIR/weaviate.log)"
}

weaviate_down() { stop_pidfile "$WEAVIATE_DIR/weaviate.pid" "--port $WEAVIATE_PORT"; }

# --- Chromium (the dashboard's browser tests) -------------------------------------------------
# Debian's own build: Playwright drives it (executable_path), so nothing downloads a browser.
chromium_ensure() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || apt_install chromium chromium-driver
}

# --- commands -------------------------------------------------------------------------------

# --- Ports ------------------------------------------------------------------------------------
# Our ports lie in the kernel's ephemeral range: while a service is down (a test stops the
# broker), a client's outgoing connection may be given its port, and the service cannot listen
# there again until that connection ends. Reserved ports are never handed out that way.
reserve_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports ours merged
  ours="$PG_PORT,$KAFKA_PORT,$KAFKA_CONTROLLER_PORT,$SSH_PORT,$PROM_PORT,$NODE_PORT,$AM_PORT"
  ours="$ours,$RECEIVER_PORT,$WEAVIATE_PORT,$WEAVIATE_GRPC_PORT"
  [ -r "$file" ] || { log "cannot reserve ports: no $file"; return 0; }
  merged=$(printf '%s,%s' "$(cat "$file")" "$ours" | tr ',' '\n' | sed '/^$/d' | sort -nu | paste -sd,)
  [ "$merged" = "$(cat "$file")" ] && return 0
  if printf '%s\n' "$merged" | as_root tee "$file" >/dev/null 2>&1; then
    log "reserved the test ports ($ours) from the ephemeral range"
  else
    log "could not reserve the test ports ($ours): a stopped service may find its port taken"
  fi
}

case "${1:-}" in
  up) reserve_ports; chromium_ensure; pg_up; kafka_up; ssh_up; prom_up; weaviate_up ;;
  down) weaviate_down; prom_down; ssh_down; kafka_down; pg_down ;;
  weaviate-up) weaviate_up ;;
  weaviate-down) weaviate_down ;;
  kafka-up) reserve_ports; kafka_up ;;
  kafka-down) kafka_down ;;
  status)
    if pg_running; then echo "postgresql: up ($(pg_url))"; else echo "postgresql: down"; fi
    if kafka_running; then echo "kafka $KAFKA_VERSION: up (127.0.0.1:$KAFKA_PORT)"; else echo "kafka: down"; fi
    if ssh_running; then echo "sshd: up ($SSH_USER@127.0.0.1:$SSH_PORT)"; else echo "sshd: down"; fi
    if prom_running; then echo "prometheus: up (http://127.0.0.1:$PROM_PORT)"; else echo "prometheus: down"; fi
    if am_running; then echo "alertmanager: up (http://127.0.0.1:$AM_PORT)"; else echo "alertmanager: down"; fi
    if weaviate_running; then echo "weaviate $WEAVIATE_VERSION: up (http://127.0.0.1:$WEAVIATE_PORT)"; else echo "weaviate: down"; fi ;;
  env)
    echo "export ALTLAS_TEST_DATABASE_URL=$(pg_url)"
    echo "export ALTLAS_TEST_KAFKA=127.0.0.1:$KAFKA_PORT"
    echo "export ALTLAS_TEST_SSH=$SSH_USER@127.0.0.1:$SSH_PORT"
    echo "export ALTLAS_TEST_SSH_DIR=$SSH_DIR"
    echo "export ALTLAS_TEST_PROMETHEUS=http://127.0.0.1:$PROM_PORT"
    echo "export ALTLAS_TEST_ALERTMANAGER=http://127.0.0.1:$AM_PORT"
    echo "export ALTLAS_TEST_ALERT_RECEIVER_PORT=$RECEIVER_PORT"
    echo "export ALTLAS_TEST_TEXTFILE_DIR=$TEXTFILE_DIR"
    echo "export ALTLAS_TEST_WEAVIATE=http://127.0.0.1:$WEAVIATE_PORT"
    echo "export ALTLAS_TEST_WEAVIATE_GRPC=$WEAVIATE_GRPC_PORT"
    echo "export ALTLAS_SERVICES_SCRIPT=$(cd "$(dirname "$0")" && pwd)/services.sh" ;;
  *) echo "usage: $0 up|down|status|env|kafka-up|kafka-down|weaviate-up|weaviate-down" >&2; exit 2 ;;
esac
