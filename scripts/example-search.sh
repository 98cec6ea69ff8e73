#!/usr/bin/env bash
# `npm run example:search`: runs examples/search.ts — typed searches of the example
# deployment that `npm run example` runs in another shell — against its OpenSearch:
# PRIMARY_OPENSEARCH_URL when set, else the example's container (the Docker route), else
# the native services (scripts/services.sh env). Builds first when dist/ is missing or
# older than src/ (the example imports flusso and flusso/search by package name).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "example:search: $*" >&2; }

if [ -z "${PRIMARY_OPENSEARCH_URL:-}" ]; then
  port=""
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    port=$(docker inspect --format '{{if .State.Running}}{{index .Config.Labels "flusso.port"}}{{end}}' flusso-example-opensearch 2>/dev/null || true)
  fi
  if [ -n "$port" ]; then
    PRIMARY_OPENSEARCH_URL=http://127.0.0.1:$port
  elif lines=$(bash scripts/services.sh env 2>/dev/null); then
    eval "$lines"
  else
    say "error: no running example found; start it with 'npm run example' (or set PRIMARY_OPENSEARCH_URL)"
    exit 1
  fi
fi
if [ ! -f dist/search/index.js ] || [ -n "$(find src tsconfig.json tsconfig.build.json package.json -newer dist/search/index.js -print -quit)" ]; then
  say "building (npm run build)"
  npm run build >&2
fi
say "searching $PRIMARY_OPENSEARCH_URL"
PRIMARY_OPENSEARCH_URL=$PRIMARY_OPENSEARCH_URL exec npx tsx examples/search.ts
