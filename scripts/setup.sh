#!/usr/bin/env bash
# `npm run setup`: prepare a fresh Debian 12 machine (root, no systemd needed) for the harness.
# Idempotent: every step is skipped or cheap when already done. apt's sources are never changed.
#
#   npm run setup                            Debian 12's libvirt 9.0.0 + QEMU 7.2
#   npm run setup -- --libvirt backports     libvirt 11.3.0 + QEMU 10.0 from bookworm-backports
#                                            (or LVH_LIBVIRT=backports); replaces 9.0.0 for every
#                                            user of the machine
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib/debs.sh

step() { printf '\n== %s\n' "$*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

# Which libvirt: Debian 12's own 9.0.0 + QEMU 7.2 (default), or bookworm-backports' 11.3.0 +
# QEMU 10.0, which REPLACES 9.0.0 on the machine (scripts/install-libvirt-backports.sh).
libvirt=${LVH_LIBVIRT:-debian}
while [ $# -gt 0 ]; do
  case "$1" in
    --libvirt) libvirt=${2:-}; shift 2 || shift ;;
    --libvirt=*) libvirt=${1#--libvirt=}; shift ;;
    -h|--help) echo "usage: npm run setup [-- --libvirt debian|backports]   (or LVH_LIBVIRT=backports)"; exit 0 ;;
    *) die "unknown argument: $1 (usage: npm run setup [-- --libvirt debian|backports])" ;;
  esac
done
case "$libvirt" in
  debian|backports) ;;
  *) die "--libvirt must be 'debian' (9.0.0, the default) or 'backports' (11.3.0 + QEMU 10.0), not '$libvirt'" ;;
esac

if [ "$(id -u)" != 0 ]; then
  cat >&2 <<'EOF'
setup: ERROR: must run as root. Without root this script cannot install Debian packages
(libvirt-daemon-system, libvirt-clients, qemu-system-x86, xz-utils), start libvirtd/virtlogd,
or fix /dev/kvm's group and mode; the libvirt backend also needs root for qemu:///system.
EOF
  exit 1
fi

# chromium: the HTML report's browser test (harness/test/html-report.test.ts) drives Debian's own
# build; no browser is ever downloaded by npm. rsync: gitlab-ci-local (the CI definition run by
# harness/test/ci-definitions.test.ts) copies the tracked files with it. qemu-utils: qemu-img makes
# the emulated host's saved-state overlay (harness/emulated/snapshot.ts). tini: the daemons the
# harness starts run under it, so their QEMUs are reaped at once (scripts/lib/reaper.sh).
packages=(libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils xz-utils mmdebstrap busybox-static e2fsprogs chromium rsync tini)
# backports: libvirt and QEMU come from the next step, not first 9.0.0 then 11.3.0 over it
# (qemu-utils is moved with the rest of QEMU's packages there)
[ "$libvirt" = debian ] || packages=(qemu-utils xz-utils mmdebstrap busybox-static e2fsprogs chromium rsync tini)

step "Debian packages: ${packages[*]}"
read -ra missing <<< "$(missing_debs "${packages[@]}")"
if [ ${#missing[@]} -eq 0 ]; then
  echo "already installed"
else
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

replaced=0
if [ "$libvirt" = backports ]; then
  step "libvirt 11.3.0 + QEMU 10.0 from bookworm-backports (replaces the installed libvirt)"
  before=$(dpkg-query -W -f='${Version}' libvirt-daemon 2>/dev/null || true)
  bash scripts/install-libvirt-backports.sh
  [ "$before" = "$(dpkg-query -W -f='${Version}' libvirt-daemon 2>/dev/null || true)" ] || replaced=1
fi

step "npm dependencies and build"
bash scripts/node-deps.sh || die "npm dependencies or the TypeScript build failed (see above)"

step "libvirt test data"
bash scripts/fetch-libvirt-tests.sh
# The project's model and cases read 9.0.0's tests as well, whatever libvirt is installed, and
# 11.3.0's (the model knows both releases; the runner reads each tree's own layout).
[ "$libvirt" = debian ] || bash scripts/fetch-libvirt-tests.sh 9.0.0
bash scripts/fetch-libvirt-tests.sh 11.3.0

step "hugetlbfs"
# Before the daemons: libvirt reads the hugetlbfs mounts only when it starts.
bash scripts/hugetlbfs.sh

step "libvirt daemons"
if [ "$replaced" = 1 ]; then
  # Daemons this project started before the upgrade still run the replaced binaries.
  bash scripts/daemons.sh stop
fi
bash scripts/daemons.sh start

step "probe host"
node scripts/probe-host.mjs

step "emulated multi-node host image"
# The emulated host's pairs run where the image exists; without it npm test says why and how to
# build it. A failed build (no archive reachable, no disk) leaves the rest of the set-up usable.
if [ "${LVH_NO_EMULATED:-}" = 1 ]; then
  echo "skipped (LVH_NO_EMULATED=1): npm test reports the emulated host's cases as skipped"
else
  if ! bash scripts/build-emulated-host.sh; then
    echo "setup: WARNING: the emulated host image was not built (see above); npm test skips its cases with that reason" >&2
  fi
  # Kernels beyond the image's 6.1 and 6.12 (sid's 7.2), cached on their own: fetching or
  # refreshing one never rebuilds the image, and a failure leaves the other kernels usable.
  if ! bash scripts/build-emulated-kernels.sh; then
    echo "setup: WARNING: some emulated host kernels are unavailable (see above); --kernel LABEL says why and how to build it" >&2
  fi
  # The second emulated image (Debian sid: libvirt 12.8, QEMU 11.1, kernel 7.2), host id 'sid'.
  # Optional: a package sid lacks today (exit 3) is a skip naming it; any other failure a warning.
  step "emulated sid host image (libvirt and QEMU as Debian sid ships them)"
  rc=0; bash scripts/build-emulated-sid.sh || rc=$?
  case $rc in
    0) ;;
    3) echo "setup: SKIP: the emulated sid host is not built (the package is named above); --host sid reports it as unavailable" ;;
    *) echo "setup: WARNING: the emulated sid host image was not built (see above); --host sid reports it as unavailable" >&2 ;;
  esac
fi

echo
echo "setup: done"
