#!/usr/bin/env bash
# A Docker daemon for the test harness's container route (docs/testing.md).
#
#   scripts/docker.sh up       make sure a daemon answers: use a running one, else start dockerd
#   scripts/docker.sh status   exit 0 when a daemon answers
#   scripts/docker.sh down     stop the dockerd this script started (never someone else's)
#
# The dockerd it starts suits a bare CI machine: vfs storage (works on any filesystem,
# inside containers too), no iptables and no default bridge — so containers run with
# host networking (FLUSSO_TEST_DOCKER_NETWORK=host). FLUSSO_DOCKERD_ARGS replaces those
# flags. Needs dockerd (apt-get install docker.io) and root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${FLUSSO_DOCKER_STATE_DIR:-/tmp/flusso-docker}"
PID_FILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
DEFAULT_ARGS="--storage-driver=vfs --iptables=false --bridge=none"

log() { echo "docker: $*" >&2; }
die() { echo "docker: error: $*" >&2; exit 1; }

answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

ours_running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

up() {
  command -v docker >/dev/null || die "the docker CLI is missing (apt-get install docker.io)"
  if answers; then
    log "a daemon answers ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
    return 0
  fi
  command -v dockerd >/dev/null || die "no daemon answers and dockerd is missing (apt-get install docker.io)"
  [ "$(id -u)" -eq 0 ] || die "no daemon answers; starting dockerd needs root"
  mkdir -p "$STATE"
  if ! ours_running; then
    # shellcheck disable=SC2086 # the flags are a word list on purpose
    nohup dockerd ${FLUSSO_DOCKERD_ARGS:-$DEFAULT_ARGS} >"$LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$PID_FILE"
    log "started dockerd (pid $(cat "$PID_FILE"), log $LOG)"
  fi
  for _ in $(seq 1 60); do
    if answers; then
      log "daemon up ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
      return 0
    fi
    ours_running || break
    sleep 0.5
  done
  tail -20 "$LOG" >&2 || true
  die "dockerd did not answer (log: $LOG)"
}

down() {
  ours_running || { rm -f "$PID_FILE"; return 0; }
  local pid; pid=$(cat "$PID_FILE")
  # Test containers are stopped by the harness; anything left over (a killed run) goes
  # with the daemon we own.
  local left; left=$(docker ps -q --filter label=flusso.test 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1 || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
  log "stopped dockerd"
}

cd "$ROOT"
case "${1:-}" in
  up) up ;;
  status) answers ;;
  down) down ;;
  *) echo "usage: $0 up|status|down" >&2; exit 2 ;;
esac
