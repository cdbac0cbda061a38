#!/usr/bin/env bash
# A stand-in for "libvirt at master" when no newer libvirt source can be fetched (checked
# 2026-11-30: gitlab.com/github.com do not resolve here; Debian's 12.8.0 and 12.9.0 source
# packages answer 404). It is a git checkout laid out as upstream's (subprojects/keycodemapdb a
# submodule) whose code is the fetched 11.3.0 tarball and whose meson.build says 12.0.0, a
# version the model does not cover. It proves the machinery on a git checkout of an unknown
# version, NOT anything about master's code.
#
#   scripts/standin-master-tree.sh     -> .cache/libvirt-src/libvirt-git (prints its path)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
src="$top/.cache/libvirt-src"
base="$src/libvirt-11.3.0" dest="$src/libvirt-git" sub="$src/keycodemapdb.git"
[ -f "$base/meson.build" ] || bash "$top/scripts/fetch-libvirt-tests.sh" 11.3.0 >&2
if [ -f "$dest/.gitmodules" ] && [ -n "$(ls -A "$dest/subprojects/keycodemapdb" 2>/dev/null)" ]; then
  echo "$dest"; exit 0
fi
export GIT_AUTHOR_NAME=libvirt-harness GIT_AUTHOR_EMAIL=harness@localhost
export GIT_COMMITTER_NAME=libvirt-harness GIT_COMMITTER_EMAIL=harness@localhost
export GIT_AUTHOR_DATE=2026-11-30T00:00:00Z GIT_COMMITTER_DATE=2026-11-30T00:00:00Z
tmp=$(mktemp -d "$src/standin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# cp -r, not -a: the tarball's files belong to uid 500 and git refuses repositories it does not own
cp -r "$base/subprojects/keycodemapdb" "$tmp/kc"
git -C "$tmp/kc" init -q && git -C "$tmp/kc" add -A && git -C "$tmp/kc" commit -qm keycodemapdb
rm -rf "$sub" && git clone -q --bare "$tmp/kc" "$sub"
cp -r "$base" "$tmp/tree" && rm -rf "$tmp/tree/subprojects/keycodemapdb"
g() { git -C "$tmp/tree" "$@"; }
g init -q -b master && g add -A && g commit -qm 'libvirt 11.3.0 (Debian orig tarball)'
g -c protocol.file.allow=always submodule add -q "$sub" subprojects/keycodemapdb
g commit -qm 'keycodemapdb as a submodule, as upstream'
sed -i "0,/^  version: '11\.3\.0',/s//  version: '12.0.0',/" "$tmp/tree/meson.build"
grep -q "^  version: '12.0.0'," "$tmp/tree/meson.build" || { echo "standin: meson.build version not found" >&2; exit 1; }
g commit -qam 'Stand-in for master: version 12.0.0 (code is 11.3.0)'
rm -rf "$dest" && mv "$tmp/tree" "$dest"
echo "$dest"
