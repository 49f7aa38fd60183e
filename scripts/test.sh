#!/usr/bin/env bash
# Runs every test: fetches the FHIR packages the tests walk (npm registry, once), then the
# unit and integration tests, then the Swagger UI in headless Chromium
# (scripts/browser-test.sh), then every kind of answer checked as valid FHIR R4 by
# independent libraries (scripts/client-test.sh), then 45 s of schema-driven API fuzzing
# with a fixed seed (scripts/api-fuzz.sh), then the HL7 terminology ecosystem suite against a freshly
# started server (scripts/conformance.sh). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's wall time goes to stderr, so a slow CI run says where its time went.
phase() {
  local start=$SECONDS
  "$@"
  echo "[test.sh] $* took $((SECONDS - start)) s" >&2
}
phase ./scripts/fetch-packages.sh
phase cargo test --workspace --all-targets "$@"
# That build left an up-to-date target/debug/nomen (the integration tests run it); the
# scripts below use it rather than rebuilding it with `-p nomen`'s features (5 minutes).
[ $# -gt 0 ] || export NOMEN_PREBUILT=1
phase ./scripts/browser-test.sh
phase ./scripts/client-test.sh
phase ./scripts/api-fuzz.sh 45 1
phase ./scripts/conformance.sh
