#!/bin/sh
# PID 1 of the emulated host (after the initramfs's switch_root). Sets up the mounts libvirt
# needs, starts virtlogd + libvirtd, then either warms libvirt's capability cache and powers off
# (lvh.mode=warm, used once by the image build) or serves the command channel on ttyS1.
#
# Channel protocol (ttyS1, raw): the host sends "ID BASE64(script)\n"; this loop runs the script
# with sh and answers "@@BEGIN ID\n" BASE64(GZIP(stdout)) "\n" BASE64(GZIP(stderr)) "\n@@END ID RC\n".
# Base64 keeps the serial line free of control characters in both directions; gzip because the
# line carries about 37 KB/s under TCG, and a batch's command lines and XML shrink 14-16 times. Scripts run side
# by side (the runner's runtime batch beside its argv/xml batches); each answer is written whole.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Without systemd nobody delegates controllers: libvirt's machine/ cgroup needs them enabled.
echo "+cpuset +cpu +io +memory +pids" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
mkdir -p /project
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 project /project 2>/dev/null
hostname emulated

# Huge pages: hugetlbfs at /dev/hugepages as on a normal Debian host (libvirt reads the mounts
# only when it starts, so before libvirtd), and the topology's per-node reservations
# (lvh.hugepages=NODE:SIZE_KIB:COUNT,... from harness/emulated/topology.ts). A reservation the
# kernel could not make in full is said on the console; the cases' page counts then show it.
grep -qw hugetlbfs /proc/filesystems && mount -t hugetlbfs -o nosuid,nodev hugetlbfs /dev/hugepages
for r in $(sed -n 's/.*lvh\.hugepages=\([0-9:,]*\).*/\1/p' /proc/cmdline | tr , ' '); do
  f=/sys/devices/system/node/node${r%%:*}/hugepages/hugepages-$(echo "$r" | cut -d: -f2)kB/nr_hugepages
  echo "${r##*:}" > "$f" 2>/dev/null
  [ "$(cat "$f" 2>/dev/null)" = "${r##*:}" ] || echo "lvh-init: huge pages $r: only $(cat "$f" 2>/dev/null || echo none) reserved"
done

mode=$(sed -n 's/.*lvh\.mode=\([a-z]*\).*/\1/p' /proc/cmdline)
echo "lvh-init: mode=${mode:-serve} kernel=$(uname -r)"

mkdir -p /run/libvirt /var/log/libvirt
virtlogd -d
LIBVIRT_LOG_OUTPUTS="3:file:/run/libvirtd.log" libvirtd -d

halt_now() {
  # Stop guests and the daemons so their files are complete, then power off without init.
  for d in $(virsh -c qemu:///system list --name 2>/dev/null); do virsh -c qemu:///system destroy "$d" >/dev/null 2>&1; done
  kill $(cat /run/libvirtd.pid 2>/dev/null) 2>/dev/null
  sleep 1
  sync
  mount -o remount,ro / 2>/dev/null
  echo o > /proc/sysrq-trigger
  sleep 30
}

if [ "$mode" = warm ]; then
  i=0
  until virsh -c qemu:///system version >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 300 ] && { echo "@@WARM-FAILED libvirtd not ready"; halt_now; }
    sleep 0.5
  done
  virsh -c qemu:///system capabilities > /dev/null && \
    virsh -c qemu:///system domcapabilities --virttype qemu > /dev/null && \
    ls /var/cache/libvirt/qemu/capabilities/*.xml > /dev/null && echo "@@WARMED" || echo "@@WARM-FAILED"
  halt_now
fi

stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3<>/dev/ttyS1
# The reader runs in the background and starts each script in the background too, as an orphan
# (a double fork), so its answer is written under a lock (flock: answers never interleave on the
# line) while the next script already runs. PID 1 itself only sits in `wait`, whose wait3(-1)
# takes any child that ends: the scripts and the nested QEMUs libvirt double-forks are reaped at
# once (libvirt's destroy waits until its QEMU's pid is gone).
serve() {
  while IFS= read -r line <&3; do
    id=${line%% *}
    case $id in ''|*[!A-Za-z0-9]*) continue ;; esac
    printf '%s\n' "${line#* }" | base64 -d > /tmp/.cmd.$id 2>/dev/null
    if [ "$(cat /tmp/.cmd.$id)" = "@@POWEROFF" ]; then
      { flock 9; printf '@@BEGIN %s\n\n\n@@END %s 0\n' "$id" "$id" >&3; } 9>/run/lvh-channel.lock
      halt_now
    fi
    ( (
      sh /tmp/.cmd.$id > /tmp/.out.$id 2> /tmp/.err.$id < /dev/null
      rc=$?
      { flock 9
        { printf '@@BEGIN %s\n' "$id"; gzip -1 -c /tmp/.out.$id | base64 -w0; printf '\n'; gzip -1 -c /tmp/.err.$id | base64 -w0; printf '\n@@END %s %s\n' "$id" "$rc"; } >&3
      } 9>/run/lvh-channel.lock
      rm -f /tmp/.cmd.$id /tmp/.out.$id /tmp/.err.$id
    ) & )
  done
  echo "lvh-init: channel closed"
  halt_now
}
serve &
printf '@@READY\n' >&3
while :; do wait; sleep 1; done
