#!/usr/bin/env bash
# `npm test`: build, typecheck, lint, then every test under test/ (unit + integration) against a real
# PostgreSQL and OpenSearch. Nothing is ever skipped for want of a service: if the
# services cannot be had the run fails (with CI=true or without).
#
# Services (docs/testing.md): FLUSSO_TEST_DATABASE_URL + FLUSSO_TEST_OPENSEARCH_URL when
# both are set; else, when a Docker daemon answers (and FLUSSO_TEST_DOCKER is not 0), the
# harness's globalSetup starts containers for the run (falling back to native itself);
# else `scripts/services.sh up` (idempotent). Native services it starts are left running
# so the next `npm test` starts at once; `scripts/services.sh down` stops them (.ci/run's
# trap does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -n "${FLUSSO_TEST_DATABASE_URL:-}" ] && [ -n "${FLUSSO_TEST_OPENSEARCH_URL:-}" ]; then
  echo "test: services from FLUSSO_TEST_DATABASE_URL / FLUSSO_TEST_OPENSEARCH_URL" >&2
elif [ "${FLUSSO_TEST_DOCKER:-}" != 0 ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  echo "test: a Docker daemon answers: the test harness starts the services in containers (docs/testing.md)" >&2
else
  [ "${CI:-}" = true ] && echo "test: CI=true: services are required; starting them natively" >&2
  want_db=${FLUSSO_TEST_DATABASE_URL:-} want_os=${FLUSSO_TEST_OPENSEARCH_URL:-}
  lines=$(bash scripts/services.sh up) || { echo "test: error: scripts/services.sh up failed; integration tests cannot run" >&2; exit 1; }
  eval "$lines"
  # a variable the caller did set wins over what the script reports
  export FLUSSO_TEST_DATABASE_URL=${want_db:-$FLUSSO_TEST_DATABASE_URL}
  export FLUSSO_TEST_OPENSEARCH_URL=${want_os:-$FLUSSO_TEST_OPENSEARCH_URL}
fi
# The reserved override variables outrank a config's literal URLs (config.md), so an
# ambient DATABASE_URL would point every test's engine at one database. Tests set them
# explicitly when they mean to.
unset DATABASE_URL
for v in $(compgen -v | grep -E '^[A-Z0-9_]+_OPENSEARCH_(URL|USERNAME|PASSWORD)$' | grep -v '^FLUSSO_TEST_'); do unset "$v"; done

# The kill tests drive the real CLI (dist/main.js): build first.
echo "test: build (npm run build)" >&2
npm run build >&2 || { echo "test: build FAILED" >&2; exit 1; }
status=0
echo "test: typecheck (tsc --noEmit)" >&2
npx tsc --noEmit -p tsconfig.json || { status=1; echo "test: typecheck FAILED (running the tests anyway)" >&2; }
echo "test: lint (npm run lint: no floating promises, no any, no unchecked casts in src/)" >&2
npm run --silent lint || { status=1; echo "test: lint FAILED (running the tests anyway)" >&2; }
npx vitest run "$@" || status=1
# vitest's summary above is the last thing printed on success.
[ "$status" -eq 0 ] || echo "test: FAILED (see the typecheck, lint and vitest output above)" >&2
exit "$status"
