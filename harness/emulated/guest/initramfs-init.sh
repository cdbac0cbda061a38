#!/bin/busybox sh
# initramfs of the emulated host: load the few modules the kernel lacks to reach the root disk
# and the 9p share (listed in dependency order in /modules.list), then hand over to the image.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do
  insmod "/modules/$m.ko" 2>/dev/null || echo "initramfs: insmod $m failed"
done
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1))
  [ $i -gt 100 ] && { echo "initramfs: no /dev/vda"; echo o > /proc/sysrq-trigger; }
  sleep 0.1
done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || { echo "initramfs: cannot mount /dev/vda"; echo o > /proc/sysrq-trigger; }
umount /proc /sys
umount /dev
exec switch_root /newroot /sbin/lvh-init
