#!/usr/bin/env bash
# Mount hugetlbfs at /dev/hugepages as systemd's dev-hugepages.mount does on a normal Debian 12:
# libvirt looks for hugetlbfs mounts (qemu.conf's hugetlbfs_mount, else /proc/mounts) when its
# daemon starts, and builds huge-page command lines only with one. Idempotent: nothing is done
# when something is mounted there already or the kernel has no hugetlbfs. Run before the
# daemons start (npm run setup does); a libvirtd already running learns the mount only when it
# is restarted.
set -euo pipefail

MNT=${LVH_HUGETLBFS_MOUNT:-/dev/hugepages}
say() { echo "hugetlbfs: $*"; }

if ! grep -qw hugetlbfs /proc/filesystems; then
  say "the kernel has no hugetlbfs: huge-page cases get libvirt's 'not mounted' error"
  exit 0
fi
if awk -v m="$MNT" '$2 == m { found = 1 } END { exit !found }' /proc/mounts; then
  say "$MNT is mounted already ($(awk -v m="$MNT" '$2 == m { print $3 }' /proc/mounts))"
else
  [ "$(id -u)" = 0 ] || { echo "hugetlbfs: ERROR: must run as root to mount $MNT" >&2; exit 1; }
  mkdir -p "$MNT"
  # The options of systemd's dev-hugepages.mount.
  mount -t hugetlbfs -o nosuid,nodev hugetlbfs "$MNT"
  say "mounted hugetlbfs at $MNT (default page size $(awk '/^Hugepagesize:/ { print $2 " " $3 }' /proc/meminfo))"
fi
pid=$(pgrep -x libvirtd | head -1 || true)
if [ -n "$pid" ]; then
  start=$(stat -c %Y "/proc/$pid")
  mounted=$(stat -c %Y "$MNT")
  # The mount point's mtime is the mount time for a fresh hugetlbfs.
  if [ "$start" -lt "$mounted" ]; then
    say "note: libvirtd (pid $pid) started before the mount; it reads hugetlbfs mounts only at start," \
      "so it reports 'hugetlbfs filesystem is not mounted' until it is restarted"
  fi
fi
