#!/usr/bin/env bash
# Build libvirt from a source tree plus a patch series, minimal configuration, cached by key.
#
#   scripts/build-libvirt.sh [--tree DIR] [--patches PATH] [--out DIR] [--jobs N] [--key-only]
#
#   --tree DIR      libvirt source tree (default: .cache/libvirt-src/libvirt-<installed version>, the Debian orig
#                   tarball fetched by scripts/fetch-libvirt-tests.sh), or a git checkout with its
#                   submodules initialised. Read-only: it is copied (without .git).
#   --patches PATH  the series: an mbox / one .patch file, or a directory of *.patch files applied
#                   in name order. git-format patches go through `git am`, plain diffs `patch -p1`.
#                   A directory with subdirectories named after libvirt versions (e.g.
#                   cases/series/broken-restrictive/11.3.0/) holds the same series rebased: the
#                   highest version <= the tree's is used instead of the top-level patches (so a
#                   tree at master takes the newest rebase, 9.0.0 the top level).
#   --out DIR       cache root (default .cache/builds); the build lives in OUT/<key>/.
#   --key-only      print the key and exit (no copy, no build).
#
# Key = first 16 hex digits of sha256(recipe version, libvirt version, sha256 of the tree's
# files (paths + contents, .git excluded), the series' patch contents, the meson options).
# What is built follows the tree, never its version string: the JSON library option meson_options.txt
# offers (yajl up to 9.x, json_c from 10), libnl when offered, and the test programs present
# (tests/qemuxml2argvtest.c + qemuxml2xmltest.c up to 9.x, tests/qemuxmlconftest.c from 10).
# A manifest OUT/<key>/manifest.json is written only when the build succeeded; its presence
# is the cache hit. A series whose clean tree is built starts from a copy of that build's
# directory (manifest: seededFrom), so only what the series touches is compiled again.
# The last line on stdout is always `key=<key>`.
#
# Every build of one libvirt version is configured at its version's slot paths (scripts/in-build.sh:
# the same headers for every key, so ccache's direct mode hits across keys) and runs in a private
# mount namespace that shows OUT/<key> and its state dirs there. Seen from outside:
#   sysconfdir    OUT/<key>/inst/etc          (qemu.conf, libvirtd.conf written by series-daemon.sh)
#   localstatedir /var/lib/lvh/<key>          (short: QEMU monitor sockets must fit 108 bytes)
#   runstatedir   /run/lvh/<key>              (the daemon's socket: /run/lvh/<key>/libvirt/libvirt-sock)
# and inside, the same at /var/lib/lvh-build/v<version>/inst/etc, /var/lib/lvh/v<version>, /run/lvh/v<version>.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/debs.sh"
RECIPE=3   # bump when the way a build is made changes (invalidates every key)

say() { echo "build-libvirt: $*"; }
# A failed build keeps only its logs (the error names them): the copied tree, the throwaway git
# and the objects (200 MB and more) go, and the next attempt at the key starts afresh anyway.
discard_failed() {
  if [ -n "${root:-}" ] && [ -d "$root" ] && [ ! -f "$root/manifest.json" ]; then
    rm -rf "$root/src" "$root/git" "$root/build" "$root/inst"
    rmdir "$root" 2>/dev/null || true # nothing logged: nothing left
  fi
}
die() { echo "build-libvirt: ERROR: $*" >&2; discard_failed; exit 1; }

tree="" patches="" out="$top/.cache/builds" jobs="" key_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tree) tree=${2:?--tree needs a directory}; shift 2 ;;
    --patches) patches=${2:?--patches needs a path}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --key-only) key_only=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-libvirt: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

if [ -z "$tree" ]; then
  # The installed libvirt's version (what scripts/fetch-libvirt-tests.sh fetches with no
  # argument), not the first directory by name: libvirt-11.3.0 sorts before libvirt-9.0.0.
  inst=$(dpkg-query -W -f='${Version}' libvirt-clients 2>/dev/null || true)
  inst=${inst%%-*}; inst=${inst#*:}
  tree="$top/.cache/libvirt-src/libvirt-${inst:-9.0.0}"
  [ -d "$tree" ] || die "no --tree and no $tree; run scripts/fetch-libvirt-tests.sh"
fi
tree=$(cd "$tree" && pwd)
[ -f "$tree/meson.build" ] && [ -f "$tree/src/qemu/qemu_command.c" ] || die "$tree is not a libvirt source tree"
version=$(sed -n "s/^ *version: *'\([0-9.]*\)'.*/\1/p" "$tree/meson.build" | head -1)
[ -n "$version" ] || die "cannot read libvirt's version from $tree/meson.build"
# A git checkout (libvirt at master): its submodules (subprojects/keycodemapdb) must be there.
# The copy leaves .git behind, so meson cannot fetch them itself.
if [ -f "$tree/.gitmodules" ]; then
  while read -r _ sub; do
    [ -n "$(ls -A "$tree/$sub" 2>/dev/null)" ] \
      || die "submodule $sub of $tree is not checked out: run git -C $tree submodule update --init"
  done < <(git config -f "$tree/.gitmodules" --get-regexp '^submodule\..*\.path$' || true)
fi

# The series: an ordered list of files.
series=()
if [ -n "$patches" ]; then
  [ -e "$patches" ] || die "--patches $patches does not exist"
  patches=$(cd "$(dirname "$patches")" && echo "$PWD/$(basename "$patches")")
  # Per-version rebases: the subdirectory of the highest version <= the tree's (a tree at
  # master takes the newest rebase); none of them: the top-level patches.
  if [ -d "$patches" ]; then
    rebased=$( { find "$patches" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | grep -E '^[0-9]+(\.[0-9]+)*$' || true
                 echo "$version"; } | sort -V -u | awk -v v="$version" '$0 == v { print prev; exit } { prev = $0 }')
    # (the directory sorting just below the tree's version, if any; an exact match wins)
    [ -d "$patches/$version" ] && rebased=$version
    if [ -n "$rebased" ] && [ -d "$patches/$rebased" ]; then
      say "series rebased for libvirt $rebased (tree $version): $patches/$rebased"
      patches="$patches/$rebased"
    fi
  fi
  if [ -d "$patches" ]; then
    while IFS= read -r -d '' f; do series+=("$f"); done \
      < <(find "$patches" -maxdepth 1 -type f \( -name '*.patch' -o -name '*.diff' -o -name '*.mbox' \) -print0 | LC_ALL=C sort -z)
    [ ${#series[@]} -gt 0 ] || die "no *.patch / *.diff / *.mbox files in $patches"
  else
    series=("$patches")
  fi
fi

# What the tree offers (meson_options.txt) and which test programs it has.
has_option() { grep -q "^option('$1'" "$tree/meson_options.txt"; }
if [ -f "$tree/tests/qemuxmlconftest.c" ]; then
  layout=xmlconf test_programs=(qemuxmlconftest)
elif [ -f "$tree/tests/qemuxml2argvtest.c" ] && [ -f "$tree/tests/qemuxml2xmltest.c" ]; then
  layout=xml2argv test_programs=(qemuxml2argvtest qemuxml2xmltest)
else
  die "$tree has neither tests/qemuxmlconftest.c nor tests/qemuxml2argvtest.c + qemuxml2xmltest.c"
fi
if has_option yajl; then json_opt=-Dyajl=enabled json_debs=(libyajl-dev)
elif has_option json_c; then json_opt=-Djson_c=enabled json_debs=(libjson-c-dev)
else die "$tree/meson_options.txt offers neither a yajl nor a json_c option"
fi

# Minimal configuration: everything optional off (--auto-features=disabled), then only what the
# QEMU driver, libvirtd, virsh and the test programs need. numactl on, as in Debian's build;
# libnl on where offered (from 10 the Linux netdev code does not compile without it).
meson_opts=(
  --auto-features=disabled
  -Dbuildtype=plain -Doptimization=2 -Ddebug=false
  -Ddriver_qemu=enabled -Ddriver_libvirtd=enabled -Ddriver_remote=enabled
  "$json_opt" -Dnumactl=enabled
  -Dtests=enabled -Dexpensive_tests=disabled -Ddocs=disabled
  -Dno_git=true -Dgit_werror=disabled -Dwerror=false
  -Dinit_script=none -Dqemu_user=libvirt-qemu -Dqemu_group=libvirt-qemu
)
nl_debs=()
if has_option libnl; then meson_opts+=(-Dlibnl=enabled); nl_debs=(libnl-3-dev libnl-route-3-dev); fi
# virsh's default URI goes to libvirtd (as in Debian's build) rather than to virtqemud.
if has_option remote_default_mode; then meson_opts+=(-Dremote_default_mode=legacy); fi

tree_hash=$(cd "$tree" && find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z \
  | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
series_hash=$(for f in "${series[@]}"; do sha256sum < "$f"; done | sha256sum | cut -d' ' -f1)
full_key_of() { printf 'recipe %s\nversion %s\ntree %s\nseries %s\nmeson %s\n' \
  "$RECIPE" "$version" "$tree_hash" "$1" "${meson_opts[*]}" | sha256sum | cut -d' ' -f1; }
full_key=$(full_key_of "$series_hash")
key=${full_key:0:16}
# The same tree and options without the series (what a series build may start from, below).
clean_key=$(full_key_of "$(printf '' | sha256sum | cut -d' ' -f1)" | cut -c1-16)
if [ "$key_only" = 1 ]; then echo "key=$key"; exit 0; fi

root="$out/$key"
mkdir -p "$out"
out=$(cd "$out" && pwd); root="$out/$key"

# One builder per key at a time.
exec 9>"$out/$key.lock"
flock 9

if [ -f "$root/manifest.json" ]; then
  say "cache hit: $root (libvirt $version, ${#series[@]} patch file(s)) in $(elapsed "$t0") s"
  echo "key=$key"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "building needs root: it runs in a private mount namespace (scripts/in-build.sh)"
say "building libvirt $version from $tree with ${#series[@]} patch file(s) -> $root"

# Build dependencies: explicit Debian package names, installing only the missing ones.
deps=(meson ninja-build gcc pkg-config git patch libglib2.0-dev libxml2-dev libgnutls28-dev
      libtirpc-dev "${json_debs[@]}" "${nl_debs[@]}" libnuma-dev python3 python3-docutils xsltproc libxml2-utils perl
      ccache)
read -ra missing <<< "$(missing_debs "${deps[@]}")"
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing build dependencies (${missing[*]}) and not root to install them"
  say "installing build dependencies: ${missing[*]}"
  t_apt=$(date +%s.%N)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "apt: $(elapsed "$t_apt") s"
fi

# Fresh work dir (a failed earlier attempt is discarded).
rm -rf "$root"
mkdir -p "$root"
src="$root/src" gitdir="$root/git" build="$root/build"
mkdir -p "$src"
t_copy=$(date +%s.%N)
tar -C "$tree" --exclude=./.git -cf - . | tar -C "$src" -xf -

# A throwaway git repository whose .git lives OUTSIDE the source dir, so that meson does not
# switch to its "building from git" mode (submodule update, -Werror, syntax-check).
export GIT_AUTHOR_NAME="libvirt-harness" GIT_AUTHOR_EMAIL="harness@localhost"
export GIT_COMMITTER_NAME="libvirt-harness" GIT_COMMITTER_EMAIL="harness@localhost"
g() { git --git-dir="$gitdir" --work-tree="$src" -c core.autocrlf=false -c commit.gpgsign=false "$@"; }
g init -q
g add -A
g commit -q -m "libvirt $version (tree $tree_hash)"
say "copied tree into $src in $(elapsed "$t_copy") s"

subjects=()
is_git_format() { grep -qE '^From [0-9a-f]{40} ' "$1" || { grep -q '^Subject:' "$1" && grep -q '^From:' "$1"; }; }
for f in "${series[@]}"; do
  if is_git_format "$f"; then
    # git am with the work tree = the copy (cwd must be inside it for relative paths).
    (cd "$src" && g am -q --keep-cr "$f") || { (cd "$src" && g am --abort) || true; die "git am failed on $f"; }
  else
    (cd "$src" && patch -p1 --quiet --no-backup-if-mismatch < "$f") || die "patch -p1 failed on $f"
    g add -A
    g commit -q -m "$(basename "$f")"
  fi
done
if [ ${#series[@]} -gt 0 ]; then
  # Subjects as committed (git am strips "[PATCH n/m]"); plain diffs are named by their file.
  mapfile -t subjects < <(g log --reverse --format=%s "$(g rev-list --max-parents=0 HEAD)..HEAD")
  say "applied series:"
  for s in "${subjects[@]}"; do say "  $s"; done
fi

# ccache (meson picks it up by itself): a series only touching a few files rebuilds in a
# fraction of the time of the first build. Every key of a version is built at its slot's paths
# (scripts/in-build.sh), so the headers meson generates are the same for all of them and the
# direct mode hits; CCACHE_BASEDIR makes the remaining absolute paths relative. Not part of the
# key: it does not change what is built. Nothing of a build depends on where the project is
# cloned any more (two clones' builds of a key are byte for byte the same), so the cache is the
# machine's, not the clone's: a clean clone on a machine that built before starts warm.
slot="v$version"
eval "$(bash "$top/scripts/in-build.sh" --paths "$slot")" # BUILD_ROOT STATE_DIR RUN_DIR
inb() { bash "$top/scripts/in-build.sh" --slot "$slot" --root "$root" -- "$@"; }
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/libvirt-harness/ccache}" CCACHE_BASEDIR="$BUILD_ROOT" CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
command -v ccache >/dev/null && ccache -z >/dev/null 2>&1 || true

# A series on a tree whose clean build exists starts from that build's directory: it was made for
# the same paths (the slot), options and tree, and ninja then rebuilds only what the series
# changed. That needs every file the series did not touch to be older than the clean build's
# outputs and every file it touched newer: the tree copies keep the tree's times (tar) and the
# patches were just written. Only a clean build is a sound start: another series' patched files
# would look older than its objects here.
t_setup=$(date +%s.%N)
seeded=""
if [ ${#series[@]} -gt 0 ] && [ -f "$out/$clean_key/manifest.json" ] && [ -f "$out/$clean_key/build/build.ninja" ]; then
  cp -a "$out/$clean_key/build" "$build"
  seeded=$clean_key
  say "configured from the clean tree's build $clean_key (same slot, options and tree); ninja rebuilds what the series touched"
else
  inb meson setup "$BUILD_ROOT/build" "$BUILD_ROOT/src" --prefix="$BUILD_ROOT/inst" --sysconfdir="$BUILD_ROOT/inst/etc" \
    --localstatedir="$STATE_DIR" -Drunstatedir="$RUN_DIR" \
    "${meson_opts[@]}" > "$root/meson-setup.log" 2>&1 \
    || { tail -30 "$root/meson-setup.log" >&2; die "meson setup failed (log: $root/meson-setup.log)"; }
fi
setup_secs=$(elapsed "$t_setup")
say "${seeded:+copied build dir instead of }meson setup: $setup_secs s"

# Targets: daemon, QEMU driver module, virsh, the test programs and the mocks they preload (those
# of the mock list the tree has).
mocks=(qemuxml2argvmock domaincapsmock virrandommock qemucpumock virpcimock virtestmock virnumamock)
targets=(src/libvirtd src/libvirt_driver_qemu.so tools/virsh)
for p in "${test_programs[@]}"; do targets+=("tests/$p"); done
for m in "${mocks[@]}"; do [ -f "$src/tests/$m.c" ] && targets+=("tests/lib$m.so"); done
t_ninja=$(date +%s.%N)
inb ninja -C "$BUILD_ROOT/build" ${jobs:+-j "$jobs"} "${targets[@]}" > "$root/ninja.log" 2>&1 \
  || { grep -B2 -A12 -m3 'error:\|FAILED' "$root/ninja.log" >&2 || tail -30 "$root/ninja.log" >&2
       die "ninja failed (log: $root/ninja.log)"; }
ninja_secs=$(elapsed "$t_ninja")
say "ninja: $ninja_secs s"
if command -v ccache >/dev/null; then
  ccache -s 2>/dev/null | grep -iE '^ *(hits|misses)|cache hit|cache miss' | sed 's/^ */build-libvirt: ccache: /' | head -4 || true
fi
for t in "${targets[@]}"; do [ -e "$build/$t" ] || die "expected $build/$t after ninja"; done

total_secs=$(elapsed "$t0")
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
{
  echo "{"
  echo "  \"key\": \"$key\","
  echo "  \"fullKey\": \"$full_key\","
  echo "  \"tree\": $(json_str "$tree"),"
  echo "  \"treeHash\": \"$tree_hash\","
  echo "  \"version\": \"$version\","
  echo "  \"patches\": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${series[@]}"),"
  echo "  \"series\": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${subjects[@]}"),"
  echo "  \"seriesHash\": \"$series_hash\","
  echo "  \"mesonOptions\": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${meson_opts[@]}" \
        --prefix="$BUILD_ROOT/inst" --sysconfdir="$BUILD_ROOT/inst/etc" --localstatedir="$STATE_DIR" -Drunstatedir="$RUN_DIR"),"
  echo "  \"seededFrom\": $( [ -n "$seeded" ] && echo "\"$seeded\"" || echo null ),"
  # the paths the build was made for (scripts/in-build.sh shows it there)
  echo "  \"slot\": \"$slot\", \"buildRoot\": \"$BUILD_ROOT\", \"stateDir\": \"$STATE_DIR\", \"runDir\": \"$RUN_DIR\","
  echo "  \"buildSeconds\": { \"total\": $total_secs, \"mesonSetup\": $setup_secs, \"ninja\": $ninja_secs },"
  echo "  \"jobs\": $(nproc),"
  echo "  \"root\": $(json_str "$root"),"
  echo "  \"srcdir\": $(json_str "$src"),"
  echo "  \"builddir\": $(json_str "$build"),"
  echo "  \"binaries\": {"
  echo "    \"libvirtd\": $(json_str "$build/src/libvirtd"),"
  echo "    \"virsh\": $(json_str "$build/tools/virsh"),"
  echo "    \"qemuDriver\": $(json_str "$build/src/libvirt_driver_qemu.so"),"
  # one entry per test program of the tree's layout
  for p in "${test_programs[@]}"; do echo "    \"$p\": $(json_str "$build/tests/$p"),"; done \
    | sed '$ s/,$//'
  echo "  },"
  echo "  \"testLayout\": \"$layout\","
  echo "  \"uri\": \"qemu+unix:///system?socket=/run/lvh/$key/libvirt/libvirt-sock\","
  echo "  \"builtAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  echo "}"
} > "$root/manifest.json.tmp"
python3 -m json.tool "$root/manifest.json.tmp" >/dev/null
mv "$root/manifest.json.tmp" "$root/manifest.json"
say "built in $total_secs s; manifest $root/manifest.json"
echo "key=$key"
