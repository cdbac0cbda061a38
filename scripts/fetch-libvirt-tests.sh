#!/usr/bin/env bash
# Fetch the Debian source package of libvirt (the installed version, or the one named in $1)
# and unpack it into a git-ignored cache, so the runner can read libvirt's own tests/ at run
# time. Nothing of libvirt is committed. apt's own configuration is never changed: a private
# source list and list directory live under the cache.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/.cache/libvirt-src"
fallback="9.0.0-4+deb12u2"

version="${1:-}"
if [ -z "$version" ]; then
  version=$(dpkg-query -W -f='${Version}' libvirt-clients 2>/dev/null || true)
  [ -n "$version" ] || version="$fallback"
fi
upstream="${version%%-*}"
upstream="${upstream#*:}"
dest="$cache/libvirt-$upstream"

if [ -f "$dest/tests/qemuxml2argvtest.c" ]; then
  echo "libvirt $upstream test data already at $dest"
  exit 0
fi

mkdir -p "$cache/apt/lists/partial" "$cache/download"
# One deb-src line per suite the machine already uses, same mirror.
srclist="$cache/apt/sources.list"
: > "$srclist"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
echo "deb-src http://deb.debian.org/debian $suite main" >> "$srclist"
echo "deb-src http://deb.debian.org/debian-security $suite-security main" >> "$srclist"
echo "deb-src http://deb.debian.org/debian $suite-updates main" >> "$srclist"

aptopts=(-o "Dir::Etc::SourceList=$srclist" -o "Dir::Etc::SourceParts=-"
         -o "Dir::State::Lists=$cache/apt/lists" -o "Debug::NoLocking=1")
apt-get "${aptopts[@]}" -qq update
(cd "$cache/download" && apt-get "${aptopts[@]}" -qq source --download-only "libvirt=$version")

tarball=$(ls "$cache/download"/libvirt_"$upstream".orig.tar.xz)
tmp=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xJf "$tarball"
# Rename into place only once unpacked whole: a half-unpacked tree is never seen as a cache hit.
mv "$tmp/libvirt-$upstream" "$dest"
echo "libvirt $upstream test data unpacked at $dest"
