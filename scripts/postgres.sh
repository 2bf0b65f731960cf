#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: a fresh cluster in a temp folder, listening on
# a free port of 127.0.0.1 only, run by a non-root user (`postgres` when called as root).
#
#   scripts/postgres.sh start        prints MP_PG_DIR=<folder> then DATABASE_URL=<url> (last)
#   scripts/postgres.sh stop [DIR]   stops the server and removes DIR (default: $MP_PG_DIR)
#   scripts/postgres.sh pause DIR    stops the server but keeps its data (a database outage)
#   scripts/postgres.sh resume DIR   starts it again, on the same port
#
# Installs Debian's postgresql package when no server is installed (needs root for that).
# Progress and errors go to stderr.
set -euo pipefail
shopt -s inherit_errexit

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

pg_bindir() {
  local initdb
  initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)
  [[ -x $initdb ]] && dirname "$initdb"
}

ensure_installed() {
  pg_bindir >/dev/null && return 0
  [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; run as root once, or: apt-get install -y postgresql"
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show postgresql >/dev/null 2>&1; then
    apt-get update -qq >&2
  fi
  apt-get install -y -qq --no-install-recommends postgresql >&2
  pg_bindir >/dev/null || die "postgresql was installed but no initdb was found under /usr/lib/postgresql"
}

run_user() {
  if [[ $EUID -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 ||
      useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
    echo postgres
  else
    id -un
  fi
}

# Runs a PostgreSQL program as the non-root user, from a folder that user can enter.
as_pg() {
  local dir=$1
  shift
  if [[ $EUID -eq 0 ]]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cluster_dir() {
  local dir=${1:-${MP_PG_DIR:-}}
  [[ -n $dir ]] || die "no folder given (and MP_PG_DIR is not set)"
  [[ -f $dir/data/PG_VERSION ]] || die "$dir does not hold a cluster made by postgres.sh"
  echo "$dir"
}

server_start() {
  as_pg "$1" "$(pg_bindir)/pg_ctl" --pgdata="$1/data" --log="$1/server.log" --wait --timeout=60 start >&2
}

server_stop() {
  [[ -f $1/data/postmaster.pid ]] || return 0
  as_pg "$1" "$(pg_bindir)/pg_ctl" --pgdata="$1/data" --mode=fast --wait --timeout=30 stop >&2
}

start() {
  ensure_installed
  local bin user dir port attempt
  bin=$(pg_bindir)
  user=$(run_user)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/mp-pg.XXXXXX")
  chmod 755 "$dir"
  if [[ $EUID -eq 0 ]]; then chown "$user:" "$dir"; fi

  as_pg "$dir" "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=trust \
    --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed"; }

  # The settings live in the cluster so that `resume` starts it the same way.
  as_pg "$dir" tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
include_if_exists = 'port.conf'
CONF

  # Another process can take the free port between the check and the bind: try a few.
  for attempt in 1 2 3; do
    port=$(free_port)
    echo "port = $port" | as_pg "$dir" tee "$dir/data/port.conf" >/dev/null
    if server_start "$dir"; then
      break
    fi
    if [[ $attempt -eq 3 ]]; then
      tail -20 "$dir/server.log" >&2
      rm -rf "$dir"
      die "the server did not start"
    fi
    log "start on port $port failed, trying another port"
  done

  as_pg "$dir" "$bin/createdb" --host=127.0.0.1 --port="$port" --username=postgres todo ||
    { stop "$dir"; die "createdb failed"; }
  log "running as $user on 127.0.0.1:$port, data in $dir/data"
  echo "MP_PG_DIR=$dir"
  echo "DATABASE_URL=postgresql://postgres@127.0.0.1:$port/todo"
}

stop() {
  local dir=${1:-${MP_PG_DIR:-}}
  [[ -n $dir ]] || die "usage: postgres.sh stop DIR (or set MP_PG_DIR)"
  [[ -d $dir ]] || { log "$dir does not exist: nothing to stop"; return 0; }
  dir=$(cluster_dir "$dir")
  server_stop "$dir" || log "pg_ctl stop failed"
  rm -rf "$dir"
}

case ${1:-} in
  start) start ;;
  stop) stop "${2:-}" ;;
  pause) server_stop "$(cluster_dir "${2:-}")" ;;
  resume) server_start "$(cluster_dir "${2:-}")" ;;
  *) die "usage: postgres.sh start | stop [DIR] | pause DIR | resume DIR" ;;
esac
