#!/usr/bin/env bash
# Build (or reuse) the emulated multi-node host: a Debian 12 disk image with the same libvirt and
# QEMU packages as this machine, plus kernels kept outside it (bookworm's 6.1 and
# bookworm-backports' 6.12) each with a busybox initramfs. libvirtd's capability cache is warmed
# by one boot so every later boot starts libvirtd quickly.
#
#   scripts/build-emulated-host.sh          build unless .cache/emulated/current is up to date
#   scripts/build-emulated-host.sh --force  rebuild
#
# Cache key: this script (and the initramfs module list it sources), the guest's init scripts and
# the host's libvirt/QEMU package versions.
# The kernels' versions are recorded in the manifest, not in the key: a newer kernel in the
# archive does not force a rebuild. apt's own configuration is never changed (private config).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/debs.sh"
. "$top/scripts/lib/warm-image.sh"
cache="$top/.cache/emulated"
guest="$top/harness/emulated/guest"
die() { echo "build-emulated-host: ERROR: $*" >&2; exit 1; }
say() { printf '[%5ss] %s\n' "$SECONDS" "$*"; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode, mke2fs -d keeps ownership)"
force=0; [ "${1:-}" = --force ] && force=1

# The packages whose versions must match the host's: pinned to exactly what dpkg reports here.
pinned=(libvirt-daemon-system libvirt-clients libvirt-daemon qemu-system-x86)
extra=(numactl procps busybox-static kmod util-linux iproute2 libstdc++6 coreutils)
versions=""
for p in "${pinned[@]}"; do
  v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || die "host package $p is not installed (run npm run setup)"
  versions+="$p=$v "
done
key=$( { cat "$0" "$top/scripts/lib/initramfs-modules.sh" "$top/scripts/lib/warm-image.sh" "$guest/init.sh" "$guest/initramfs-init.sh"; echo "$versions"; } | sha256sum | cut -c1-16)
dest="$cache/$key"

if [ $force = 0 ] && [ -f "$dest/manifest.json" ]; then
  ln -sfn "$key" "$cache/current"
  echo "emulated host image up to date: $dest ($(du -sh --apparent-size "$dest/rootfs.img" | cut -f1) apparent, $(du -sh "$dest/rootfs.img" | cut -f1) on disk)"
  exit 0
fi

for t in mmdebstrap mke2fs busybox xz; do command -v "$t" >/dev/null || die "$t not found (apt-get install mmdebstrap busybox-static xz-utils e2fsprogs)"; done
[ -x /usr/bin/qemu-system-x86_64 ] || die "qemu-system-x86_64 not found"

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
qpid=""
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/out/kernels"

# --- private apt configuration: bookworm (+updates, security) and bookworm-backports ------------
aptdir="$cache/apt"
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial"
# The machine's own Debian archives (scripts/lib/debs.sh), never a named host.
mirror=$(debian_mirror) || die "cannot tell which Debian archive this machine uses"
security=$(debian_security_mirror) || die "cannot tell which Debian security archive this machine uses"
cat > "$aptdir/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
deb $mirror bookworm-backports main
EOF
aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=-"
         -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache::Archives=$aptdir/archives"
         -o "Dir::State::Status=$aptdir/status" -o "Debug::NoLocking=1")
: > "$aptdir/status"
say "apt lists (private)"
apt-get "${aptopts[@]}" -qq update

# --- kernels: the image package the linux-image-amd64 metapackage points at, per suite ----------
kernel_for() { # $1: bpo|stable -> the versioned linux-image package name and version
  local want=$1 v dep
  for v in $(apt-cache "${aptopts[@]}" madison linux-image-amd64 | awk -F'|' '{gsub(/ /,"",$2); print $2}'); do
    case "$v" in *bpo*) [ "$want" = bpo ] || continue ;; *) [ "$want" = stable ] || continue ;; esac
    dep=$(apt-cache "${aptopts[@]}" show "linux-image-amd64=$v" | sed -n 's/^Depends: *//p' | head -1 | cut -d' ' -f1 | cut -d, -f1)
    [ -n "$dep" ] && { echo "$dep"; return 0; }
  done
  return 1
}

# Modules the initramfs loads (wanted_modules, modvisit): shared with the other emulated-host script.
. "$top/scripts/lib/initramfs-modules.sh"

for flavour in stable:6.1 bpo:6.12; do
  suite=${flavour%%:*}; label=${flavour#*:}
  pkg=$(kernel_for "$suite") || die "no linux-image-amd64 in the $suite suite"
  say "kernel $label: $pkg"
  (cd "$work" && apt-get "${aptopts[@]}" -qq download "$pkg")
  deb=$(ls "$work"/"${pkg}"_*.deb | head -1)
  kroot="$work/k-$label"
  dpkg -x "$deb" "$kroot"
  kver=$(ls "$kroot/lib/modules" | head -1)
  kd="$work/out/kernels/$label"
  mkdir -p "$kd/initrd/bin" "$kd/initrd/modules" "$kd/initrd/proc" "$kd/initrd/sys" "$kd/initrd/dev" "$kd/initrd/newroot"
  cp "$kroot/boot/vmlinuz-$kver" "$kd/vmlinuz"
  echo "$kver" > "$kd/version"
  echo "$(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)" > "$kd/package"
  seen=(); order=()
  for m in "${wanted_modules[@]}"; do modvisit "$kroot/lib/modules/$kver" "$m"; done
  for m in "${order[@]}"; do modcat "$(modfind "$kroot/lib/modules/$kver" "$m")" > "$kd/initrd/modules/$m.ko"; done
  printf '%s\n' "${order[@]}" > "$kd/initrd/modules.list"
  cp "$(command -v busybox)" "$kd/initrd/bin/busybox"
  install -m 755 "$guest/initramfs-init.sh" "$kd/initrd/init"
  (cd "$kd/initrd" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 > "$kd/initrd.img"
  rm -rf "$kd/initrd" "$kroot"
  say "kernel $label: $kver, initramfs modules: ${order[*]}"
done

# --- root filesystem -------------------------------------------------------------------------------
include=""
for p in "${pinned[@]}"; do include+="$p=$(dpkg-query -W -f='${Version}' "$p"),"; done
include+=$(IFS=,; echo "${extra[*]}")
say "rootfs: mmdebstrap minbase with $include"
mmdebstrap --variant=minbase --mode=root --quiet \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --include="$include" \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  bookworm "$work/rootfs" \
  "deb $mirror bookworm main" \
  "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"
install -m 755 "$guest/init.sh" "$work/rootfs/sbin/lvh-init"
echo emulated > "$work/rootfs/etc/hostname"
# Match the host: libvirt inside must report the same versions.
for p in "${pinned[@]}"; do
  got=$(chroot "$work/rootfs" dpkg-query -W -f='${Version}' "$p")
  [ "$got" = "$(dpkg-query -W -f='${Version}' "$p")" ] || die "$p in the image is $got, host has $(dpkg-query -W -f='${Version}' "$p")"
done
npkgs=$(chroot "$work/rootfs" dpkg-query -W | wc -l)
say "rootfs: $npkgs packages, $(du -sh "$work/rootfs" | cut -f1)"
mke2fs -q -t ext4 -L lvh-root -d "$work/rootfs" "$work/out/rootfs.img" 1536M
rm -rf "$work/rootfs"

# --- warm libvirtd's capability cache: one boot with the 6.12 kernel, writes kept -----------------
say "warming libvirtd's capability cache (one boot, TCG)"
warm_capability_cache "$work/out/kernels/6.12" "$work/out/rootfs.img" "$work/warm.log" 600 || { tail -n 30 "$work/warm.log" >&2; die "capability cache warm-up failed (console tail above)"; }

cat > "$work/out/manifest.json" <<EOF
{
  "key": "$key",
  "built": "$(date -u +%FT%TZ)",
  "seconds": $SECONDS,
  "packages": "$(echo $versions)",
  "image": "rootfs.img",
  "kernels": {
    "6.1": { "version": "$(cat "$work/out/kernels/6.1/version")", "package": "$(cat "$work/out/kernels/6.1/package")" },
    "6.12": { "version": "$(cat "$work/out/kernels/6.12/version")", "package": "$(cat "$work/out/kernels/6.12/package")" }
  }
}
EOF
rm -rf "$dest"
mv "$work/out" "$dest"
ln -sfn "$key" "$cache/current"
# Images of older recipes are not used again: keep only this one.
for d in "$cache"/*/; do
  d=${d%/}; n=${d##*/}
  [[ $n =~ ^[0-9a-f]{16}$ ]] && [ "$n" != "$key" ] && rm -rf "$d"
done
say "emulated host image built: $dest ($(du -sh "$dest/rootfs.img" | cut -f1) on disk)"
