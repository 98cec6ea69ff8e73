#!/bin/bash
# Entrypoint of local/postgres:15, the PostgreSQL image built from Debian packages
# (scripts/images/postgres.sh). It answers the same command and env as the official
# `postgres` image for what the test harness passes, so the harness treats both alike:
#   postgres [server args]   initialise $PGDATA as the postgres user when it is empty
#                            (POSTGRES_HOST_AUTH_METHOD=trust, or POSTGRES_PASSWORD), then
#                            run the server in the foreground with those args (-p PORT, -c …)
#   anything else            run as given (e.g. `bash`)
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
die() { echo "entrypoint: error: $*" >&2; exit 1; }
# setpriv execs in place (runuser/su would stay as PID 1's parent and swallow signals).
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

if [ $# -eq 0 ] || [ "$1" = postgres ] || [ "${1:0:1}" = - ]; then
  [ "${1:-}" = postgres ] && shift
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user=${POSTGRES_USER:-postgres}
    if [ "${POSTGRES_HOST_AUTH_METHOD:-}" = trust ]; then
      as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U "$user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      auth=trust
    elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
      pwfile=$(mktemp); printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"; chown postgres "$pwfile"
      as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U "$user" --auth=scram-sha-256 --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$pwfile"
      auth=scram-sha-256
    else
      die "set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust (the official image asks the same)"
    fi
    # As the official image: clients from other hosts (a bridge network) may connect too.
    echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
    echo "entrypoint: initialised $PGDATA (auth $auth)" >&2
  fi
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/postgres" -D "$PGDATA" "$@"
fi
exec "$@"
