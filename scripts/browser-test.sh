#!/usr/bin/env bash
# The Swagger UI in a real headless browser: starts `nomen serve` the way the README's
# first command does (no configuration, in an empty directory, so it creates nomen.db
# and fills it with the bundled fixtures), then drives Debian's Chromium with
# playwright-core (tests/browser) to open /docs, run "Try it out" on CodeSystem $lookup
# and check the display in the response. Needs /usr/bin/chromium (.ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# scripts/test.sh has just built target/debug/nomen with `cargo test` (NOMEN_PREBUILT=1):
# building it again with `-p nomen` would rebuild its dependencies for another feature set.
[ -n "${NOMEN_PREBUILT:-}" ] || cargo build --quiet -p nomen --bin nomen
(cd tests/browser && npm ci --no-audit --no-fund --silent)
work=$(mktemp -d)
port=${NOMEN_BROWSER_PORT:-18097}
(cd "$work" && exec "$root/target/debug/nomen" serve --addr "127.0.0.1:$port") >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "== browser test: Swagger UI at http://127.0.0.1:$port/docs"
NOMEN_URL="http://127.0.0.1:$port" node tests/browser/swagger-try-it-out.mjs
