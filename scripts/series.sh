#!/usr/bin/env bash
# Guard a patch series: build libvirt from a tree plus the series (cached by key), start that
# build's daemon privately, run the harness against it, stop the daemon (also on failure or
# Ctrl-C). Everything after `--` goes to the suite runner (npm test's options).
#
#   scripts/series.sh [--tree DIR] [--patches PATH] [-- --case GLOB --expect-failures FILE …]
#   npm run series -- --patches cases/series/broken-restrictive -- --expect-failures cases/series/broken-restrictive/expected-failures.txt
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tree|--patches) build_args+=("$1" "$2"); shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "series: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
# The build's output goes to our stderr as it comes (through the inherited descriptor: reopening
# /dev/stderr would write from offset 0 when stderr is a log file) and to a file for the key.
buildlog=$(mktemp)
bash scripts/build-libvirt.sh "${build_args[@]}" | tee "$buildlog" >&2
key=$(sed -n 's/^key=//p' "$buildlog" | tail -n1)
rm -f "$buildlog"
[ -n "$key" ] || { echo "series: the build printed no key" >&2; exit 1; }
echo "series: build $key ready in $(( $(date +%s) - start )) s"

stop() { bash scripts/series-daemon.sh stop "$key" >/dev/null 2>&1 || true; }
trap stop EXIT
trap 'stop; exit 130' INT TERM
bash scripts/series-daemon.sh start "$key"

# The model's `host` profile and the goldens' host id come from the daemon under test: probe it
# (libvirt's own cases come from the tree that was built, series applied: the runner reads them).
eval "$(bash scripts/series-daemon.sh env "$key")"
node scripts/probe-host.mjs --uri "$LVH_SERIES_URI" --out ".cache/builds/$key/host.json"

node scripts/run-suite.mjs --series "$key" "$@"
