# warm_capability_cache KERNEL_DIR IMAGE LOG TIMEOUT_S: boot IMAGE under TCG with the guest init's
# warm mode (libvirtd started so it fills its QEMU capability cache, then power-off), writes kept
# in the image. Returns 0 when the console says @@WARMED. Sourced by the image builders; the
# caller's EXIT trap kills "$qpid" if the build is interrupted.
#
# A guest kernel that panics is booted again, twice at most: seen once on a clean-clone CI run,
# sid's 7.2.13 took an int3 in sched_clock_cpu while its second CPU came up, 1.5 s into a boot of
# the same image that had warmed before and did again. That is QEMU's TCG racing the kernel's
# code patching, not the image; any other failure ends the build as before. Each panicked
# console is kept beside LOG (LOG.panicN).
warm_capability_cache() {
  local kdir=$1 image=$2 log=$3 limit=$4 try
  for try in 1 2 3; do
    timeout "$limit" /usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
      -machine q35 -accel tcg,thread=multi,tb-size=256 -cpu max -smp 2 -m 2048M \
      -kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" \
      -append "console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4 lvh.mode=warm" \
      -drive if=none,id=d0,file="$image",format=raw,cache=unsafe -device virtio-blk-pci,drive=d0 \
      -chardev file,id=con,path="$log" -serial chardev:con &
    qpid=$!
    wait "$qpid" || true
    qpid=""
    grep -q '@@WARMED' "$log" && return 0
    grep -q 'Kernel panic' "$log" || return 1
    cp "$log" "$log.panic$try"
    echo "warm-image: the warm-up boot's kernel panicked ($(grep -m1 -E 'Oops|BUG:|Kernel panic' "$log" | sed 's/^\[[ 0-9.]*\] //' | cut -c1-100)); console kept in $log.panic$try" >&2
    [ "$try" -lt 3 ] && echo "warm-image: booting again ($((try + 1)) of 3)" >&2
  done
  return 1
}
