#!/usr/bin/env bash
# Build (or reuse) the second emulated host image: Debian sid's userspace with libvirt and QEMU as
# Debian sid ships them (12.8.x / 11.1.x when written), booted with sid's 7.2 kernel
# (scripts/build-emulated-kernels.sh 7.2), cgroup v2 and the same guest init as the default image
# (harness/emulated/guest/init.sh), so the topologies mock8 and tiered work unchanged. The default
# image (scripts/build-emulated-host.sh, bookworm, libvirt 9.0.0) is not touched.
#
#   scripts/build-emulated-sid.sh            build unless .cache/emulated/sid/current is up to date
#   scripts/build-emulated-sid.sh --refresh  re-resolve sid's packages (a newer libvirt/QEMU/kernel
#                                            in the archive gives a new key and a rebuild)
#   scripts/build-emulated-sid.sh --force    rebuild
#
# Cache: .cache/emulated/sid/KEY/{rootfs.img,kernels/7.2/…,manifest.json}, sid/current -> KEY.
# KEY hashes the recipe (this script, the initramfs module list, guest/init.sh,
# guest/initramfs-init.sh), the sid versions of the pinned packages and the kernel's packages. A
# cache hit needs no network: the current manifest's recipe and kernel match (--refresh asks sid).
#
# Exit status: 0 built or up to date; 3 a package is missing from sid's archive (one line on stderr
# names it and the command to retry; npm run setup reports it as a skip); 1 any other failure.
# apt's own configuration is never changed (private config under .cache/emulated/apt-sid-host, with
# Acquire::Check-Valid-Until=false: sid's Release has an expired Valid-Until).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/debs.sh"
. "$top/scripts/lib/warm-image.sh"
cache="$top/.cache/emulated"
scache="$cache/sid"
guest="$top/harness/emulated/guest"
retry="bash scripts/build-emulated-sid.sh --refresh"
die() { echo "build-emulated-sid: ERROR: $*" >&2; exit 1; }
missing() { # one line naming the package; kept for --host sid's "unavailable" message
  local line="build-emulated-sid: SKIP: Debian sid has no package $1 today (retry: $retry)"
  echo "$line" >&2
  mkdir -p "$scache" && echo "$(date -u +%FT%TZ): $line" > "$scache/unavailable"
  exit 3
}
say() { printf '[%5ss] %s\n' "$SECONDS" "$*"; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode, mke2fs -d keeps ownership)"
force=0; refresh=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --refresh) refresh=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a (usage: scripts/build-emulated-sid.sh [--refresh|--force])" ;;
  esac
done

# The packages whose versions are recorded (and pinned in the image) and the rest of the userspace.
pinned=(libvirt-daemon-system libvirt-clients libvirt-daemon qemu-system-x86)
extra=(numactl procps busybox-static kmod util-linux iproute2 libstdc++6 coreutils)
recipe=$( { cat "$0" "$top/scripts/lib/initramfs-modules.sh" "$top/scripts/lib/warm-image.sh" "$guest/init.sh" "$guest/initramfs-init.sh"; } | sha256sum | cut -c1-16)
kdir="$cache/kernels/7.2/current"

# --- the fast path: the current build's recipe and kernel match, no network ----------------------
if [ $force = 0 ] && [ $refresh = 0 ] && [ -f "$scache/current/manifest.json" ] &&
   grep -q "\"recipe\": \"$recipe\"" "$scache/current/manifest.json" &&
   [ -f "$kdir/package" ] && grep -qF "\"kernel_package\": \"$(cat "$kdir/package")\"" "$scache/current/manifest.json"; then
  d=$(readlink -f "$scache/current")
  echo "emulated sid image up to date: $d ($(sed -n 's/.*"packages": "\(.*\)",/\1/p' "$d/manifest.json"); $(du -sh "$d/rootfs.img" | cut -f1) on disk)"
  exit 0
fi

for t in mmdebstrap mke2fs busybox xz; do command -v "$t" >/dev/null || die "$t not found (apt-get install mmdebstrap busybox-static xz-utils e2fsprogs)"; done
[ -x /usr/bin/qemu-system-x86_64 ] || die "qemu-system-x86_64 not found"

# --- the kernel: sid's 7.2, cached on its own by build-emulated-kernels.sh -----------------------
if [ ! -f "$kdir/kernel.json" ] || [ $refresh = 1 ]; then
  kargs=(7.2); [ $refresh = 1 ] && kargs=(--refresh 7.2)
  bash "$top/scripts/build-emulated-kernels.sh" "${kargs[@]}" ||
    { [ -f "$kdir/kernel.json" ] || die "sid's 7.2 kernel is unavailable (see above; bash scripts/build-emulated-kernels.sh 7.2)"; }
fi
kpkg=$(cat "$kdir/package")

# --- private apt configuration for sid -----------------------------------------------------------
aptdir="$cache/apt-sid-host"
mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial"
# The machine's own Debian archive (scripts/lib/debs.sh), never a named host.
mirror=$(debian_mirror) || die "cannot tell which Debian archive this machine uses"
echo "deb $mirror sid main" > "$aptdir/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=-"
         -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache::Archives=$aptdir/archives"
         -o "Dir::State::Status=$aptdir/status" -o "Debug::NoLocking=1"
         -o "Acquire::Check-Valid-Until=false")
: > "$aptdir/status"
say "apt lists for sid (private)"
apt-get "${aptopts[@]}" -qq update 2>"$aptdir/update.err" && ! grep -qE '^E:|Failed to fetch|failed to download' "$aptdir/update.err" ||
  { cat "$aptdir/update.err" >&2; die "cannot read Debian sid's package lists from $mirror (no network? retry: $retry)"; }

versions=""
include=""
for p in "${pinned[@]}"; do
  v=$(apt-cache "${aptopts[@]}" show "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
  [ -n "$v" ] || missing "$p"
  versions+="$p=$v "
  include+="$p=$v,"
done
versions=${versions% }
for p in "${extra[@]}"; do
  apt-cache "${aptopts[@]}" show "$p" >/dev/null 2>&1 || missing "$p"
done
include+=$(IFS=,; echo "${extra[*]}")
key=$( { echo "$recipe"; echo "$versions"; echo "$kpkg"; } | sha256sum | cut -c1-16)
dest="$scache/$key"
if [ $force = 0 ] && [ -f "$dest/manifest.json" ]; then
  ln -sfn "$key" "$scache/current"
  echo "emulated sid image up to date: $dest ($versions; $(du -sh "$dest/rootfs.img" | cut -f1) on disk)"
  exit 0
fi
say "sid: $versions; kernel $kpkg"

mkdir -p "$scache"
work=$(mktemp -d "$scache/build.XXXXXX")
qpid=""
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/out/kernels/7.2"
cp "$kdir/vmlinuz" "$kdir/initrd.img" "$kdir/version" "$kdir/package" "$work/out/kernels/7.2/"

# --- root filesystem ---------------------------------------------------------------------------------
say "rootfs: mmdebstrap minbase sid with $include"
if ! mmdebstrap --variant=minbase --mode=root --quiet \
  --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Check-Valid-Until "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --include="$include" \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  sid "$work/rootfs" "deb $mirror sid main" 2>"$work/mmdebstrap.err"; then
  tail -n 40 "$work/mmdebstrap.err" >&2
  # A dependency that sid does not carry (today) is a skip, like a pinned package that is gone.
  dep=$(sed -n "s/.*Depends: \([^ ]*\) .*but it is not installable.*/\1/p; s/.*Depends: \([^ ]*\) but it is not going to be installed.*/\1/p; s/.*Unable to locate package \([^ ]*\).*/\1/p" "$work/mmdebstrap.err" | head -1)
  [ -n "$dep" ] && missing "$dep"
  grep -q '404' "$work/mmdebstrap.err" && missing "$(grep -o '[a-z0-9.+-]*_[^ ]*\.deb' "$work/mmdebstrap.err" | head -1 | cut -d_ -f1) (its file answers 404)"
  die "mmdebstrap of sid failed (above)"
fi
install -m 755 "$guest/init.sh" "$work/rootfs/sbin/lvh-init"
echo emulated > "$work/rootfs/etc/hostname"
for p in "${pinned[@]}"; do
  got=$(chroot "$work/rootfs" dpkg-query -W -f='${Version}' "$p")
  want=$(echo " $versions " | sed -n "s/.* $p=\([^ ]*\) .*/\1/p")
  [ "$got" = "$want" ] || die "$p in the image is $got, sid's lists said $want"
done
npkgs=$(chroot "$work/rootfs" dpkg-query -W | wc -l)
say "rootfs: $npkgs packages, $(du -sh "$work/rootfs" | cut -f1)"
mke2fs -q -t ext4 -L lvh-root -d "$work/rootfs" "$work/out/rootfs.img" 2048M
rm -rf "$work/rootfs"

# --- warm libvirtd's capability cache: one boot with the 7.2 kernel, writes kept -------------------
say "warming libvirtd's capability cache (one boot, TCG)"
warm_capability_cache "$work/out/kernels/7.2" "$work/out/rootfs.img" "$work/warm.log" 900 || true
cp "$work/warm.log" "$scache/last-warm.log"
grep -q '@@WARMED' "$work/warm.log" || { tail -n 30 "$work/warm.log" >&2; die "capability cache warm-up failed (console tail above, whole log in $scache/last-warm.log)"; }

cat > "$work/out/manifest.json" <<EOF
{
  "key": "$key",
  "recipe": "$recipe",
  "distro": "sid",
  "built": "$(date -u +%FT%TZ)",
  "seconds": $SECONDS,
  "packages": "$versions",
  "kernel_package": "$kpkg",
  "image": "rootfs.img",
  "kernels": {
    "7.2": { "version": "$(cat "$work/out/kernels/7.2/version")", "package": "$kpkg" }
  }
}
EOF
rm -rf "$dest"
mv "$work/out" "$dest"
ln -sfn "$key" "$scache/current"
rm -f "$scache/unavailable"
# Images of older recipes are not used again: keep only this one.
for d in "$scache"/*/; do
  d=${d%/}; n=${d##*/}
  [[ $n =~ ^[0-9a-f]{16}$ ]] && [ "$n" != "$key" ] && rm -rf "$d"
done
say "emulated sid image built: $dest ($(du -sh "$dest/rootfs.img" | cut -f1) on disk)"
