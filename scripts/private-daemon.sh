#!/usr/bin/env bash
# A disposable libvirtd of the INSTALLED libvirt (/usr/sbin/libvirtd), for work that may crash a
# daemon (the fuzzer). It never shares anything with the machine's qemu:///system daemon:
#
#   scripts/private-daemon.sh exec DIR    become that libvirtd (foreground; exec chain, same pid)
#   scripts/private-daemon.sh uri  DIR    print its URI
#
# A stock libvirtd run as root has its QEMU driver's paths compiled in (/etc/libvirt/qemu for
# definitions, /run/libvirt/qemu for its driver lock, /var/cache/libvirt/qemu, ...), so a second
# one would share them with the machine's daemon. Here it runs in a private mount namespace where
# DIR/{etc,lib,run,cache,log} are bind-mounted over those paths: the same paths as the machine's
# daemon (so its output is the same text), none of its files. Its socket is DIR/sock/libvirt-sock
# (unix_sock_dir, outside the mounts, so clients outside the namespace reach it). No virtlogd
# (qemu.conf stdio_handler = "file"). Core dumps are allowed (ulimit -c) and its cwd is DIR, so
# with a relative kernel core_pattern (e.g. "core") a crash leaves DIR/core for gdb.
#
# LVH_PRIVATE_HIDE_KVM=1: /dev/kvm is hidden inside the namespace (/dev/null bound over it), so
# this libvirt sees a host without KVM (scripts/kvm-hidden.sh: the KVM-less side of a KVM host).
#
# Lifetime is the caller's job: run it under `setpriv --pdeathsig TERM` (harness/fuzz/daemon.ts
# does) so a SIGKILLed caller still takes its daemon down.
set -euo pipefail

DAEMON_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LIBVIRTD=${LVH_PRIVATE_LIBVIRTD:-/usr/sbin/libvirtd}

die() { echo "private-daemon: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
case "$dir" in /*) ;; *) die "DIR must be absolute" ;; esac
sock="$dir/sock/libvirt-sock"
# sockaddr_un holds 107 bytes; libvirt adds -admin-sock next to it
[ ${#sock} -le 96 ] || die "DIR too long for a unix socket path: $dir"

case "$cmd" in
  uri) echo "qemu+unix:///system?socket=$sock"; exit 0 ;;
  exec) ;;
  *) usage ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root (a privileged libvirtd, as qemu:///system)"
# Owner died before setpriv armed the parent-death signal: we were re-parented, nobody would stop us.
if [ -n "${LVH_OWNER_PID:-}" ] && [ "$(awk '{print $4}' /proc/$$/stat)" != "$LVH_OWNER_PID" ]; then
  die "owner $LVH_OWNER_PID is gone; not starting"
fi
[ -x "$LIBVIRTD" ] || die "$LIBVIRTD not found (install libvirt-daemon-system)"
mkdir -p "$dir"/{etc/qemu,lib,run,cache/qemu,log,sock}
cat > "$dir/etc/libvirtd.conf" <<EOF
# written by scripts/private-daemon.sh: a disposable daemon
listen_tls = 0
listen_tcp = 0
unix_sock_dir = "$dir/sock"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_level = 3
log_outputs = "3:file:$dir/libvirtd.log"
EOF
cat > "$dir/etc/qemu.conf" <<EOF
# written by scripts/private-daemon.sh: no virtlogd, QEMU's output goes to a file
stdio_handler = "file"
EOF
hide_kvm=
[ "${LVH_PRIVATE_HIDE_KVM:-}" = 1 ] && [ -e /dev/kvm ] && hide_kvm='mount --bind /dev/null /dev/kvm'
# The machine's QEMU capability cache, copied (read only there): saves the probe (~seconds). Not
# when KVM is hidden: that cache says KVM, which this daemon would have to throw away.
if [ -z "$hide_kvm" ] && [ -d /var/cache/libvirt/qemu/capabilities ] && [ ! -d "$dir/cache/qemu/capabilities" ]; then
  cp -a /var/cache/libvirt/qemu/capabilities "$dir/cache/qemu/" 2>/dev/null || true
fi
rm -f "$dir"/sock/* "$dir/libvirtd.pid"

# Quoted for the inner shell: DIR is ours, but may hold spaces.
q=$(printf '%q' "$dir")
exec unshare -m --propagation private -- /bin/sh -c "
  set -e
  mount --bind $q/etc /etc/libvirt
  mount --bind $q/lib /var/lib/libvirt
  mount --bind $q/run /run/libvirt
  mount --bind $q/cache /var/cache/libvirt
  mount --bind $q/log /var/log/libvirt
  $hide_kvm
  ulimit -c unlimited
  cd $q
  exec env -i PATH=$DAEMON_PATH HOME=/root LANG=C $(printf '%q' "$LIBVIRTD") --config $q/etc/libvirtd.conf --pid-file $q/libvirtd.pid
"
