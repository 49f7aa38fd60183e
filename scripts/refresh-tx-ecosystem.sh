#!/usr/bin/env bash
# Refreshes the vendored HL7 terminology ecosystem test suite (tests/tx-ecosystem) from a copy
# of the suite's `tests/` folder: a local checkout of HL7/fhir-tx-ecosystem-ig (give its
# tests/ folder), or by default the copy in ../shared/tx-ecosystem. The suite is CC0, so a
# clone of this project carries it and CI runs it without the network.
#   scripts/refresh-tx-ecosystem.sh [SOURCE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-../shared/tx-ecosystem}"
if [ ! -f "$src/test-cases.json" ]; then
  echo "refresh-tx-ecosystem: $src has no test-cases.json" >&2
  exit 2
fi
rm -rf tests/tx-ecosystem.new
mkdir -p tests/tx-ecosystem.new
cp -R "$src"/. tests/tx-ecosystem.new/
rm -rf tests/tx-ecosystem
mv tests/tx-ecosystem.new tests/tx-ecosystem
echo "tests/tx-ecosystem: $(find tests/tx-ecosystem -type f | wc -l) files from $src"
