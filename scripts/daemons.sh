#!/usr/bin/env bash
# Start/stop/inspect virtlogd + libvirtd for the harness on machines without systemd.
# Never fights a host that already runs them (systemd or by hand): then it only waits for
# qemu:///system to answer. `stop` stops only daemons this script started (pids recorded in
# $LVH_RUN_DIR with their start times, so a recycled pid is never killed).
set -euo pipefail

URI=qemu:///system
RUN_DIR=${LVH_RUN_DIR:-/run/libvirt-harness}
# Fixed environment: libvirtd hands its PATH to QEMU (PATH= in every command line).
DAEMON_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WAIT_SECS=${LVH_DAEMON_WAIT:-30}

say() { echo "daemons: $*"; }
warn() { echo "daemons: WARNING: $*" >&2; }
die() { echo "daemons: ERROR: $*" >&2; exit 1; }
. "$(dirname "$0")/lib/reaper.sh"

need_root() { [ "$(id -u)" = 0 ] || die "must run as root to $1 libvirt daemons (qemu:///system)"; }

answers() { timeout 5 virsh -c "$URI" version >/dev/null 2>&1; }

systemd_active() {
  # Only trust systemctl when systemd is really PID 1.
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
    systemctl is-active --quiet "$1"
}

proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# pid alive and still the process we recorded (same comm and start time)
recorded_alive() {
  local f="$RUN_DIR/$1.pid" pid start
  [ -f "$f" ] || return 1
  read -r pid start < "$f" || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
  [ "$(proc_start_time "$pid")" = "$start" ]
}

record() {
  local name=$1 pidfile=$2 pid=""
  for _ in $(seq 1 50); do
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || die "$name did not write $pidfile"
  mkdir -p "$RUN_DIR"
  echo "$pid $(proc_start_time "$pid")" > "$RUN_DIR/$name.pid"
  say "started $name (pid $pid)"
}

fix_kvm() {
  # As udev would: the libvirt-qemu user (group kvm) must open /dev/kvm, else libvirt
  # re-probes QEMU on every call (the 36 s capability-cache trap).
  if [ -c /dev/kvm ] && getent group kvm >/dev/null; then
    chgrp kvm /dev/kvm && chmod 660 /dev/kvm
  fi
}

check_kvm_perms() {
  if [ -c /dev/kvm ]; then
    local perm
    perm=$(stat -c '%G %a' /dev/kvm)
    [ "$perm" = "kvm 660" ] || warn "/dev/kvm is '$perm' (expected 'kvm 660'): expect slow libvirt calls"
  fi
}

# A daemon someone else started passes its own PATH to QEMU; say so (probe-host records it).
note_path() {
  local pid p
  pid=$(daemon_pid)
  [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] || return 0
  p=$(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^PATH=//p')
  [ "$p" = "$DAEMON_PATH" ] || say "note: the running libvirtd's PATH is '$p', not $DAEMON_PATH"
}

wait_answer() {
  local i
  for i in $(seq 1 $((WAIT_SECS * 5))); do
    answers && return 0
    sleep 0.2
  done
  die "libvirtd did not answer on $URI within ${WAIT_SECS}s (see /var/log/libvirt/ or run 'libvirtd -v' by hand)"
}

time_probe() {
  local tmp t0 t1 ms
  tmp=$(mktemp /tmp/lvh-daemons.XXXXXX.xml)
  cat > "$tmp" <<'EOF'
<domain type='qemu'>
  <name>lvh-daemons-probe</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>
EOF
  # First call may fill libvirt's capability cache; the second is the steady state.
  timeout 120 virsh -c "$URI" domxml-to-native qemu-argv "$tmp" >/dev/null 2>&1 || true
  t0=$(date +%s%N)
  if ! timeout 120 virsh -c "$URI" domxml-to-native qemu-argv "$tmp" >/dev/null 2>"$tmp.err"; then
    warn "domxml-to-native of a tiny domain failed: $(tail -n1 "$tmp.err")"
  fi
  t1=$(date +%s%N)
  rm -f "$tmp" "$tmp.err"
  ms=$(( (t1 - t0) / 1000000 ))
  if [ "$ms" -gt 1000 ]; then
    warn "****************************************************************"
    warn "domxml-to-native took ${ms} ms (> 1 s): libvirt is probably re-probing"
    warn "QEMU on every call (capability-cache trap). Check that /dev/kvm is"
    warn "group kvm, mode 660, then restart libvirtd."
    warn "****************************************************************"
  else
    say "domxml-to-native answered in ${ms} ms"
  fi
}

ensure_virtlogd() {
  if systemd_active virtlogd || systemd_active virtlogd.socket || pgrep -x virtlogd >/dev/null; then
    say "virtlogd already running"
  else
    mkdir -p "$RUN_DIR"
    rm -f /run/virtlogd.pid # stale: no virtlogd runs
    env -i PATH="$DAEMON_PATH" LC_ALL=C virtlogd -d
    record virtlogd /run/virtlogd.pid
  fi
}

start() {
  need_root start
  command -v virsh >/dev/null || die "virsh not found (install libvirt-clients)"
  command -v libvirtd >/dev/null || die "libvirtd not found (install libvirt-daemon-system)"

  # Guests cannot start without virtlogd; starting one where none runs fights nobody.
  ensure_virtlogd
  if systemd_active libvirtd || answers; then
    if recorded_alive libvirtd; then
      say "libvirtd already running (started by this script)"
    else
      say "libvirtd already running (not started by this script); waiting for it to answer"
    fi
    wait_answer
    check_kvm_perms
    note_path
    time_probe
    return 0
  fi

  fix_kvm
  # A stale pid file from a dead daemon makes libvirtd refuse to start.
  if [ -f /run/libvirtd.pid ] && ! [ -d "/proc/$(cat /run/libvirtd.pid 2>/dev/null || echo x)" ]; then
    rm -f /run/libvirtd.pid
  fi
  # In the foreground under a subreaper (lib/reaper.sh: its QEMUs are reaped at once); libvirtd
  # writes /run/libvirtd.pid itself either way, and its log goes where -d would send it.
  mkdir -p /var/log/libvirt
  # The redirections sit on the subshell and it execs: no shell of ours keeps the caller's
  # stdout open, so `npm run setup | tee log` ends when setup does.
  # shellcheck disable=SC2046 # reaper_prefix prints words
  (cd / && exec env -i PATH="$DAEMON_PATH" LC_ALL=C setsid $(reaper_prefix) libvirtd) \
    >>/var/log/libvirt/libvirtd.log 2>&1 </dev/null &
  record libvirtd /run/libvirtd.pid
  wait_answer
  say "libvirtd answers on $URI"
  time_probe
}

stop_one() {
  local name=$1 pid start i
  if ! recorded_alive "$name"; then
    [ -f "$RUN_DIR/$name.pid" ] && say "$name: recorded process is gone"
    rm -f "$RUN_DIR/$name.pid"
    return 0
  fi
  read -r pid start < "$RUN_DIR/$name.pid"
  kill -TERM "$pid"
  for i in $(seq 1 100); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  [ -d "/proc/$pid" ] && warn "$name (pid $pid) still running after 10 s"
  rm -f "$RUN_DIR/$name.pid"
  say "stopped $name (pid $pid)"
}

stop() {
  need_root stop
  stop_one libvirtd
  stop_one virtlogd
}

# The libvirtd that owns the sockets: ours, else the default pid file, else any.
daemon_pid() {
  local pid start
  if recorded_alive libvirtd; then
    read -r pid start < "$RUN_DIR/libvirtd.pid"
  elif [ -f /run/libvirtd.pid ]; then
    pid=$(cat /run/libvirtd.pid)
  else
    pid=$(pgrep -x libvirtd | head -n1 || true)
  fi
  echo "$pid"
}

status() {
  local name pid
  for name in libvirtd virtlogd; do
    if recorded_alive "$name"; then
      read -r pid _ < "$RUN_DIR/$name.pid"
      say "$name: running, started by this script (pid $pid)"
    elif pid=$(pgrep -x "$name" | head -n1) && [ -n "$pid" ]; then
      say "$name: running, not started by this script (pid $pid)"
    elif systemd_active "$name"; then
      say "$name: running under systemd"
    else
      say "$name: not running"
    fi
  done
  if answers; then
    say "$URI answers"
    pid=$(daemon_pid)
    if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ]; then
      say "libvirtd PATH: $(tr '\0' '\n' < "/proc/$pid/environ" | sed -n 's/^PATH=//p')"
      # Who reaps its QEMUs (lib/reaper.sh): tini when this script started it.
      local parent
      parent=$(awk '/^PPid:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [ -n "$parent" ] && say "libvirtd's parent: $(cat "/proc/$parent/comm" 2>/dev/null) (pid $parent)"
    fi
    check_kvm_perms
  else
    say "$URI does not answer"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
