#!/usr/bin/env bash
# `npm run example`: the README's first command. Brings up PostgreSQL + OpenSearch
# (scripts/services.sh), loads examples/seed.sql (a small shop: users with profiles,
# addresses, orders → items → products, tags) into the database flusso_example, builds
# if needed and runs the example flusso.config.ts in the foreground (Ctrl-C stops it;
# the services keep running until `scripts/services.sh down`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "example: $*" >&2; }

lines=$(bash scripts/services.sh up) || { say "error: scripts/services.sh up failed"; exit 1; }
eval "$lines"   # DATABASE_URL (the postgres database), PRIMARY_OPENSEARCH_URL

PSQL=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)
admin_url=$DATABASE_URL
example_url="${admin_url%/*}/flusso_example"
if [ -z "$("$PSQL" "$admin_url" -tAc "select 1 from pg_database where datname = 'flusso_example'")" ]; then
  "$PSQL" "$admin_url" -q -c "create database flusso_example"
fi
"$PSQL" "$example_url" -q -v ON_ERROR_STOP=1 -f examples/seed.sql

# Build when dist/ is missing or any source is newer than it.
if [ ! -f dist/main.js ] || [ -n "$(find src tsconfig.json tsconfig.build.json package.json -newer dist/main.js -print -quit)" ]; then
  say "building (npm run build)"
  npm run build >&2
fi

say "syncing flusso_example → $PRIMARY_OPENSEARCH_URL (Ctrl-C to stop). In another shell:"
say "  curl -s '$PRIMARY_OPENSEARCH_URL/users/_doc/1?pretty'"
say "  curl -s '$PRIMARY_OPENSEARCH_URL/users/_search?q=fullName:ada&pretty'"
say "  $PSQL $example_url -c \"update users set full_name = 'Ada King' where id = 1\""
say "  $PSQL $example_url -c \"update items set quantity = 9 where id = 1\"   # nested: user 1's order SO-00001"
export DATABASE_URL=$example_url PRIMARY_OPENSEARCH_URL
exec node dist/main.js run --config flusso.config.ts
