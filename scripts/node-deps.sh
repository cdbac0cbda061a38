#!/usr/bin/env bash
# The project's npm dependencies and its build, each skipped when already done: `npm ci` only
# when node_modules was not installed from this package-lock.json, `npm run build` only when
# harness/ has a file newer than dist/. Used by `npm run setup` and by CI's report jobs (which
# need the CLI, not libvirt), so a job whose steps are done costs seconds, not minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "node-deps: npm not found (Node 20 is required)" >&2; exit 1; }

stamp=node_modules/.lvh-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "node_modules already installed from this package-lock.json"
else
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

if [ -f dist/cli/main.js ] && [ -z "$(find harness -name '*.ts' -newer dist/cli/main.js -print -quit)" ] \
   && [ -z "$(find harness -name '*.json' -newer dist/cli/main.js -print -quit)" ]; then
  echo "dist/ is newer than every file of harness/: build skipped"
else
  npm run build
fi
