#!/usr/bin/env bash
# The cost of production mode: `$validate-code` throughput of a release server with TLS,
# a registered client certificate, CRL checks, licence gating, rate limits and the audit
# trail, against the same server in development mode (plain HTTP, anonymous, no audit).
# Both are driven by the same keep-alive load client (crates/loadgen; wrk cannot
# present a client certificate), one server worker, on loopback.
#
# Usage: benches/mtls-load.sh [SECONDS=10] [CONNECTIONS=16]
# Traffic goes to 127.0.0.1 only; every run is bounded by its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
port=${NOMEN_BENCH_PORT:-18443}
cargo build --release --quiet -p nomen -p nomen-loadgen
client=target/release/nomen-loadgen
work=$(mktemp -d)
server=""
stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; server=""; }
trap 'stop; rm -rf "$work"' EXIT

ACT=http://terminology.hl7.org/CodeSystem/v3-ActCode
path="/fhir/CodeSystem/\$validate-code?url=$ACT&code=AMB&display=ambulatory"

scripts/pki.sh ca "$work/pki" >/dev/null
scripts/pki.sh server "$work/pki" localhost 127.0.0.1 >/dev/null
scripts/pki.sh crl "$work/pki" >/dev/null
scripts/pki.sh client "$work/pki" loadtest >/dev/null
cat > "$work/nomen.toml" <<TOML
db = "$work/prod.db"
addr = "127.0.0.1:$port"
workers = 1
[tls]
cert = "$work/pki/server.pem"
key = "$work/pki/server.key"
[[tls.client_ca]]
cert = "$work/pki/ca.pem"
crl = "$work/pki/ca.crl"
[limits]
requests_per_second = 0
codes_per_hour = 0
TOML

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
measure() { # pid, then the loadgen arguments -> the loadgen line + server and client CPU per request
  local before after out client_cpu
  before=$(cpu_ticks "$1")
  out=$( { /usr/bin/time -f "%U %S" "$client" "${@:2}"; } 2>"$work/time.txt")
  after=$(cpu_ticks "$1")
  client_cpu=$(awk '{print $1 + $2}' "$work/time.txt")
  awk -v o="$out" -v b="$before" -v a="$after" -v hz="$hz" -v c="$client_cpu" 'BEGIN {
    split(o, f, " "); n = f[2]
    printf "%s server_us/req %.1f client_us/req %.1f\n", o, (a - b) / hz * 1e6 / n, c * 1e6 / n }'
}

wait_up() { # url [curl args...]
  for _ in $(seq 1 100); do curl -sf "${@:2}" "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$work/server.log" >&2; exit 1
}

# Production: register the institution, its certificate and a licence, then measure.
NOMEN_LOG=warn target/release/nomen serve --config "$work/nomen.toml" 2>"$work/server.log" &
server=$!
tls=(--cacert "$work/pki/ca.pem")
wait_up "https://localhost:$port/healthz" "${tls[@]}" --resolve "localhost:$port:127.0.0.1"
token=$(grep -o 'NOMEN_BOOTSTRAP_TOKEN=[^ ]*' "$work/server.log" | cut -d= -f2)
admin() { curl -sf "${tls[@]}" --resolve "localhost:$port:127.0.0.1" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' "$@"; }
inst=$(admin -X POST "https://localhost:$port/admin/institutions" \
  -d '{"name":"Load test hospital","registry_code":"100000001"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
pem=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$work/pki/loadtest.pem")
admin -X POST "https://localhost:$port/admin/certificates" -d "{\"pem\": $pem, \"institution_id\": $inst}" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' "${tls[@]}" --resolve "localhost:$port:127.0.0.1" \
  --cert "$work/pki/loadtest.pem" --key "$work/pki/loadtest.key" "https://localhost:$port$path")
[ "$code" = 200 ] || { echo "production validate-code answered $code" >&2; exit 1; }
# NOMEN_PERF=FILE: also profile the production server with perf (a report into FILE).
if [ -n "${NOMEN_PERF:-}" ]; then
  perf record -F 999 -g -p "$server" -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1 &
  perf_pid=$!
fi
prod=$(measure "$server" "$port" "$path" "$connections" "$seconds" "$work/pki/ca.pem" "$work/pki/loadtest.pem" "$work/pki/loadtest.key")
if [ -n "${NOMEN_PERF:-}" ]; then
  wait "$perf_pid" || true
  { perf report -i "$work/perf.data" --stdio --no-children -g none --sort comm,dso 2>/dev/null; perf report -i "$work/perf.data" --stdio --no-children -g none --percent-limit 0.4 2>/dev/null; } > "$NOMEN_PERF" || true
fi
events=$(sqlite3 "$work/prod.db" 'SELECT count(*) FROM audit_event' 2>/dev/null || echo "?")
stop

# Development mode, same database settings, plain HTTP.
NOMEN_LOG=warn target/release/nomen serve --db "$work/dev.db" --addr "127.0.0.1:$port" --workers 1 2>"$work/server.log" &
server=$!
wait_up "http://127.0.0.1:$port/healthz"
if [ -n "${NOMEN_PERF:-}" ]; then
  perf record -F 999 -g -p "$server" -o "$work/perf-dev.data" -- sleep "$seconds" >/dev/null 2>&1 &
  perf_pid=$!
fi
dev=$(measure "$server" "$port" "$path" "$connections" "$seconds")
if [ -n "${NOMEN_PERF:-}" ]; then
  wait "$perf_pid" || true
  { perf report -i "$work/perf-dev.data" --stdio --no-children -g none --sort comm,dso 2>/dev/null; perf report -i "$work/perf-dev.data" --stdio --no-children -g none --percent-limit 0.4 2>/dev/null; } > "$NOMEN_PERF.dev" || true
fi
stop

rps() { awk '{print $4}' <<<"$1"; }
echo "validate-code, $connections keep-alive connections, ${seconds}s, one server worker"
echo "development (HTTP, anonymous):        $dev"
echo "production (mTLS, licences, audit):   $prod"
awk -v p="$(rps "$prod")" -v d="$(rps "$dev")" 'BEGIN { printf "production / development: %.0f%%\n", 100 * p / d }'
echo "audit events written in production: $events"
