#!/usr/bin/env bash
# Kernels for the emulated multi-node host that are fetched and cached on their own, beside the
# image (scripts/build-emulated-host.sh builds the image and its own 6.1 and 6.12): adding or
# refreshing one of these never rebuilds the root filesystem.
#
#   scripts/build-emulated-kernels.sh [LABEL...]            build unless cached (default: all labels)
#   scripts/build-emulated-kernels.sh --refresh [LABEL...]  re-resolve the packages in the archive
#   scripts/build-emulated-kernels.sh --force [LABEL...]    rebuild even when cached
#
# Labels: 7.2 = Debian sid's newest linux-binary-7.2.*-amd64 + linux-modules-7.2.*-amd64.
#
# Layout: .cache/emulated/kernels/LABEL/KEY/{vmlinuz,initrd.img,version,package,kernel.json},
# .cache/emulated/kernels/LABEL/current -> KEY (harness/emulated/vm.ts lists these beside the
# image's kernels). KEY hashes the recipe (this script, guest/initramfs-init.sh, busybox's
# version) and the packages' versions. A cache hit needs no network (the recipe matches); a newer
# package in the archive is picked up with --refresh. When a build fails, the reason is kept in
# .cache/emulated/kernels/LABEL/unavailable (vm.ts reports it) and a cached kernel stays usable.
# apt's own configuration is never changed (private config under .cache/emulated/apt-sid).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/debs.sh"
cache="$top/.cache/emulated"
kcache="$cache/kernels"
guest="$top/harness/emulated/guest"
die() { echo "build-emulated-kernels: ERROR: $*" >&2; exit 1; }
say() { printf '[%5ss] %s\n' "$SECONDS" "$*"; }

declare -A suite_of=([7.2]=sid)
usage="usage: scripts/build-emulated-kernels.sh [--refresh|--force] [LABEL...] (labels: ${!suite_of[*]})"

[ "$(id -u)" = 0 ] || die "must run as root (dpkg -x keeps the packages' ownership; the cache is root's)"
force=0; refresh=0; labels=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --refresh) refresh=1 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    -*) die "unknown option $a ($usage)" ;;
    *) [ -n "${suite_of[$a]:-}" ] || die "no recipe for kernel '$a' ($usage)"; labels+=("$a") ;;
  esac
done
[ ${#labels[@]} -gt 0 ] || labels=("${!suite_of[@]}")
for t in busybox xz dpkg-deb strings sha256sum; do command -v "$t" >/dev/null || die "$t not found (apt-get install busybox-static xz-utils)"; done

recipe=$( { cat "$0" "$top/scripts/lib/initramfs-modules.sh" "$guest/initramfs-init.sh"; dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || busybox | head -1; } | sha256sum | cut -c1-16)

# --- private apt configuration per suite (sid's Release has an expired Valid-Until) ------------------
aptopts=()
apt_ready=""
mirror=
apt_for() { # $1 suite: sets aptopts, fetches the lists once per run
  local aptdir="$cache/apt-$1"
  # The machine's own Debian archive (scripts/lib/debs.sh), never a named host.
  mirror=${mirror:-$(debian_mirror)} || return 1
  aptopts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=-"
           -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache::Archives=$aptdir/archives"
           -o "Dir::State::Status=$aptdir/status" -o "Debug::NoLocking=1"
           -o "Acquire::Check-Valid-Until=false")
  [ "$apt_ready" = "$1" ] && return 0
  mkdir -p "$aptdir/lists/partial" "$aptdir/archives/partial"
  echo "deb $mirror $1 main" > "$aptdir/sources.list"
  : > "$aptdir/status"
  say "apt lists for $1 (private)"
  # Offline, apt may keep old lists and still exit 0: its messages tell.
  apt-get "${aptopts[@]}" -qq update 2>"$aptdir/update.err" && ! grep -qE '^E:|Failed to fetch|failed to download' "$aptdir/update.err" ||
    { cat "$aptdir/update.err" >&2; return 1; }
  apt_ready=$1
}

# Modules the initramfs loads (wanted_modules, modvisit): shared with the other emulated-host script.
. "$top/scripts/lib/initramfs-modules.sh"

work=""
why=""
fail() { why=$1; echo "build-emulated-kernels: $1" >&2; return 1; }
cleanup() { [ -n "$work" ] && rm -rf "$work"; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM

build() { # $1 label: 0 when the kernel is cached or built, else 1 with the reason in $why
  local label=$1 suite=${suite_of[$1]} ldir="$kcache/$1" bin mods pkgs key kroot kd kver deb vmlinuz moddir p v
  mkdir -p "$ldir"
  if [ $force = 0 ] && [ $refresh = 0 ] && [ -f "$ldir/current/kernel.json" ] &&
     grep -q "\"recipe\": \"$recipe\"" "$ldir/current/kernel.json"; then
    rm -f "$ldir/unavailable"
    echo "kernel $label up to date: $(cat "$ldir/current/package") ($ldir/current)"
    return 0
  fi
  apt_for "$suite" || { fail "cannot read Debian $suite's package lists from $mirror (no network, or a mirror without $suite: set LVH_DEBIAN_MIRROR)"; return 1; }
  # The newest linux-binary-LABEL.N+debNN-amd64 (not -cloud/-rt/-unsigned) and its modules.
  bin=$(apt-cache "${aptopts[@]}" pkgnames "linux-binary-$label." | grep -E "^linux-binary-${label//./\\.}\.[0-9]+\+[a-z0-9]+-amd64\$" | sort -V | tail -1 || true)
  [ -n "$bin" ] || { fail "Debian $suite has no linux-binary-$label.*-amd64 package (any more?)"; return 1; }
  mods=${bin/linux-binary-/linux-modules-}
  pkgs=""
  for p in "$bin" "$mods"; do
    v=$(apt-cache "${aptopts[@]}" show "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1)
    [ -n "$v" ] || { fail "Debian $suite has no $p"; return 1; }
    pkgs+="$p=$v "
  done
  pkgs=${pkgs% }
  key=$( { echo "$recipe"; echo "$pkgs"; } | sha256sum | cut -c1-16)
  if [ $force = 0 ] && [ -f "$ldir/$key/kernel.json" ]; then
    ln -sfn "$key" "$ldir/current"; rm -f "$ldir/unavailable"
    echo "kernel $label up to date: $pkgs ($ldir/$key)"
    return 0
  fi
  say "kernel $label: $pkgs"
  work=$(mktemp -d "$kcache/build.XXXXXX")
  kroot="$work/root"
  (cd "$work" && apt-get "${aptopts[@]}" -qq download ${pkgs}) 2>"$work/download.err" ||
    { cat "$work/download.err" >&2; fail "downloading $pkgs from Debian $suite failed (no network?)"; return 1; }
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$kroot" || { fail "dpkg -x $deb failed"; return 1; }; done
  say "kernel $label: unpacked ($(du -sh "$kroot" | cut -f1))"
  moddir=$(ls -d "$kroot"/usr/lib/modules/*/ "$kroot"/lib/modules/*/ 2>/dev/null | head -1)
  [ -n "$moddir" ] || { fail "no lib/modules in $pkgs"; return 1; }
  moddir=${moddir%/}; kver=${moddir##*/}
  vmlinuz=$(ls "$moddir/vmlinuz" "$kroot/boot/vmlinuz-$kver" 2>/dev/null | head -1)
  [ -n "$vmlinuz" ] || { fail "no vmlinuz in $pkgs"; return 1; }
  kd="$work/out"
  mkdir -p "$kd/initrd/bin" "$kd/initrd/modules" "$kd/initrd/proc" "$kd/initrd/sys" "$kd/initrd/dev" "$kd/initrd/newroot"
  cp "$vmlinuz" "$kd/vmlinuz"
  echo "$kver" > "$kd/version"
  echo "$pkgs" > "$kd/package"
  seen=(); order=()
  for m in "${wanted_modules[@]}"; do modvisit "$moddir" "$m"; done
  # busybox insmod loads only uncompressed modules: decompress them (.ko.xz / .ko.zst).
  for m in "${order[@]}"; do modcat "$(modfind "$moddir" "$m")" > "$kd/initrd/modules/$m.ko"; done
  printf '%s\n' "${order[@]}" > "$kd/initrd/modules.list"
  cp "$(command -v busybox)" "$kd/initrd/bin/busybox"
  install -m 755 "$guest/initramfs-init.sh" "$kd/initrd/init"
  (cd "$kd/initrd" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 > "$kd/initrd.img" || { fail "making the initramfs failed"; return 1; }
  rm -rf "$kd/initrd" "$kroot"
  cat > "$kd/kernel.json" <<EOF
{
  "label": "$label",
  "key": "$key",
  "recipe": "$recipe",
  "suite": "$suite",
  "version": "$kver",
  "package": "$pkgs",
  "modules": "${order[*]}",
  "built": "$(date -u +%FT%TZ)"
}
EOF
  rm -rf "${ldir:?}/$key"
  mv "$kd" "$ldir/$key"
  ln -sfn "$key" "$ldir/current"
  rm -f "$ldir/unavailable"
  rm -rf "$work"; work=""
  # Older builds of this label are not used again (a running QEMU has already read its files).
  for d in "$ldir"/*/; do
    d=${d%/}; n=${d##*/}
    [[ $n =~ ^[0-9a-f]{16}$ ]] && [ "$n" != "$key" ] && rm -rf "$d"
  done
  say "kernel $label: $kver, initramfs modules: ${order[*]} ($ldir/$key, $(du -sh "$ldir/$key" | cut -f1))"
}

mkdir -p "$kcache"
failed=()
for label in "${labels[@]}"; do
  why=""
  if ! build "$label"; then
    [ -n "$work" ] && { rm -rf "$work"; work=""; }
    if [ -f "$kcache/$label/current/kernel.json" ]; then
      echo "build-emulated-kernels: WARNING: kernel $label not refreshed (${why:-see above}); the cached $(cat "$kcache/$label/current/package") stays in use" >&2
    else
      echo "$(date -u +%FT%TZ): ${why:-the build failed}" > "$kcache/$label/unavailable"
      failed+=("$label")
      echo "build-emulated-kernels: ERROR: kernel $label unavailable: ${why:-see above}" >&2
    fi
  fi
done
[ ${#failed[@]} -eq 0 ] || exit 1
