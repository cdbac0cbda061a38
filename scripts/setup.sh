#!/usr/bin/env bash
# `npm run setup`: prepare a fresh Debian 12 machine (root, no systemd needed) for the harness.
# Idempotent: every step is skipped or cheap when already done. apt's sources are never changed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib/debs.sh

step() { printf '\n== %s\n' "$*"; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
  cat >&2 <<'EOF'
setup: ERROR: must run as root. Without root this script cannot install Debian packages
(libvirt-daemon-system, libvirt-clients, qemu-system-x86, xz-utils), start libvirtd/virtlogd,
or fix /dev/kvm's group and mode; the libvirt backend also needs root for qemu:///system.
EOF
  exit 1
fi

packages=(libvirt-daemon-system libvirt-clients qemu-system-x86 xz-utils)

step "Debian packages: ${packages[*]}"
read -ra missing <<< "$(missing_debs "${packages[@]}")"
if [ ${#missing[@]} -eq 0 ]; then
  echo "already installed"
else
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

step "npm dependencies"
command -v npm >/dev/null || die "npm not found (Node 20 is required)"
if [ -f package-lock.json ]; then
  # npm ci wipes node_modules; skip it when this lockfile was already installed.
  stamp=node_modules/.lvh-lock.sha256
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "node_modules already installed from this package-lock.json"
  else
    npm ci --no-audit --no-fund
    echo "$want" > "$stamp"
  fi
else
  npm install --no-audit --no-fund
fi

step "build (tsc)"
npm run build || die "TypeScript build failed (see above)"

step "libvirt test data"
bash scripts/fetch-libvirt-tests.sh

step "libvirt daemons"
bash scripts/daemons.sh start

step "probe host"
node scripts/probe-host.mjs

echo
echo "setup: done"
