#!/usr/bin/env bash
# Fetch the Debian source package of libvirt and unpack it into a git-ignored cache, so the
# runner can read libvirt's own tests/ at run time. Nothing of libvirt is committed.
#
#   scripts/fetch-libvirt-tests.sh              the installed libvirt (dpkg), from the machine's suites
#                                               (plus backports when it came from there)
#   scripts/fetch-libvirt-tests.sh 11.3.0       an upstream version: looked up in the machine's
#                                               suites plus bookworm-backports and trixie
#   scripts/fetch-libvirt-tests.sh 11.3.0-3+deb13u3   an exact Debian version
#
# apt's own configuration is never changed: a private source list and list directory live under
# the cache. Success is judged by the orig tarball being there, not by apt's exit status: for
# some versions the archive reached here serves the tarball but answers 404 for the .dsc.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/debs.sh"
cache="$top/.cache/libvirt-src"
fallback="9.0.0-4+deb12u2"
die() { echo "fetch-libvirt-tests: ERROR: $*" >&2; exit 1; }

version="${1:-}"
extra_suites=()
if [ -z "$version" ]; then
  version=$(dpkg-query -W -f='${Version}' libvirt-clients 2>/dev/null || true)
  [ -n "$version" ] || version="$fallback"
  # libvirt installed from backports (npm run setup -- --libvirt backports): its source is there.
  case "$version" in *~bpo*) extra_suites=("$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")-backports") ;; esac
else
  # Newer libvirt than the machine's release carries: these suites hold 11.3.0 (checked 2026-11).
  extra_suites=(bookworm-backports trixie)
fi
upstream="${version%%-*}"
upstream="${upstream#*:}"
dest="$cache/libvirt-$upstream"

# Cache hit: an unpacked tree is renamed into place only once complete (see below).
if [ -f "$dest/meson.build" ] && [ -d "$dest/tests" ]; then
  echo "libvirt $upstream test data already at $dest"
  exit 0
fi

mkdir -p "$cache/apt/lists/partial" "$cache/download"
# One deb-src line per suite the machine already uses, same mirror, plus the extra suites.
srclist="$cache/apt/sources.list"
: > "$srclist"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
# The machine's own Debian archives (scripts/lib/debs.sh), never a named host.
mirror=$(debian_mirror) || die "cannot tell which Debian archive this machine uses"
security=$(debian_security_mirror) || die "cannot tell which Debian security archive this machine uses"
echo "deb-src $mirror $suite main" >> "$srclist"
echo "deb-src $security $suite-security main" >> "$srclist"
echo "deb-src $mirror $suite-updates main" >> "$srclist"
for s in "${extra_suites[@]}"; do
  echo "deb-src $mirror $s main" >> "$srclist"
done

aptopts=(-o "Dir::Etc::SourceList=$srclist" -o "Dir::Etc::SourceParts=-"
         -o "Dir::State::Lists=$cache/apt/lists" -o "Debug::NoLocking=1")
apt-get "${aptopts[@]}" -qq update

# Candidate Debian versions: the exact one given, or every source version of that upstream.
candidates=()
if [ "$version" != "$upstream" ]; then
  candidates=("$version")
else
  mapfile -t candidates < <(apt-cache "${aptopts[@]}" showsrc libvirt 2>/dev/null \
    | sed -n 's/^Version: *//p' | awk -v u="$upstream" '{ v=$0; sub(/^[0-9]+:/, "", v); if (index(v, u "-") == 1) print $0 }' | sort -u)
  [ ${#candidates[@]} -gt 0 ] || die "no libvirt source version $upstream in ${suite} ${extra_suites[*]}"
fi

tarball="$cache/download/libvirt_$upstream.orig.tar.xz"
for v in "${candidates[@]}"; do
  [ -f "$tarball" ] && break
  echo "fetching libvirt=$v source"
  (cd "$cache/download" && apt-get "${aptopts[@]}" -qq source --download-only "libvirt=$v") \
    || echo "apt-get source libvirt=$v failed (checking for the orig tarball anyway)"
done
[ -f "$tarball" ] || die "libvirt $upstream: orig tarball not downloaded (tried: ${candidates[*]})"
# A truncated download would unpack half a tree: test the archive first.
xz -t "$tarball" || die "$tarball is damaged"

tmp=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xJf "$tarball"
[ -d "$tmp/libvirt-$upstream" ] || die "$tarball does not unpack to libvirt-$upstream/"
# Rename into place only once unpacked whole: a half-unpacked tree is never seen as a cache hit.
mv "$tmp/libvirt-$upstream" "$dest"
echo "libvirt $upstream test data unpacked at $dest"
