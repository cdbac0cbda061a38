# Sourced by the scripts that start a libvirtd (daemons.sh, series-daemon.sh, kvm-hidden.sh).
#
# libvirt double-forks every QEMU, so a guest's QEMU is an orphan: the kernel hands it to the
# nearest ancestor that declared itself a child subreaper, else to PID 1, and whoever that is
# must reap it when it exits. `virsh destroy` (virProcessKillPainfully) returns only once the
# pid is gone, zombie included. Where PID 1 reaps lazily each destroy waits for it: measured on
# this workplace's machines (PID 1 is the sandbox's process_api), a TCG guest's QEMU is a zombie
# 38 ms after SIGTERM and reaped after 1.56 s, and a destroy took 1.7-1.9 s. systemd reaps at once.
# Started under `tini -s` (Debian's tini: a subreaper that reaps whatever it inherits), the
# daemon's QEMUs are reaped as they exit, whatever PID 1 does.
#
# reaper_prefix: the words to put before the daemon's command line (none when tini is missing,
# which only costs that wait).
reaper_prefix() {
  if command -v tini >/dev/null 2>&1; then echo "tini -s --"; fi
}
