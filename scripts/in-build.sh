#!/usr/bin/env bash
# Run a command where a series build (scripts/build-libvirt.sh) sees the paths it was built for.
#
#   scripts/in-build.sh --slot SLOT --root OUT/KEY [--state KEY] -- COMMAND [ARG...]
#   scripts/in-build.sh --paths SLOT       print the fixed paths of a slot (shell assignments)
#
# Every build of one libvirt version is configured with the same absolute paths, those of its
# slot (`v9.0.0`): meson bakes the build and source dirs (abs_top_builddir, abs_top_srcdir) and
# the install and state dirs (PREFIX, SYSCONFDIR, LOCALSTATEDIR, RUNSTATEDIR) into headers every
# object includes. With the key in those paths no two keys shared a header, and ccache's direct
# mode missed on every file; with the slot's, a series rebuilds only what it touches.
# The build itself lives at OUT/KEY; a private mount namespace (util-linux unshare, propagation
# private: nothing reaches the machine's own mount table, and it goes with its last process)
# shows it at the slot's paths:
#   BUILD_ROOT /var/lib/lvh-build/SLOT   <- OUT/KEY            (src/, build/, inst/etc/)
#   STATE_DIR  /var/lib/lvh/SLOT         <- /var/lib/lvh/KEY   (with --state)
#   RUN_DIR    /run/lvh/SLOT             <- /run/lvh/KEY       (with --state)
# so two daemons of the same version (two keys) still keep apart: each sees only its own. Outside
# the namespace everything stays at its key's paths (the daemon's socket /run/lvh/KEY/...).
# The mount points are empty directories this script makes; root only (mounts need it).
set -euo pipefail

BUILD_BASE=/var/lib/lvh-build STATE_BASE=/var/lib/lvh RUN_BASE=/run/lvh

die() { echo "in-build: ERROR: $*" >&2; exit 2; }
slot_ok() { [[ "$1" =~ ^v[0-9]+(\.[0-9]+)*$ ]] || die "bad slot '$1' (v<libvirt version>)"; }

slot="" root="" key=""
while [ $# -gt 0 ]; do
  case "$1" in
    --paths)
      slot_ok "${2:-}"
      echo "BUILD_ROOT=$BUILD_BASE/$2"; echo "STATE_DIR=$STATE_BASE/$2"; echo "RUN_DIR=$RUN_BASE/$2"
      exit 0 ;;
    --slot) slot=${2:-}; shift 2 ;;
    --root) root=${2:-}; shift 2 ;;
    --state) key=${2:-}; shift 2 ;;
    --) shift; break ;;
    *) die "unknown argument $1 (see the head of $0)" ;;
  esac
done
[ $# -gt 0 ] || die "no command after --"
slot_ok "$slot"
[ -d "$root" ] || die "no build directory $root"
[ -z "$key" ] || [[ "$key" =~ ^[0-9a-f]{16}$ ]] || die "bad key '$key'"
[ "$(id -u)" = 0 ] || die "a series build runs in a private mount namespace: root only"

mkdir -p "$BUILD_BASE/$slot"
if [ -n "$key" ]; then mkdir -p "$STATE_BASE/$slot" "$RUN_BASE/$slot" "$STATE_BASE/$key" "$RUN_BASE/$key"; fi

exec unshare --mount --propagation private -- bash -c '
  set -e
  root=$1 slot=$2 key=$3; shift 3
  mount --bind "$root" "'"$BUILD_BASE"'/$slot"
  if [ -n "$key" ]; then
    mount --bind "'"$STATE_BASE"'/$key" "'"$STATE_BASE"'/$slot"
    mount --bind "'"$RUN_BASE"'/$key" "'"$RUN_BASE"'/$slot"
  fi
  exec "$@"' in-build "$(cd "$root" && pwd)" "$slot" "$key" "$@"
