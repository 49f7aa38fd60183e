#!/usr/bin/env bash
# Soak on loopback: a release `nomen serve` (bundled fixtures plus the LOINC, ICD-10,
# classifier and small SNOMED CT fixtures) under mixed read load (benches/soak.lua: lookups, validations,
# paged and filtered expansions, translations, searches, metadata, readiness, metrics,
# admin reads of the audit and the usage report;
# many distinct questions, so the response cache fills and evicts) for a bounded time.
# Every INTERVAL seconds it prints the throughput, the errors (answers other than 200,
# from the server's own /metrics) and the server's RSS; at the end, the RSS growth after
# warm-up (the first fifth of the run).
#
# Usage: benches/soak.sh [DURATION_SECONDS=600] [INTERVAL_SECONDS=5] [CONNECTIONS=16]
#        NOMEN_BIN=target/release/nomen benches/soak.sh 600 10   (skip the build)
# Traffic goes to 127.0.0.1 only and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}
interval=${2:-5}
connections=${3:-16}
port=${NOMEN_SOAK_PORT:-18081}
base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
# NOMEN_BIN=path uses an already built binary instead of building the release one.
bin=${NOMEN_BIN:-target/release/nomen}
[ -n "${NOMEN_BIN:-}" ] || cargo build --release --quiet --bin nomen
work=$(mktemp -d)
NOMEN_LOG=warn "$bin" serve --db "$work/soak.db" --addr "127.0.0.1:$port" --workers 1 2>"$work/server.log" &
server=$!
trap 'kill "$load" 2>/dev/null || true; kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" import --db "$work/soak.db" fixtures/loinc fixtures/icd10 fixtures/classifiers fixtures/snomed/small >/dev/null
sleep 1

totals() { # -> "requests non200"
  curl -s "$base/metrics" | awk '/^nomen_requests_total/ {
      n = $NF + 0; total += n; if ($0 !~ /status="200"/) bad += n }
    END { printf "%d %d\n", total, bad }'
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

# NOMEN_SOAK_ADMIN=0 leaves the admin reads out.
token=$(grep -o 'NOMEN_BOOTSTRAP_TOKEN=[^ ]*' "$work/server.log" | cut -d= -f2)
[ "${NOMEN_SOAK_ADMIN:-1}" = 1 ] || token=""
wrk -t 1 -c "$connections" -d "${duration}s" -s benches/soak.lua "$base" -- "$token" >"$work/wrk.log" 2>&1 &
load=$!
echo "   time   req/s   errors  rss_MB"
read -r last_total _ < <(totals)
start=$(date +%s)
warm_rss=""
max_rss=0
elapsed=0
while kill -0 "$load" 2>/dev/null; do
  sleep "$interval"
  kill -0 "$load" 2>/dev/null || break
  elapsed=$(( $(date +%s) - start ))
  read -r total bad < <(totals)
  rss=$(rss_kb)
  rate=$(( (total - last_total) / interval ))
  last_total=$total
  awk -v t="$elapsed" -v r="$rate" -v b="$bad" -v m="$rss" 'BEGIN { printf "%6ss %7d %8d %7.1f\n", t, r, b, m / 1024 }'
  if [ -z "$warm_rss" ] && [ "$elapsed" -ge $(( duration / 5 )) ]; then warm_rss=$rss; fi
  [ "$rss" -gt "$max_rss" ] && max_rss=$rss
done
wait "$load" || true
read -r total bad < <(totals)
end_rss=$(rss_kb)
echo "requests: $total, errors: $bad"
grep -E "Requests/sec|Non-2xx|Socket errors" "$work/wrk.log" || true
if [ -n "$warm_rss" ]; then
  awk -v w="$warm_rss" -v e="$end_rss" -v m="$max_rss" 'BEGIN {
    printf "RSS after warm-up %.1f MB, at the end %.1f MB, highest %.1f MB: growth %.1f%%\n",
      w / 1024, e / 1024, m / 1024, (e - w) * 100 / w }'
fi
[ "$bad" -eq 0 ]
