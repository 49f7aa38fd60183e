#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/) for a bounded time each and prints its executions.
# Needs cargo-fuzz (cargo install cargo-fuzz); the stable toolchain is told to accept the
# sanitizer flags with RUSTC_BOOTSTRAP=1. Not part of the test command: a long run is a
# job for a quiet machine. Crashes are kept in fuzz/artifacts/<target>/.
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-60}
shift || true
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is required: cargo install cargo-fuzz" >&2; exit 1; }
export RUSTC_BOOTSTRAP=1
# The sanitizer (cargo fuzz -s): none by default (safe Rust: the findings are panics, and
# ASan's build and runs are several times slower); FUZZ_SANITIZER=address for memory checks.
sanitizer=${FUZZ_SANITIZER:-none}
# The build profile: dev by default (about 11 minutes from scratch on 2 cores; the
# instrumented release build of the nomen crate did not finish in 30). FUZZ_RELEASE=1
# builds optimised (cargo fuzz -O) for long runs on a bigger machine.
profile=(--dev)
[ "${FUZZ_RELEASE:-0}" = 1 ] && profile=(-O)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build "${profile[@]}" -s "$sanitizer"
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  if cargo fuzz run "${profile[@]}" -s "$sanitizer" "$target" "corpus/$target" "seeds/$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo "?")
  printf "%-20s %-6s %ss, %s executions\n" "$target" "$result" "$seconds" "$runs"
  [ "$result" = ok ] || tail -n 30 "$log"
  rm -f "$log"
done
exit $status
