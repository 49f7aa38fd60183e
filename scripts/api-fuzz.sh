#!/usr/bin/env bash
# Schema-driven API fuzzing with schemathesis (PyPI) against openapi/openapi.json: every
# documented operation, with its examples, the coverage phase, random (fuzzing) and
# stateful sequences, checking that no answer is a 5xx and that status codes, content
# types and bodies match the document. Starts `nomen serve` as the README's first command
# does (an empty directory, so the bundled fixtures load), on loopback only.
#   scripts/api-fuzz.sh [SECONDS=60] [SEED]   (a seed makes a run reproducible)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
seed=${2:-}
port=${NOMEN_FUZZ_PORT:-18094}
# scripts/test.sh has just built target/debug/nomen with `cargo test` (NOMEN_PREBUILT=1):
# building it again with `-p nomen` would rebuild its dependencies for another feature set.
[ -n "${NOMEN_PREBUILT:-}" ] || cargo build --quiet -p nomen --bin nomen
venv=target/st-venv
[ -x "$venv/bin/st" ] || {
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/clients/schemathesis.txt
}
work=$(mktemp -d)
(cd "$work" && exec "$root/target/debug/nomen" serve --addr "127.0.0.1:$port") >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
# The admin API is fuzzed with the bootstrap token the first start prints, so its
# validation is exercised, not just its refusal (FHIR endpoints ignore the header).
token=$(grep -o 'NOMEN_BOOTSTRAP_TOKEN=[^ ]*' "$work/server.log" | cut -d= -f2)
[ -n "$token" ] || { echo "no bootstrap token in the server log" >&2; cat "$work/server.log" >&2; exit 1; }
echo "== schemathesis over openapi/openapi.json for ${seconds}s${seed:+ (seed $seed)}"
"$venv/bin/st" run openapi/openapi.json --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$seconds" --workers 2 ${seed:+--seed "$seed"} --warnings off --no-color
