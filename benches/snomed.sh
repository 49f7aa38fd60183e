#!/usr/bin/env bash
# SNOMED CT at full size, on loopback: generates the synthetic ~370,000-concept release with
# its Lithuanian extension (fixtures/snomed/generate.py --size full, once, into
# target/snomed-full/), imports it with a release build into a fresh database (wall time,
# peak RSS, database size), starts `nomen serve` on it (RSS after start-up and after a
# warm-up), then runs wrk against /healthz and each SNOMED operation in turn, in the same
# run, with each operation's throughput as a percentage of /healthz.
#
# Usage: benches/snomed.sh [DURATION_SECONDS=10] [CONNECTIONS=16]
#   NOMEN_CACHE_ENTRIES=0  serve with the response cache off (every request evaluated)
#   NOMEN_SNOMED_DB=FILE   reuse an imported database instead of importing again
# Traffic goes to 127.0.0.1 only and every wrk run is bounded by its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-16}
port=${NOMEN_BENCH_PORT:-18082}
base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bin nomen
release=target/snomed-full
if [ ! -f "$release/.complete" ]; then
  rm -rf "$release"
  echo "generating the full-size release into $release (about 2.5 minutes)..."
  python3 fixtures/snomed/generate.py --out "$release" --size full >/dev/null
  touch "$release/.complete"
fi
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db=${NOMEN_SNOMED_DB:-}
if [ -z "$db" ]; then
  db="$work/snomed.db"
  /usr/bin/time -v target/release/nomen import --db "$db" "$release" >"$work/import.out" 2>"$work/import.err" \
    || { cat "$work/import.out" "$work/import.err"; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/import.err")
  peak=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/import.err")
  size=$(du -m "$db" | cut -f1)
  echo "import: $(grep -E '^loaded' "$work/import.out")"
  echo "import: wall $wall, peak RSS ${peak} MB, database ${size} MB"
fi

NOMEN_LOG=warn target/release/nomen serve --db "$db" --addr "127.0.0.1:$port" --workers 1 \
  --cache-entries "${NOMEN_CACHE_ENTRIES:-50000}" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 300); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { cat "$work/server.log"; exit 1; }
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
echo "server RSS after start-up: $(rss) MB"

SCT=http://snomed.info/sct
ISA="$SCT?fhir_vs=isa/404684003"
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
ECL_ALL=$(enc "$SCT?fhir_vs=ecl/<< 404684003")
ECL_REFINED=$(enc "$SCT?fhir_vs=ecl/<< 404684003 : 363698007 = << 74281007")
declare -a names=(healthz lookup validate-code vs-validate-isa subsumes expand-descendants expand-filter expand-refinement)
declare -A paths=(
  [healthz]="/healthz"
  [lookup]="/fhir/CodeSystem/\$lookup?system=$SCT&code=22298006"
  [validate-code]="/fhir/CodeSystem/\$validate-code?url=$SCT&code=22298006"
  [vs-validate-isa]="/fhir/ValueSet/\$validate-code?url=$(enc "$ISA")&system=$SCT&code=22298006"
  [subsumes]="/fhir/CodeSystem/\$subsumes?system=$SCT&codeA=404684003&codeB=22298006"
  [expand-descendants]="/fhir/ValueSet/\$expand?url=$ECL_ALL&count=20"
  [expand-filter]="/fhir/ValueSet/\$expand?url=$ECL_ALL&count=20&filter=infarct"
  [expand-refinement]="/fhir/ValueSet/\$expand?url=$ECL_REFINED&count=20"
)
# Every path must answer 200 before it is measured (this is also the warm-up).
for n in "${names[@]}"; do
  code=$(curl -s -o "$work/$n.json" -w '%{http_code}' "$base${paths[$n]}")
  [ "$code" = 200 ] || { echo "$n answered $code: $(head -c 400 "$work/$n.json")" >&2; exit 1; }
done
echo "server RSS after warm-up: $(rss) MB"

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.3f", n }'; }
measure() { # name connections -> "rps p50 p99"
  local out rps p50 p99 errors
  out=$(wrk --latency -t 1 -c "$2" -d "${duration}s" "$base${paths[$1]}")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  [ -z "$errors" ] || { echo "$1: $errors non-2xx responses" >&2; exit 1; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
echo "SNOMED load: wrk -t1 -c$connections -d${duration}s per endpoint, server --workers 1, cache ${NOMEN_CACHE_ENTRIES:-50000} entries, $(nproc) cores"
printf '%-20s %12s %9s %9s %10s\n' endpoint "req/s" "p50 ms" "p99 ms" "% healthz"
healthz_rps=
for n in "${names[@]}"; do
  read -r rps p50 p99 <<<"$(measure "$n" "$connections")"
  [ -n "$healthz_rps" ] || healthz_rps=$rps
  pct=$(awk -v a="$rps" -v b="$healthz_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  printf '%-20s %12.0f %9s %9s %10s\n' "$n" "$rps" "$p50" "$p99" "$pct"
done
echo "server RSS after the load: $(rss) MB"
