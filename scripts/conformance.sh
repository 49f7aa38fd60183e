#!/usr/bin/env bash
# Runs the HL7 terminology ecosystem test suite (tests/tx-ecosystem) against a freshly
# started Nomen on loopback. Mode `general` (the suite's default, hierarchical responses) is
# gated by tests/tx-ecosystem-known-failures.txt: a failure outside the list, or a listed
# test that passes, fails the run. Mode `tx.fhir.org` is reported, not gated.
#   scripts/conformance.sh            run and gate
#   scripts/conformance.sh --record   rewrite the known-failures list from this run
set -euo pipefail
cd "$(dirname "$0")/.."
profile_dir=target/debug
# scripts/test.sh has just built target/debug/nomen with `cargo test` (NOMEN_PREBUILT=1):
# building it again with `-p nomen` would rebuild its dependencies for another feature set.
[ -n "${NOMEN_PREBUILT:-}" ] || cargo build --quiet -p nomen --bin nomen
cargo build --quiet -p nomen-txtests
work=$(mktemp -d)
port=${NOMEN_TX_PORT:-18099}
"$profile_dir/nomen" serve --db "$work/tx.db" --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
base="http://127.0.0.1:$port/fhir"
known=tests/tx-ecosystem-known-failures.txt
if [ "${1:-}" = "--record" ]; then
  "$profile_dir/nomen-txtests" --server "$base" --modes general --record-failures "$known"
  exit 0
fi
echo "== HL7 terminology ecosystem tests, mode general (gated)"
status=0
"$profile_dir/nomen-txtests" --server "$base" --modes general --known-failures "$known" || status=$?
echo "== mode tx.fhir.org (reported, not gated)"
"$profile_dir/nomen-txtests" --server "$base" --modes tx.fhir.org | tail -n 40 || true
exit $status
