#!/usr/bin/env bash
# A private, throw-away PostgreSQL cluster on loopback for tests and benchmarks.
#   scripts/postgres.sh start [DIR] [PORT]   -> prints the DATABASE_URL to use
#   scripts/postgres.sh stop  [DIR]
# Needs Debian's postgresql package (installed by .ci/run). Runs the server as the `postgres` user
# when started by root, since PostgreSQL refuses to run as root.
set -euo pipefail
cmd=${1:-start}
dir=${2:-/tmp/account-center-pg}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
case "$cmd" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      as_pg "'$bin/initdb' -D '$dir' -A trust -U postgres -E UTF8 --no-locale" >/dev/null
    fi
    if ! as_pg "'$bin/pg_ctl' -D '$dir' status" >/dev/null 2>&1; then
      as_pg "'$bin/pg_ctl' -D '$dir' -l '$dir/server.log' -w -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start" >/dev/null
    fi
    echo "postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "'$bin/pg_ctl' -D '$dir' -m fast stop" >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
