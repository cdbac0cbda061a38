#!/usr/bin/env bash
# Is anything of the harness's runtime guests left? Looks (read-only) for domains, QEMU
# processes, cgroup directories, guest RAM files and libvirt state files whose name carries the
# prefix (default `lvh-rt-`, the runtime backend's; `--prefix lvh-` covers every harness domain).
# --reap-cgroups also removes (rmdir, deepest first) such cgroup directories once no task is in
# them: what a libvirtd that died while stopping a guest leaves behind. Nothing else is touched.
# Exit 0: nothing left; 1: something left (listed); 2: usage or libvirt does not answer.
set -uo pipefail

PREFIX=lvh-rt-
URI=qemu:///system
REAP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:-}; shift 2 ;;
    --uri) URI=${2:-}; shift 2 ;;
    --reap-cgroups) REAP=1; shift ;;
    -h|--help) echo "usage: $0 [--prefix lvh-rt-] [--uri qemu:///system] [--reap-cgroups]"; exit 0 ;;
    *) echo "usage: $0 [--prefix lvh-rt-] [--uri qemu:///system] [--reap-cgroups]" >&2; exit 2 ;;
  esac
done
[ -n "$PREFIX" ] || { echo "check-clean: empty prefix refused" >&2; exit 2; }

left=0
report() { echo "check-clean: LEFT: $*"; left=1; }

if ! doms=$(timeout 30 virsh -q -c "$URI" list --all --name 2>&1); then
  echo "check-clean: $URI does not answer: $doms" >&2
  exit 2
fi
while IFS= read -r d; do
  case "$d" in "$PREFIX"*) report "domain $d ($(timeout 30 virsh -q -c "$URI" domstate "$d" 2>/dev/null))" ;; esac
done <<< "$doms"

# QEMU processes started for such a guest (-name guest=PREFIX…).
for p in /proc/[0-9]*; do
  cmd=$( { tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null ) || continue
  case "$cmd" in *"guest=$PREFIX"*) report "process ${p#/proc/}: ${cmd:0:120}" ;; esac
done

# cgroup directories: v1 (machine/qemu-ID-NAME.libvirt-qemu) and v2/systemd (\x2d for '-').
for base in /sys/fs/cgroup/*/machine /sys/fs/cgroup/machine /sys/fs/cgroup/machine.slice /sys/fs/cgroup/*/machine.slice; do
  [ -d "$base" ] || continue
  for e in "$base"/*; do
    [ -d "$e" ] || continue
    name=$(basename "$e" | sed 's/\\x2d/-/g')
    case "$name" in
      *"$PREFIX"*)
        if [ "$REAP" = 1 ] && ! find "$e" -name tasks -o -name cgroup.procs | xargs -r cat 2>/dev/null | grep -q .; then
          find "$e" -depth -type d -exec rmdir {} \; 2>/dev/null
          [ -d "$e" ] && report "cgroup $e (rmdir failed)" || echo "check-clean: removed empty cgroup $e"
        else
          report "cgroup $e"
        fi ;;
    esac
  done
done

# File-backed guest RAM and libvirt's per-domain state.
for e in /var/lib/libvirt/qemu/ram/* /var/lib/libvirt/qemu/domain-* /run/libvirt/qemu/*; do
  [ -e "$e" ] || continue
  case "$(basename "$e")" in *"$PREFIX"*) report "file $e" ;; esac
done

[ "$left" = 0 ] && echo "check-clean: nothing left with prefix '$PREFIX' (domains, QEMU processes, cgroups, RAM and state files)"
exit "$left"
