#!/usr/bin/env bash
# Install libvirt 11.3.0 + QEMU 10.0 from bookworm-backports in place of Debian 12's libvirt 9.0.0
# + QEMU 7.2 (`npm run setup -- --libvirt backports`). This REPLACES the machine's libvirt: every
# user of the machine gets 11.3.0 afterwards.
#
#   scripts/install-libvirt-backports.sh [--simulate]
#
#   --simulate   resolve and print what apt would do (apt-get -s), change nothing
#
# apt's configuration is never changed. A private source-parts directory holds copies of the
# machine's /etc/apt/sources.list.d entries plus one backports line, with a private list
# directory, both under .cache/apt-backports/. Packages are named PKG/<codename>-backports, so
# apt takes those (and the versions their dependencies require) from backports and nothing else:
# `-t bookworm-backports` would also upgrade systemd and udev. Named: the harness's packages plus
# every installed binary package built from the libvirt and qemu sources, so they move together.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/debs.sh"
say() { echo "libvirt-backports: $*"; }
die() { echo "libvirt-backports: ERROR: $*" >&2; exit 1; }

simulate=0
case "${1:-}" in
  --simulate) simulate=1 ;;
  "") ;;
  *) echo "usage: $0 [--simulate]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || die "must run as root (installs Debian packages)"

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ "$codename" = bookworm ] || die "backports' libvirt 11.3.0 was measured on bookworm only; this is '${codename:-unknown}'"
suite="$codename-backports"

dir="$top/.cache/apt-backports"
mkdir -p "$dir/sources.list.d" "$dir/lists/partial"
rm -f "$dir/sources.list.d"/*
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && cp "$f" "$dir/sources.list.d/"
done
cat > "$dir/sources.list.d/zz-lvh-backports.sources" <<EOS
Types: deb
URIs: $(debian_mirror)
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
aptopts=(-o "Dir::Etc::SourceParts=$dir/sources.list.d" -o "Dir::State::Lists=$dir/lists")

say "apt-get update (private lists: $dir/lists)"
apt-get "${aptopts[@]}" -qq update

wanted=(libvirt-daemon-system libvirt-clients qemu-system-x86)
mapfile -t installed < <(dpkg-query -W -f='${db:Status-Status} ${Package} ${source:Package}\n' 2>/dev/null \
  | awk '$1 == "installed" && ($3 == "libvirt" || $3 == "qemu") { print $2 }')
names=()
for p in $(printf '%s\n' "${wanted[@]}" "${installed[@]}" | sort -u); do
  # only packages backports has; the others stay as they are
  # (madison's output captured first: grep -q closing the pipe early fails it under pipefail)
  m=$(apt-cache "${aptopts[@]}" madison "$p" 2>/dev/null || true)
  if grep -q " $suite/" <<< "$m"; then names+=("$p/$suite"); fi
done
[ ${#names[@]} -gt 0 ] || die "$suite offers none of: ${wanted[*]} ${installed[*]}"
say "from $suite: ${names[*]}"

# Idempotent: nothing to do when every named package already has its backports version.
todo=$(apt-get "${aptopts[@]}" -s install --no-install-recommends "${names[@]}" 2>/dev/null | grep -c '^Inst ' || true)
if [ "$todo" = 0 ]; then
  say "already installed: libvirt $(dpkg-query -W -f='${Version}' libvirt-clients), QEMU $(dpkg-query -W -f='${Version}' qemu-system-x86)"
  exit 0
fi
say "$todo package(s) to install or upgrade"
if [ "$simulate" = 1 ]; then
  apt-get "${aptopts[@]}" -s install --no-install-recommends "${names[@]}" | grep -E '^(Inst|Conf|Remv) |Selected version' || true
  exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get "${aptopts[@]}" install -y --no-install-recommends "${names[@]}"
say "installed: libvirt $(dpkg-query -W -f='${Version}' libvirt-clients), QEMU $(dpkg-query -W -f='${Version}' qemu-system-x86)"
