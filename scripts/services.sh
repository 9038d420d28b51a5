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

# --- commands -------------------------------------------------------------------------------

case "${1:-}" in
  up) pg_up ;;
  down) pg_down ;;
  status)
    if pg_running; then echo "postgresql: up ($(pg_url))"; else echo "postgresql: down"; fi ;;
  env) echo "export ALTLAS_TEST_DATABASE_URL=$(pg_url)" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
