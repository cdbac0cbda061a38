#!/usr/bin/env bash
# Run the libvirtd of ONE series build (scripts/build-libvirt.sh) on a private socket and state
# directory, next to (never instead of) the system's libvirtd.
#
#   scripts/series-daemon.sh start  KEY [--out DIR]   start it (idempotent); prints `uri=...`
#   scripts/series-daemon.sh stop   KEY [--out DIR]   destroy its guests, stop it (only the pid it recorded)
#   scripts/series-daemon.sh status KEY [--out DIR]   exit 0 when it runs and answers
#   scripts/series-daemon.sh env    KEY [--out DIR]   LVH_SERIES_* shell assignments (virsh, uri, ...)
#
# The build was configured with private state paths (see build-libvirt.sh); the daemon runs in a
# private mount namespace (scripts/in-build.sh) that shows these at its version's slot paths, the
# ones compiled in (a build of recipe 2 and older: at these paths, no namespace):
#   config   OUT/KEY/inst/etc/libvirt/{libvirtd,qemu}.conf  (written here)
#   state    /var/lib/lvh/KEY    (domains, QEMU capability cache, monitor sockets)
#   runtime  /run/lvh/KEY        (socket: /run/lvh/KEY/libvirt/libvirt-sock)
#   log      OUT/KEY/run/libvirtd.log, pid in OUT/KEY/run/libvirtd.pid ("pid starttime")
# The daemon loads its QEMU driver module from the build dir (LIBVIRT_DIR_OVERRIDE=1, as
# libvirt's own ./run does) and needs no virtlogd (qemu.conf stdio_handler = "file").
# libvirt 10+ (11.3.0 measured) still builds the monolithic libvirtd with -Ddriver_libvirtd, and
# it drives the machine's QEMU 7.2 (>= 11.3.0's minimum 6.2.0); virtqemud is not needed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# Same fixed PATH as scripts/daemons.sh: libvirtd hands its PATH to QEMU (PATH= in every argv).
DAEMON_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WAIT_SECS=${LVH_DAEMON_WAIT:-60}

say() { echo "series-daemon: $*" >&2; }
die() { echo "series-daemon: ERROR: $*" >&2; exit 1; }
. "$top/scripts/lib/reaper.sh"
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}; key=${2:-}
[ -n "$cmd" ] && [ -n "$key" ] || usage
shift 2
out="$top/.cache/builds"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?}; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$key" =~ ^[0-9a-f]{16}$ ]] || die "key must be 16 hex digits (the key=... line of build-libvirt.sh)"
root="$out/$key"
[ -f "$root/manifest.json" ] || die "no build for key $key under $out (run scripts/build-libvirt.sh)"

build="$root/build"
virsh="$build/tools/virsh"
libvirtd="$build/src/libvirtd"
sock="/run/lvh/$key/libvirt/libvirt-sock"
uri="qemu+unix:///system?socket=$sock"
rundir="$root/run"
pidfile="$rundir/libvirtd.pid"
etc="$root/inst/etc/libvirt"
# the version's slot (recipe 3+): the daemon and its guests see the build at the slot's paths,
# in a mount namespace of their own
slot=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("slot", ""))' "$root/manifest.json")

proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }
recorded_pid() {
  local pid start
  [ -f "$pidfile" ] || return 1
  read -r pid start < "$pidfile" || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$libvirtd")" ] || return 1
  [ "$(proc_start_time "$pid")" = "$start" ] || return 1
  echo "$pid"
}
answers() { timeout 10 "$virsh" -c "$uri" version >/dev/null 2>&1; }
# A guest whose start was in flight as the daemon went (a run interrupted mid-start; seen when a
# CI run was stopped) is in no list: a QEMU still using this build's private state directory is
# one of its guests, and goes too, daemon or not. No other QEMU names that directory.
# With a slot, every build of the version names /var/lib/lvh/SLOT/: a QEMU is this build's guest
# when that directory, seen through its own root (its mount namespace), is this key's state dir.
# (A recorded namespace id would not do: ids are reused once a namespace is gone.)
sweep_guests() {
  local pat="/var/lib/lvh/$key/" own=""
  if [ -n "$slot" ]; then pat="/var/lib/lvh/$slot/"; own=$(stat -c %d:%i "/var/lib/lvh/$key" 2>/dev/null) || return 0; fi
  for q in $(pgrep -f "^/usr/bin/qemu-system-[a-z0-9_]+ .*$pat" || true); do
    [ -z "$own" ] || [ "$(stat -c %d:%i "/proc/$q/root/var/lib/lvh/$slot" 2>/dev/null)" = "$own" ] || continue
    kill -KILL "$q" 2>/dev/null && say "killed QEMU $q, a guest of build $key left behind" || true
  done
}

write_config() {
  mkdir -p "$etc" "$rundir"
  cat > "$etc/libvirtd.conf" <<EOF
# written by scripts/series-daemon.sh: private daemon of series build $key
listen_tls = 0
listen_tcp = 0
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
# cgroup writes at debug level: on a one-node host cpuset.mems reads the same whether libvirt
# wrote it or not, the log says which values libvirt set (grep "cpuset.mems" in libvirtd.log)
log_level = 3
log_filters = "1:util.cgroup"
log_outputs = "1:file:$rundir/libvirtd.log"
EOF
  cat > "$etc/qemu.conf" <<EOF
# written by scripts/series-daemon.sh: private daemon of series build $key
# no virtlogd: QEMU's stdout/stderr go straight to a file
stdio_handler = "file"
EOF
}

case "$cmd" in
  start)
    [ "$(id -u)" = 0 ] || die "must run as root (a privileged libvirtd, as qemu:///system)"
    if pid=$(recorded_pid) && answers; then
      say "already running (pid $pid)"
      echo "uri=$uri"
      exit 0
    fi
    write_config
    mkdir -p "/run/lvh/$key" "/var/lib/lvh/$key"
    # a stale socket from a killed daemon would make the new one refuse to start
    recorded_pid >/dev/null || rm -f "$sock" "${sock%-sock}-sock-ro" "${sock%-sock}-admin-sock"
    # guests of an earlier daemon of this build that died without a stop
    recorded_pid >/dev/null || sweep_guests
    t0=$(date +%s.%N)
    # Under a subreaper (lib/reaper.sh) when there is one: then $! is tini, and libvirtd's own pid
    # is the one it writes.
    rm -f "$rundir/libvirtd.self.pid"
    ns_prefix=()
    [ -z "$slot" ] || ns_prefix=(bash "$top/scripts/in-build.sh" --slot "$slot" --root "$root" --state "$key" --)
    # shellcheck disable=SC2046 # reaper_prefix prints words
    env -i PATH="$DAEMON_PATH" HOME=/root LANG=C LIBVIRT_DIR_OVERRIDE=1 \
      setsid $(reaper_prefix) "${ns_prefix[@]}" "$libvirtd" --pid-file "$rundir/libvirtd.self.pid" \
      >>"$rundir/libvirtd.stdout" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 50); do
      [ -d "/proc/$pid" ] || die "libvirtd exited at once; see $rundir/libvirtd.stdout"
      [ -s "$rundir/libvirtd.self.pid" ] && break
      sleep 0.1
    done
    [ -s "$rundir/libvirtd.self.pid" ] || die "libvirtd wrote no pid file within 5 s; see $rundir/libvirtd.stdout"
    pid=$(cat "$rundir/libvirtd.self.pid")
    echo "$pid $(proc_start_time "$pid")" > "$pidfile"
    for _ in $(seq 1 $((WAIT_SECS * 5))); do
      answers && break
      [ -d "/proc/$pid" ] || die "libvirtd (pid $pid) died; see $rundir/libvirtd.log and $rundir/libvirtd.stdout"
      sleep 0.2
    done
    answers || die "libvirtd (pid $pid) does not answer on $sock after ${WAIT_SECS}s"
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    say "started libvirtd of build $key (pid $pid) in $secs s"
    echo "uri=$uri"
    ;;
  stop)
    if ! pid=$(recorded_pid); then
      sweep_guests
      say "not running (nothing recorded for $key)"
      rm -f "$pidfile"
      exit 0
    fi
    # Its guests are its own (private state dir): destroy them so no QEMU is left behind.
    if answers; then
      for d in $(timeout 20 "$virsh" -c "$uri" list --name 2>/dev/null || true); do
        timeout 20 "$virsh" -c "$uri" destroy "$d" >/dev/null 2>&1 && say "destroyed guest $d" || true
      done
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then say "pid $pid ignores SIGTERM; SIGKILL"; kill -KILL "$pid" || true; fi
    sweep_guests
    rm -f "$pidfile"
    # Its runtime directory (sockets, tokens) goes with it; /var/lib/lvh/KEY keeps the QEMU
    # capability cache for the next start of the same build.
    rm -rf "/run/lvh/$key"
    rmdir /run/lvh 2>/dev/null || true
    say "stopped libvirtd of build $key (pid $pid)"
    ;;
  status)
    if pid=$(recorded_pid) && answers; then say "running (pid $pid), $uri"; echo "uri=$uri"; exit 0; fi
    say "not running"; exit 1
    ;;
  env)
    echo "LVH_SERIES_KEY=$key"
    echo "LVH_SERIES_VIRSH=$virsh"
    echo "LVH_SERIES_LIBVIRTD=$libvirtd"
    echo "LVH_SERIES_URI='$uri'"
    echo "LVH_SERIES_BUILDDIR=$build"
    echo "LVH_SERIES_SRCDIR=$root/src"
    ;;
  *) usage ;;
esac
