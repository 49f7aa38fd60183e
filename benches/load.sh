#!/usr/bin/env bash
# HTTP load benchmark on loopback: starts a release `nomen serve` on a fresh database
# (bundled fixtures), then runs wrk against /healthz and each operation in turn, in the
# same run, and prints requests/s, p50 and p99 side by side, with each operation's
# throughput as a percentage of /healthz.
#
# Usage: benches/load.sh [DURATION_SECONDS=10] [CONNECTIONS=16]
# Also measures p50 at one connection. Traffic goes to 127.0.0.1 only and every wrk run
# is bounded by its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=${2:-16}
port=${NOMEN_BENCH_PORT:-18080}
base="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
NOMEN_LOG=warn target/release/nomen serve --db "$work/bench.db" --addr "127.0.0.1:$port" --workers 1 2>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { cat "$work/server.log"; exit 1; }

ACT=http://terminology.hl7.org/CodeSystem/v3-ActCode
ACT_VS=http://terminology.hl7.org/ValueSet/v3-ActCode                # 1,302 codes
ENC_VS=http://terminology.hl7.org/ValueSet/v3-ActEncounterCode      # is-a filter
GENDER_MAP=http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v3
declare -a names=(healthz lookup validate-code subsumes vs-validate-code expand-count10 expand-filter translate)
declare -A paths=(
  [healthz]="/healthz"
  [lookup]="/fhir/CodeSystem/\$lookup?system=$ACT&code=AMB"
  [validate-code]="/fhir/CodeSystem/\$validate-code?url=$ACT&code=AMB&display=ambulatory"
  [subsumes]="/fhir/CodeSystem/\$subsumes?system=$ACT&codeA=_ActEncounterCode&codeB=AMB"
  [vs-validate-code]="/fhir/ValueSet/\$validate-code?url=$ENC_VS&system=$ACT&code=AMB"
  [expand-count10]="/fhir/ValueSet/\$expand?url=$ACT_VS&count=10"
  [expand-filter]="/fhir/ValueSet/\$expand?url=$ACT_VS&filter=ambul&count=10"
  [translate]="/fhir/ConceptMap/\$translate?url=$GENDER_MAP&system=http://hl7.org/fhir/administrative-gender&code=male"
)
# Every path must answer 200 before it is measured.
for n in "${names[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base${paths[$n]}")
  [ "$code" = 200 ] || { echo "$n answered $code" >&2; exit 1; }
done

# wrk prints latency percentiles with --latency; this turns its units into ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; printf "%.3f", n }'; }
measure() { # name connections -> "rps p50 p99"
  local out
  out=$(wrk --latency -t 1 -c "$2" -d "${duration}s" "$base${paths[$1]}")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  [ -z "$errors" ] || { echo "$1: $errors non-2xx responses" >&2; exit 1; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}

echo "nomen load benchmark: wrk -t1 -c$connections -d${duration}s per endpoint, server --workers 1, $(nproc) cores"
printf '%-16s %12s %9s %9s %10s %14s\n' endpoint "req/s" "p50 ms" "p99 ms" "% healthz" "p50 ms @1conn"
healthz_rps=
for n in "${names[@]}"; do
  read -r rps p50 p99 <<<"$(measure "$n" "$connections")"
  read -r _ p50one _ <<<"$(measure "$n" 1)"
  [ -n "$healthz_rps" ] || healthz_rps=$rps
  pct=$(awk -v a="$rps" -v b="$healthz_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  printf '%-16s %12.0f %9s %9s %10s %14s\n' "$n" "$rps" "$p50" "$p99" "$pct" "$p50one"
done
