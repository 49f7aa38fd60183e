#!/usr/bin/env bash
# Fetch the FHIR npm packages that the tests, fixtures and benchmarks use, into
# target/packages/ (never committed). Uses `npm pack`, so it needs only Node's npm and
# the npm registry. Idempotent: a package already present is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=target/packages
mkdir -p "$dest"
for spec in "hl7.terminology.r4@7.0.1" "$@"; do
  name=${spec%@*}; version=${spec##*@}
  # npm pack names a scoped package's tarball without the '@' and with '/' as '-'.
  base=${name#@}; file="$dest/${base//\//-}-$version.tgz"
  if [ -s "$file" ]; then echo "have $file"; continue; fi
  (cd "$dest" && npm pack --silent "$spec" >/dev/null)
  [ -s "$file" ] || { echo "npm pack $spec did not produce $file" >&2; exit 1; }
  echo "fetched $file"
done
