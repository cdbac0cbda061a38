#!/usr/bin/env bash
# The suite against this machine's libvirt as a host WITHOUT KVM, on a machine that has /dev/kvm:
# a private libvirtd (scripts/private-daemon.sh) in a mount namespace where /dev/kvm is hidden,
# probed like any host, judged by the same pairs and goldens (its host id is a KVM-less one).
# Started and stopped here (also on failure and Ctrl-C); the machine's own daemon is untouched.
#
#   bash scripts/kvm-hidden.sh [--force] [-- SUITE OPTIONS]
#   --force   run on a machine without /dev/kvm too (nothing to hide: only the plumbing is shown)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kvm-hidden: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -e /dev/kvm ] && [ "$force" != 1 ]; then
  echo "kvm-hidden: this machine has no /dev/kvm: nothing to hide (its own run is the KVM-less host;" >&2
  echo "kvm-hidden: the KVM side is judged with npm test -- --host-facts golden/hosts/<a KVM host>.json)" >&2
  exit 2
fi
[ "$(id -u)" = 0 ] || { echo "kvm-hidden: must run as root" >&2; exit 1; }

dir=/run/lvh/kvm-hidden-$$
uri=$(bash scripts/private-daemon.sh uri "$dir")
pid=
stop() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$dir" "$dir.log"
  rmdir /run/lvh 2>/dev/null || true # only when nothing else (a series daemon) uses it
}
trap stop EXIT
trap 'stop; exit 130' INT TERM
mkdir -p "$dir"
# Under a subreaper when there is one (scripts/lib/reaper.sh: its guests' QEMUs are reaped at
# once); tini passes the SIGTERM of stop() and of the death signal on to libvirtd.
. scripts/lib/reaper.sh
# shellcheck disable=SC2046 # reaper_prefix prints words
LVH_PRIVATE_HIDE_KVM=1 setpriv --pdeathsig TERM -- $(reaper_prefix) bash scripts/private-daemon.sh exec "$dir" >"$dir.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  timeout 5 virsh -c "$uri" version >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "kvm-hidden: the private libvirtd died: $(tail -n3 "$dir.log")" >&2; exit 1; }
  sleep 0.2
done
timeout 5 virsh -c "$uri" version >/dev/null 2>&1 || { echo "kvm-hidden: the private libvirtd did not answer within 60 s" >&2; exit 1; }
rm -f "$dir.log"
node scripts/probe-host.mjs --uri "$uri" --out "$dir/host.json"
if [ -e /dev/kvm ] && grep -q '"kvm"' <(node -e "console.log(JSON.stringify(require('$dir/host.json').virtTypes))"); then
  echo "kvm-hidden: the private libvirtd still lists KVM: /dev/kvm was not hidden" >&2
  exit 1
fi
echo "kvm-hidden: private libvirtd at $uri ($( [ -e /dev/kvm ] && echo '/dev/kvm hidden' || echo 'no /dev/kvm on this machine'))"
node scripts/run-suite.mjs --uri "$uri" --live-facts "$dir/host.json" --no-emulated "$@"
