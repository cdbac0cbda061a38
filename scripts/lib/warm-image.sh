# warm_capability_cache KERNEL_DIR IMAGE LOG TIMEOUT_S: boot IMAGE once under TCG with the guest
# init's warm mode (libvirtd started so it fills its QEMU capability cache, then power-off), writes
# kept in the image. Returns 0 when the console says @@WARMED. Sourced by the image builders; the
# caller's EXIT trap kills "$qpid" if the build is interrupted.
warm_capability_cache() {
  local kdir=$1 image=$2 log=$3 limit=$4
  timeout "$limit" /usr/bin/qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
    -machine q35 -accel tcg,thread=multi,tb-size=256 -cpu max -smp 2 -m 2048M \
    -kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" \
    -append "console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4 lvh.mode=warm" \
    -drive if=none,id=d0,file="$image",format=raw,cache=unsafe -device virtio-blk-pci,drive=d0 \
    -chardev file,id=con,path="$log" -serial chardev:con &
  qpid=$!
  wait "$qpid" || true
  qpid=""
  grep -q '@@WARMED' "$log"
}
