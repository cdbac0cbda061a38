# Sourced by the emulated host's image and kernel scripts: the modules the initramfs loads,
# resolved with their dependencies from each module's .modinfo. Both scripts put this file in
# their cache keys, so a change here rebuilds what it went into.
wanted_modules=(virtio_pci virtio_blk crc32c_generic ext4 9pnet_virtio 9p)
modfind() { find "$1" -name "$2.ko*" -o -name "${2//_/-}.ko*" | head -1; }
modcat() { case "$1" in *.xz) xz -dc "$1" ;; *.zst) zstd -qdc "$1" ;; *) cat "$1" ;; esac; }
declare -A seen
order=()
modvisit() { # $1 moddir $2 name: depth-first, dependencies before the module
  local f d
  [ -n "${seen[$2]:-}" ] && return 0
  seen[$2]=1
  f=$(modfind "$1" "$2")
  [ -n "$f" ] || return 0 # built in
  for d in $(modcat "$f" | strings | sed -n 's/^depends=//p' | tr , ' '); do modvisit "$1" "$d"; done
  order+=("$2")
}
