#!/usr/bin/env python3
"""The "real clients" check: every kind of answer Nomen gives must be valid FHIR R4 4.0.1
as two independent libraries see it.

  1. model:  fhir.resources 6.2.2 (FHIR R4 4.0.1 pydantic models; unknown elements are
             rejected: its models are configured with extra = forbid, checked below);
  2. schema: the official FHIR R4 JSON schema (fhir.schema.json, "id"
             http://hl7.org/fhir/json-schema/4.0, draft-06) with the jsonschema package;
  3. json:   the FHIR JSON rules that neither of those enforces (R4 json.html: no null
             outside a primitive array that has an `_element` twin, no empty arrays, no
             empty objects);
  4. invariant: the R4 constraints that an operation's answer can break and neither
             library evaluates (Parameters inv-1, ValueSet vsd-9/vsd-10, Bundle bdl-1/2,
             ConceptMap cmd-1, OperationDefinition opd-1/2/3);

plus the HTTP basics a client relies on (the expected status and a FHIR Content-Type).
Answers asked for with _format=xml are checked to be well-formed XML whose root element
is in the FHIR namespace and names the expected resource type (stdlib parser).

A self-test runs first: known-invalid resources must be rejected by each check that is
supposed to reject them, otherwise the run aborts (so this check cannot silently pass).

Usage: check_fhir_clients.py --base http://127.0.0.1:18096/fhir --schema fhir.schema.json
Prints one line per failure and, last, "N passed, N failed"; exits 1 if any failed.
"""

import argparse
import importlib.metadata
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Optional

import fhir.resources
import jsonschema
from fhir.resources import get_fhir_model_class

FHIR_NS = "http://hl7.org/fhir"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_VS = "http://terminology.hl7.org/ValueSet/v3-ActCode"
ENC_VS = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"
GENDER = "http://hl7.org/fhir/administrative-gender"
GENDER_CM = "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v3"
V3_GENDER = "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SPECIMEN = "https://fhir.example.lt/CodeSystem/specimen-type"
CLOSURE_NAME = "client-check-%d" % int(time.time())


# ----------------------------------------------------------------------------- checkers


class Checkers:
    def __init__(self, schema_path: str):
        with open(schema_path, encoding="utf-8") as f:
            self.schema = json.load(f)
        self.schema_id = self.schema.get("id") or self.schema.get("$id")
        if self.schema_id != "http://hl7.org/fhir/json-schema/4.0":
            raise SystemExit(f"{schema_path}: not the FHIR R4 schema (id {self.schema_id!r})")
        self.patches = self._patch_fhir_version_enum()
        self.validator_cls = jsonschema.validators.validator_for(self.schema)
        self.validator_cls.check_schema(self.schema)
        self._validators = {}
        if fhir.resources.__fhir_version__ != "4.0.1":
            raise SystemExit(
                f"fhir.resources models are FHIR {fhir.resources.__fhir_version__}, not 4.0.1"
            )

    def _patch_fhir_version_enum(self) -> list:
        """Library defect, worked around narrowly: the shipped R4 schema's enum for the
        FHIRVersion code (CapabilityStatement.fhirVersion, ImplementationGuide.fhirVersion,
        ImplementationGuide.definition.resource.fhirVersion, StructureDefinition.fhirVersion)
        ends at "4.0.0", but the R4 4.0.1 value set http://hl7.org/fhir/ValueSet/FHIR-version
        has "4.0.1", the version of R4 itself, so a correct 4.0.1 CapabilityStatement would
        fail. Only "4.0.1" is added, only to enums that already end with "4.0.0"."""
        patched = []
        for tname, t in self.schema["definitions"].items():
            for pname, p in t.get("properties", {}).items():
                if pname != "fhirVersion":
                    continue
                for enum in _enums(p):
                    if enum and enum[-1] == "4.0.0" and "4.0.1" not in enum:
                        enum.append("4.0.1")
                        patched.append(f"{tname}.{pname}")
        return patched

    def model(self, doc) -> Optional[str]:
        """fhir.resources: None if it parses, else the first error."""
        rt = doc.get("resourceType") if isinstance(doc, dict) else None
        try:
            cls = get_fhir_model_class(rt)
        except Exception as e:  # unknown resource type
            return f"no R4 model for resourceType {rt!r}: {e}"
        try:
            cls.parse_obj(doc)
        except Exception as e:
            lines = str(e).splitlines()
            # pydantic: "N validation errors for X", then path line, then message line
            return " ".join(l.strip() for l in lines[1:3]) or lines[0]
        return None

    def schema_errors(self, doc) -> Optional[str]:
        """The FHIR R4 JSON schema: None if valid, else the first error."""
        rt = doc.get("resourceType") if isinstance(doc, dict) else None
        if rt not in self.schema["definitions"] or rt not in self.schema["discriminator"]["mapping"]:
            return f"resourceType {rt!r} is not an R4 resource"
        v = self._validators.get(rt)
        if v is None:
            # Validate against the type's definition (the root schema's oneOf over all
            # resource types gives only "not valid under any of the given schemas").
            sub = {"$ref": f"#/definitions/{rt}", "definitions": self.schema["definitions"]}
            v = self.validator_cls(sub)
            self._validators[rt] = v
        err = jsonschema.exceptions.best_match(v.iter_errors(doc))
        if err is None:
            return None
        path = "/".join(str(p) for p in err.absolute_path) or "(root)"
        msg = err.message
        if len(msg) > 300:
            msg = msg[:300] + "..."
        return f"at {path}: {msg}"

    @staticmethod
    def json_rules(doc) -> Optional[str]:
        """FHIR R4 JSON representation rules (http://hl7.org/fhir/R4/json.html)."""

        def walk(v, path, parent=None, key=None):
            if v is None:
                return f"at {path}: null is not allowed"
            if isinstance(v, list):
                if not v:
                    return f"at {path}: empty arrays are not allowed"
                twin = None
                if isinstance(parent, dict) and key is not None:
                    twin = parent.get("_" + key) if not key.startswith("_") else parent.get(key[1:])
                for i, item in enumerate(v):
                    if item is None and isinstance(twin, list) and i < len(twin) and twin[i] is not None:
                        continue  # a primitive array entry that only has an _element twin
                    r = walk(item, f"{path}/{i}")
                    if r:
                        return r
                return None
            if isinstance(v, dict):
                if not v:
                    return f"at {path}: empty objects are not allowed"
                for k, item in v.items():
                    r = walk(item, f"{path}/{k}" if path != "(root)" else k, v, k)
                    if r:
                        return r
            return None

        return walk(doc, "(root)")

    @staticmethod
    def invariants(doc) -> Optional[str]:
        """The R4 invariants (constraints) that the operations' answers can break and that
        neither library evaluates: Parameters inv-1, ValueSet vsd-9/vsd-10 on expansion
        entries, Bundle bdl-1/bdl-2, ConceptMap cmd-1 (with nested resources)."""
        errs = []

        def params(plist, path):
            for i, p in enumerate(plist or []):
                if not isinstance(p, dict):
                    continue
                here = f"{path}/{i}({p.get('name')})"
                has_value = any(k.startswith("value") or k.startswith("_value") for k in p)
                has_res = "resource" in p
                has_part = "part" in p
                ok = (has_part and not has_value and not has_res) or (
                    not has_part and (has_value != has_res))
                if not ok:
                    errs.append(f"at {here}: inv-1: a parameter must have one and only one of "
                                f"(value, resource, part)")
                if has_res:
                    res(p["resource"], here + "/resource")
                params(p.get("part"), here + "/part")

        def contains(items, path):
            for i, c in enumerate(items or []):
                here = f"{path}/{i}"
                if not c.get("abstract") and "code" not in c:
                    errs.append(f"at {here}: vsd-9: must have a code if not abstract")
                if "code" in c and "system" not in c:
                    errs.append(f"at {here}: vsd-10: must have a system if a code is present")
                contains(c.get("contains"), here + "/contains")

        def res(r, path):
            if not isinstance(r, dict):
                return
            rt = r.get("resourceType")
            if rt == "Parameters":
                params(r.get("parameter"), f"{path}parameter")
            elif rt == "ValueSet":
                contains(r.get("expansion", {}).get("contains"), f"{path}expansion/contains")
            elif rt == "Bundle":
                t = r.get("type")
                if "total" in r and t not in ("searchset", "history"):
                    errs.append(f"at {path}total: bdl-1: total only when a search or history")
                for i, e in enumerate(r.get("entry", [])):
                    if "search" in e and t != "searchset":
                        errs.append(f"at {path}entry/{i}/search: bdl-2: entry.search only when a search")
                    res(e.get("resource"), f"{path}entry/{i}/resource/")
            elif rt == "OperationDefinition":
                def opd(plist, ppath):
                    for i, prm in enumerate(plist or []):
                        here = f"{ppath}/{i}({prm.get('name')})"
                        if "type" not in prm and "part" not in prm:
                            errs.append(f"at {here}: opd-1: either a type must be provided, or parts")
                        if "searchType" in prm and prm.get("type") != "string":
                            errs.append(f"at {here}: opd-2: a searchType only for type string")
                        if "targetProfile" in prm and prm.get("type") not in ("Reference", "canonical"):
                            errs.append(f"at {here}: opd-3: targetProfile only for Reference or canonical")
                        opd(prm.get("part"), here + "/part")
                opd(r.get("parameter"), f"{path}parameter")
            elif rt == "ConceptMap":
                for gi, g in enumerate(r.get("group", [])):
                    for ei, el in enumerate(g.get("element", [])):
                        for ti, t in enumerate(el.get("target", [])):
                            if t.get("equivalence") in ("narrower", "inexact") and not t.get("comment"):
                                errs.append(f"at {path}group/{gi}/element/{ei}/target/{ti}: cmd-1: "
                                            f"a narrower or inexact map SHALL have a comment")
            for i, c in enumerate(r.get("contained", []) or []):
                res(c, f"{path}contained/{i}/")

        if isinstance(doc, dict):
            res(doc, "")
        return errs[0] if errs else None

    def all(self, doc) -> list:
        """[(checker, error)] for every check that rejects doc."""
        out = []
        for name, fn in (("model", self.model), ("schema", self.schema_errors), ("json", self.json_rules),
                         ("invariant", self.invariants)):
            try:
                e = fn(doc)
            except Exception as ex:  # a crash of a checker is a failure, never a pass
                e = f"checker crashed: {type(ex).__name__}: {ex}"
            if e:
                out.append((name, e))
        return out


def _enums(node):
    """Every "enum" list inside a schema node (directly or under items/anyOf/...)."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            yield node["enum"]
        for v in node.values():
            yield from _enums(v)
    elif isinstance(node, list):
        for v in node:
            yield from _enums(v)


def xml_error(body: bytes, expected_root: Optional[str]) -> Optional[str]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        return f"not well-formed XML: {e}"
    if not root.tag.startswith("{" + FHIR_NS + "}"):
        return f"root element {root.tag!r} is not in the FHIR namespace {FHIR_NS}"
    local = root.tag.split("}", 1)[1]
    if expected_root and local != expected_root:
        return f"root element is {local}, expected {expected_root}"
    return None


# ---------------------------------------------------------------------------- self-test


def self_test(c: Checkers):
    """Each sample must be rejected by the checks listed with it (and accepted by the
    others is not required). A valid sample must pass every check."""
    valid = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "result", "valueBoolean": True},
            {"name": "code", "valueCode": "AMB"},
            {
                "name": "issues",
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "invalid", "details": {"text": "x"}}],
                },
            },
        ],
    }
    invalid = [
        # (what, document, the checks that must reject it)
        ("Parameters with valueFoo",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueFoo": "a"}]},
         {"model", "schema"}),
        ("Parameters with an unknown root element",
         {"resourceType": "Parameters", "bogus": 1}, {"model", "schema"}),
        ("CodeSystem inside a Bundle with an unknown element",
         {"resourceType": "Bundle", "type": "searchset",
          "entry": [{"resource": {"resourceType": "CodeSystem", "status": "active",
                                  "content": "complete", "bogus": 1}}]},
         {"model", "schema"}),
        ("valueCode with a leading space",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueCode": " a"}]},
         {"model", "schema"}),
        # fhir.resources types a code as a string and checks no bindings; the schema has
        # the enum of every required binding to a core code system.
        ("a code outside its required binding (issue.severity 'success', R5 only)",
         {"resourceType": "OperationOutcome", "issue": [{"severity": "success", "code": "informational"}]},
         {"schema"}),
        # The R4 JSON schema deliberately declares no required primitive elements (a
        # primitive may be carried only by its _element twin), so a missing issue.code
        # is the model's to catch.
        ("OperationOutcome issue without code",
         {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}, {"model"}),
        ("Parameters inside Parameters with an issue without code",
         {"resourceType": "Parameters", "parameter": [{"name": "issues", "resource": {
             "resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}}]}, {"model"}),
        # pydantic v1 coerces "1" to 1 and "true" to True, so JSON types are the schema's.
        ("valueInteger as a string",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueInteger": "1"}]}, {"schema"}),
        ("valueBoolean as a string",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueBoolean": "true"}]}, {"schema"}),
        ("valueString null",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueString": None}]},
         {"schema", "json"}),
        ("an empty array",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "part": []}]}, {"json"}),
        ("an empty object",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueCoding": {}}]}, {"json"}),
        ("inv-1: a parameter with both a value and parts",
         {"resourceType": "Parameters", "parameter": [{"name": "x", "valueString": "a", "part": [
             {"name": "y", "valueString": "b"}]}]}, {"invariant"}),
        ("vsd-10: an expansion entry with a code but no system",
         {"resourceType": "ValueSet", "status": "active", "expansion": {
             "timestamp": "2020-01-01T00:00:00Z", "contains": [{"code": "a"}]}}, {"invariant"}),
        ("opd-1: an OperationDefinition parameter with neither type nor parts",
         {"resourceType": "OperationDefinition", "name": "x", "status": "active", "kind": "operation",
          "code": "x", "system": False, "type": True, "instance": False,
          "parameter": [{"name": "p", "use": "out", "min": 0, "max": "*"}]}, {"invariant"}),
        # the FHIRVersion enum stays closed after the 4.0.1 patch (see Checkers)
        ("CapabilityStatement.fhirVersion 9.9.9",
         {"resourceType": "CapabilityStatement", "status": "active", "date": "2020-01-01",
          "kind": "instance", "fhirVersion": "9.9.9", "format": ["json"]}, {"schema"}),
        ("a resource type that R4 does not have",
         {"resourceType": "SubscriptionStatus", "status": "active"}, {"model", "schema"}),
    ]
    problems = []
    got = c.all(valid)
    if got:
        problems.append(f"the valid sample was rejected: {got}")
    for what, doc, must in invalid:
        rejected = {name for name, _ in c.all(doc)}
        missing = must - rejected
        if missing:
            problems.append(f"{what}: accepted by {', '.join(sorted(missing))}")
    for what, body in [("malformed XML", b"<Parameters xmlns='http://hl7.org/fhir'>"),
                       ("a root outside the FHIR namespace", b"<Parameters/>")]:
        if xml_error(body, "Parameters") is None:
            problems.append(f"XML check accepted {what}")
    if problems:
        for p in problems:
            print(f"SELF-TEST FAILED: {p}", file=sys.stderr)
        raise SystemExit(2)
    print(f"self-test: {len(invalid)} invalid samples rejected by the checks meant to "
          f"reject them, the valid sample accepted")


# ----------------------------------------------------------------------------- requests


@dataclass
class Req:
    name: str
    path: str  # below the FHIR base, e.g. "CodeSystem/$lookup"
    params: list = field(default_factory=list)  # [(name, value)]
    method: str = "GET"
    body: Optional[dict] = None
    status: int = 200
    rtype: Optional[str] = None  # expected resourceType (or XML root)
    headers: dict = field(default_factory=dict)
    raw_body: Optional[bytes] = None
    xml: bool = False
    # extra semantic checks: fn(doc) -> error string or None
    check: Optional[Callable] = None


def params_of(doc):
    return {p.get("name"): p for p in doc.get("parameter", [])}


def has_param(name, pred=None):
    def f(doc):
        p = params_of(doc).get(name)
        if p is None:
            return f"no parameter {name!r}"
        if pred and not pred(p):
            return f"parameter {name!r} is not as expected: {json.dumps(p)[:200]}"
        return None
    return f


def all_of(*fs):
    def f(doc):
        for g in fs:
            e = g(doc)
            if e:
                return e
        return None
    return f


def contains_len(n):
    def f(doc):
        got = len(doc.get("expansion", {}).get("contains", []))
        return None if got == n else f"expansion.contains has {got} entries, expected {n}"
    return f


def P(*params):
    return {"resourceType": "Parameters", "parameter": list(params)}


def requests_list():
    R = []
    a = R.append
    # capabilities
    a(Req("CapabilityStatement", "metadata", rtype="CapabilityStatement"))
    a(Req("TerminologyCapabilities", "metadata", [("mode", "terminology")], rtype="TerminologyCapabilities"))
    # reads
    a(Req("CodeSystem read", "CodeSystem/v3-ActCode", rtype="CodeSystem"))
    a(Req("CodeSystem read _summary", "CodeSystem/v3-ActCode", [("_summary", "true")], rtype="CodeSystem"))
    a(Req("CodeSystem read (LOINC, content not-present)", "CodeSystem/loinc-2.76", rtype="CodeSystem"))
    a(Req("CodeSystem read (classifier)", "CodeSystem/specimen-type-2.0.0", rtype="CodeSystem"))
    a(Req("ValueSet read", "ValueSet/v3-ActEncounterCode", rtype="ValueSet"))
    a(Req("ValueSet read (enumerated)", "ValueSet/encounter-class", rtype="ValueSet"))
    a(Req("ConceptMap read", "ConceptMap/cm-administrative-gender-v3", rtype="ConceptMap"))
    # searches
    a(Req("CodeSystem search _summary", "CodeSystem", [("name", "act"), ("_summary", "true")], rtype="Bundle"))
    a(Req("CodeSystem search by url", "CodeSystem", [("url", ACT)], rtype="Bundle"))
    a(Req("CodeSystem search all", "CodeSystem", [("_count", "100")], rtype="Bundle"))
    a(Req("CodeSystem search no match", "CodeSystem", [("url", "http://example.org/none")], rtype="Bundle"))
    a(Req("ValueSet search by url", "ValueSet", [("url", ENC_VS)], rtype="Bundle"))
    a(Req("ValueSet search paged _summary", "ValueSet", [("_summary", "true"), ("_count", "5")], rtype="Bundle"))
    a(Req("ConceptMap search", "ConceptMap", rtype="Bundle"))
    a(Req("ConceptMap search _summary", "ConceptMap", [("_summary", "true")], rtype="Bundle"))
    # CodeSystem $lookup
    a(Req("$lookup GET", "CodeSystem/$lookup", [("system", ACT), ("code", "AMB")], rtype="Parameters",
          check=has_param("display")))
    a(Req("$lookup instance, properties", "CodeSystem/v3-ActCode/$lookup",
          [("code", "AMB"), ("property", "parent"), ("property", "child"), ("property", "inactive"),
           ("property", "designation")], rtype="Parameters"))
    a(Req("$lookup all properties (*)", "CodeSystem/$lookup",
          [("system", ACT), ("code", "_ActEncounterCode"), ("property", "*")], rtype="Parameters"))
    a(Req("$lookup displayLanguage", "CodeSystem/$lookup",
          [("system", ACT), ("code", "AMB"), ("displayLanguage", "de")], rtype="Parameters"))
    a(Req("$lookup POST coding", "CodeSystem/$lookup", method="POST",
          body=P({"name": "coding", "valueCoding": {"system": ACT, "code": "AMB"}},
                 {"name": "property", "valueCode": "parent"}),
          rtype="Parameters"))
    a(Req("$lookup POST designations+language", "CodeSystem/$lookup", method="POST",
          body=P({"name": "system", "valueUri": LOINC}, {"name": "code", "valueCode": "26636-1"},
                 {"name": "displayLanguage", "valueCode": "lt"},
                 {"name": "property", "valueCode": "designation"}),
          rtype="Parameters", check=has_param("designation")))
    a(Req("$lookup POST tx-resource", "CodeSystem/$lookup", method="POST",
          body=P({"name": "system", "valueUri": "http://example.org/cs/tx"}, {"name": "code", "valueCode": "b"},
                 {"name": "property", "valueCode": "parent"},
                 {"name": "tx-resource", "resource": {
                     "resourceType": "CodeSystem", "url": "http://example.org/cs/tx", "version": "1",
                     "status": "active", "content": "complete", "hierarchyMeaning": "is-a",
                     "concept": [{"code": "a", "display": "A", "concept": [
                         {"code": "b", "display": "B", "designation": [{"language": "lt", "value": "Bė"}]}]}]}}),
          rtype="Parameters", check=has_param("display")))
    a(Req("LOINC $lookup lt", "CodeSystem/$lookup",
          [("system", LOINC), ("code", "26636-1"), ("displayLanguage", "lt")], rtype="Parameters",
          check=has_param("designation")))
    a(Req("LOINC $lookup all properties", "CodeSystem/$lookup",
          [("system", LOINC), ("code", "26636-1"), ("property", "*")], rtype="Parameters"))
    a(Req("ICD-10 $lookup 2019", "CodeSystem/$lookup",
          [("system", ICD10), ("code", "A17.0"), ("version", "2019")], rtype="Parameters"))
    a(Req("ICD-10 $lookup 2019-lt, properties", "CodeSystem/$lookup",
          [("system", ICD10), ("code", "A17.0"), ("version", "2019-lt"), ("property", "*")],
          rtype="Parameters"))
    a(Req("classifier $lookup", "CodeSystem/$lookup", [("system", SPECIMEN), ("code", "SERPL")],
          rtype="Parameters"))
    a(Req("classifier $lookup lt, properties", "CodeSystem/$lookup",
          [("system", SPECIMEN), ("code", "SERPL"), ("displayLanguage", "lt"), ("property", "*")],
          rtype="Parameters"))
    a(Req("classifier $lookup old version", "CodeSystem/$lookup",
          [("system", SPECIMEN), ("code", "SER"), ("version", "1.0.0")], rtype="Parameters"))
    # CodeSystem $validate-code
    a(Req("CS $validate-code good", "CodeSystem/$validate-code",
          [("url", ACT), ("code", "AMB"), ("display", "ambulatory")], rtype="Parameters",
          check=has_param("result", lambda p: p.get("valueBoolean") is True)))
    a(Req("CS $validate-code wrong display", "CodeSystem/$validate-code",
          [("url", ACT), ("code", "AMB"), ("display", "Ambulance")], rtype="Parameters",
          check=has_param("issues", lambda p: p.get("resource", {}).get("resourceType") == "OperationOutcome")))
    a(Req("CS $validate-code unknown code", "CodeSystem/$validate-code",
          [("url", ACT), ("code", "NOPE")], rtype="Parameters",
          check=has_param("result", lambda p: p.get("valueBoolean") is False)))
    a(Req("CS $validate-code unknown system", "CodeSystem/$validate-code",
          [("url", "http://example.org/nope"), ("code", "x")], rtype=None, status=None))
    a(Req("CS $validate-code POST codeableConcept", "CodeSystem/$validate-code", method="POST",
          body=P({"name": "url", "valueUri": ACT},
                 {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
                     {"system": ACT, "code": "AMB"}, {"system": ACT, "code": "NOPE"}]}}),
          rtype="Parameters"))
    a(Req("LOINC $validate-code lt display", "CodeSystem/$validate-code",
          [("url", LOINC), ("code", "26636-1"), ("display", "wrong"), ("displayLanguage", "lt")],
          rtype="Parameters"))
    # $subsumes
    a(Req("$subsumes GET", "CodeSystem/$subsumes", [("system", ACT), ("codeA", "_ActEncounterCode"), ("codeB", "AMB")],
          rtype="Parameters", check=has_param("outcome")))
    a(Req("$subsumes not-subsumed", "CodeSystem/v3-ActCode/$subsumes", [("codeA", "AMB"), ("codeB", "EMER")],
          rtype="Parameters", check=has_param("outcome")))
    a(Req("$subsumes POST codings", "CodeSystem/$subsumes", method="POST",
          body=P({"name": "codingA", "valueCoding": {"system": SPECIMEN, "code": "BLD"}},
                 {"name": "codingB", "valueCoding": {"system": SPECIMEN, "code": "SERPL"}}),
          rtype="Parameters", check=has_param("outcome")))
    # ValueSet $expand
    a(Req("$expand paged", "ValueSet/$expand", [("url", ACT_VS), ("count", "10"), ("offset", "20")],
          rtype="ValueSet", check=contains_len(10)))
    a(Req("$expand filter", "ValueSet/$expand", [("url", ACT_VS), ("filter", "ambul")], rtype="ValueSet"))
    a(Req("$expand includeDesignations", "ValueSet/$expand",
          [("url", ENC_VS), ("includeDesignations", "true"), ("count", "20")], rtype="ValueSet"))
    a(Req("$expand property", "ValueSet/$expand",
          [("url", ENC_VS), ("property", "parent"), ("property", "status"), ("count", "20")], rtype="ValueSet"))
    a(Req("$expand instance", "ValueSet/encounter-class/$expand", rtype="ValueSet"))
    a(Req("$expand displayLanguage", "ValueSet/$expand", [("url", ENC_VS), ("displayLanguage", "de")],
          rtype="ValueSet"))
    a(Req("$expand POST url+count", "ValueSet/$expand", method="POST",
          body=P({"name": "url", "valueUri": ENC_VS}, {"name": "count", "valueInteger": 10}), rtype="ValueSet"))
    a(Req("$expand POST inline valueSet", "ValueSet/$expand", method="POST",
          body=P({"name": "valueSet", "resource": {
              "resourceType": "ValueSet", "status": "active", "url": "http://example.org/vs/inline",
              "compose": {"include": [
                  {"system": ACT, "concept": [{"code": "AMB"}, {"code": "EMER"}]},
                  {"system": SPECIMEN, "filter": [{"property": "concept", "op": "is-a", "value": "BLD"}]}]}}},
                 {"name": "includeDesignations", "valueBoolean": True}),
          rtype="ValueSet"))
    a(Req("$expand LOINC answer list", "ValueSet/$expand", [("url", "http://loinc.org/vs/LL2693-0")],
          rtype="ValueSet", check=contains_len(4)))
    a(Req("$expand LOINC answer list lt + designations", "ValueSet/$expand",
          [("url", "http://loinc.org/vs/LL2693-0"), ("displayLanguage", "lt"), ("includeDesignations", "true")],
          rtype="ValueSet"))
    a(Req("$expand ICD-10 filter", "ValueSet/$expand", method="POST",
          body=P({"name": "valueSet", "resource": {
              "resourceType": "ValueSet", "status": "active",
              "compose": {"include": [{"system": ICD10, "version": "2019"}]}}},
                 {"name": "filter", "valueString": "tuberc"}, {"name": "count", "valueInteger": 5}),
          rtype="ValueSet"))
    # ValueSet $validate-code
    a(Req("VS $validate-code member", "ValueSet/$validate-code", [("url", ENC_VS), ("system", ACT), ("code", "AMB")],
          rtype="Parameters", check=has_param("result", lambda p: p.get("valueBoolean") is True)))
    a(Req("VS $validate-code non-member", "ValueSet/$validate-code",
          [("url", ENC_VS), ("system", ACT), ("code", "_ActEncounterCode")],
          rtype="Parameters", check=has_param("result", lambda p: p.get("valueBoolean") is False)))
    a(Req("VS $validate-code unknown code", "ValueSet/$validate-code", [("url", ENC_VS), ("system", ACT), ("code", "NOPE")],
          rtype="Parameters", check=has_param("result", lambda p: p.get("valueBoolean") is False)))
    a(Req("VS $validate-code POST coding", "ValueSet/$validate-code", method="POST",
          body=P({"name": "url", "valueUri": ENC_VS},
                 {"name": "coding", "valueCoding": {"system": ACT, "code": "AMB", "display": "wrong"}}),
          rtype="Parameters"))
    a(Req("$batch-validate-code", "ValueSet/$batch-validate-code", method="POST",
          body=P({"name": "url", "valueUri": ENC_VS},
                 {"name": "validation", "resource": P({"name": "coding", "valueCoding": {"system": ACT, "code": "AMB"}})},
                 {"name": "validation", "resource": P({"name": "coding", "valueCoding": {"system": ACT, "code": "NOPE"}})}),
          rtype="Parameters"))
    # ConceptMap
    a(Req("$translate forward", "ConceptMap/$translate", [("url", GENDER_CM), ("system", GENDER), ("code", "male")],
          rtype="Parameters", check=has_param("match")))
    a(Req("$translate reverse", "ConceptMap/$translate",
          [("url", GENDER_CM), ("system", V3_GENDER), ("code", "M"), ("reverse", "true")], rtype="Parameters"))
    a(Req("$translate no match", "ConceptMap/$translate", [("url", GENDER_CM), ("system", GENDER), ("code", "nope")],
          rtype=None, status=None))
    a(Req("$translate POST coding", "ConceptMap/$translate", method="POST",
          body=P({"name": "url", "valueUri": GENDER_CM},
                 {"name": "coding", "valueCoding": {"system": GENDER, "code": "female"}}), rtype="Parameters"))
    a(Req("$closure init", "$closure", method="POST", body=P({"name": "name", "valueString": CLOSURE_NAME}),
          rtype="ConceptMap"))
    a(Req("$closure add", "$closure", method="POST",
          body=P({"name": "name", "valueString": CLOSURE_NAME},
                 {"name": "concept", "valueCoding": {"system": ACT, "code": "AMB"}},
                 {"name": "concept", "valueCoding": {"system": ACT, "code": "_ActEncounterCode"}}),
          rtype="ConceptMap"))
    a(Req("$versions GET", "$versions", rtype="Parameters"))
    a(Req("$versions POST", "$versions", method="POST", body={"resourceType": "Parameters"}, rtype="Parameters"))
    # errors
    a(Req("error: unknown code system", "CodeSystem/$lookup", [("system", "http://example.org/nope"), ("code", "x")],
          status=404, rtype="OperationOutcome"))
    a(Req("error: unknown code", "CodeSystem/$lookup", [("system", ACT), ("code", "NOPE")],
          status=404, rtype="OperationOutcome"))
    a(Req("error: unknown resource id", "CodeSystem/does-not-exist", status=404, rtype="OperationOutcome"))
    a(Req("error: unknown value set", "ValueSet/$expand", [("url", "http://example.org/vs/none")],
          status=404, rtype="OperationOutcome"))
    a(Req("error: missing code (400)", "CodeSystem/$lookup", [("system", ACT)], status=400, rtype="OperationOutcome"))
    a(Req("error: invalid count (400)", "ValueSet/$expand", [("url", ACT_VS), ("count", "abc")],
          status=400, rtype="OperationOutcome"))
    a(Req("error: malformed JSON body (400)", "CodeSystem/$lookup", method="POST", raw_body=b"{bad",
          headers={"Content-Type": "application/fhir+json"}, status=400, rtype="OperationOutcome"))
    a(Req("error: unsupported operation (501)", "CodeSystem/$find-matches", [("system", ACT)],
          status=501, rtype="OperationOutcome"))
    a(Req("error: method not allowed (405)", "CodeSystem/v3-ActCode", method="DELETE",
          status=405, rtype="OperationOutcome"))
    a(Req("error: unsupported media type (415)", "CodeSystem/$lookup", method="POST", raw_body=b"code=AMB",
          headers={"Content-Type": "text/plain"}, status=415, rtype="OperationOutcome"))
    a(Req("error: not acceptable (406)", "metadata", headers={"Accept": "text/csv"}, status=406,
          rtype="OperationOutcome"))
    a(Req("error: too costly (422)", "ValueSet/$expand", [("url", ACT_VS)], status=422, rtype="OperationOutcome"))
    # XML
    for name, path, params, root, status in [
        ("CapabilityStatement", "metadata", [], "CapabilityStatement", 200),
        ("TerminologyCapabilities", "metadata", [("mode", "terminology")], "TerminologyCapabilities", 200),
        ("CodeSystem read", "CodeSystem/v3-ActCode", [], "CodeSystem", 200),
        ("search Bundle", "CodeSystem", [("name", "act"), ("_summary", "true")], "Bundle", 200),
        ("$lookup", "CodeSystem/v3-ActCode/$lookup", [("code", "AMB"), ("property", "parent")], "Parameters", 200),
        ("LOINC $lookup lt", "CodeSystem/$lookup", [("system", LOINC), ("code", "26636-1"), ("displayLanguage", "lt")],
         "Parameters", 200),
        ("$validate-code wrong display", "CodeSystem/$validate-code", [("url", ACT), ("code", "AMB"), ("display", "Ambulance")],
         "Parameters", 200),
        ("$expand paged", "ValueSet/$expand", [("url", ACT_VS), ("count", "5")], "ValueSet", 200),
        ("$translate", "ConceptMap/$translate", [("url", GENDER_CM), ("system", GENDER), ("code", "male")],
         "Parameters", 200),
        ("error 404", "CodeSystem/$lookup", [("system", "http://example.org/nope"), ("code", "x")],
         "OperationOutcome", 404),
        ("error 422", "ValueSet/$expand", [("url", ACT_VS)], "OperationOutcome", 422),
    ]:
        a(Req(f"XML {name}", path, params + [("_format", "xml")], rtype=root, status=status, xml=True))
    return R


# -------------------------------------------------------------------------------- driver


def send(base, r: Req, timeout=60):
    url = base.rstrip("/") + "/" + r.path
    if r.params:
        url += "?" + urllib.parse.urlencode(r.params)
    headers = {"Accept": "application/fhir+xml" if r.xml else "application/fhir+json"}
    headers.update(r.headers)
    data = None
    if r.body is not None:
        data = json.dumps(r.body).encode()
        headers.setdefault("Content-Type", "application/fhir+json")
    elif r.raw_body is not None:
        data = r.raw_body
    req = urllib.request.Request(url, data=data, method=r.method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return url, resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as e:
        return url, e.code, e.headers.get("Content-Type", ""), e.read()


def count_resources(doc):
    """The resource itself and every resource nested in it (Bundle entries,
    Parameters.parameter.resource, contained)."""
    n = 0
    if isinstance(doc, dict):
        if "resourceType" in doc:
            n += 1
        for v in doc.values():
            n += count_resources(v)
    elif isinstance(doc, list):
        for v in doc:
            n += count_resources(v)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://127.0.0.1:18096/fhir")
    ap.add_argument("--schema", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    started = time.monotonic()
    c = Checkers(args.schema)
    # (fhir.resources 6.2.2's own __version__ says "6.2.1": the distribution's version is the truth)
    print(f"fhir.resources {importlib.metadata.version('fhir.resources')} (FHIR {fhir.resources.__fhir_version__}), "
          f"jsonschema {importlib.metadata.version('jsonschema')} "
          f"{c.validator_cls.__name__}, schema {c.schema_id}")
    if c.patches:
        print(f"schema workaround: added FHIRVersion '4.0.1' to the enum of {', '.join(c.patches)}")
    self_test(c)

    reqs = requests_list()
    # Every OperationDefinition the CapabilityStatement links to, JSON and XML.
    base = args.base.rstrip("/")
    try:
        _, _, _, body = send(args.base, Req("metadata", "metadata"))
        cs = json.loads(body)
        defs = [o.get("definition") for rest in cs.get("rest", [])
                for o in [op for res in rest.get("resource", []) for op in res.get("operation", [])]
                + rest.get("operation", [])]
    except Exception as e:
        defs = []
        print(f"FAIL could not read the CapabilityStatement's operations: {e}")
    local = [d for d in defs if isinstance(d, str) and d.startswith(base + "/")]
    if not local:
        reqs.append(Req("OperationDefinitions linked from the CapabilityStatement", "metadata",
                        rtype="CapabilityStatement",
                        check=lambda doc: "the CapabilityStatement links to no OperationDefinition on this server"))
    for i, d in enumerate(local):
        path = d[len(base) + 1:]
        reqs.append(Req(f"OperationDefinition {path.rsplit('/', 1)[-1]}", path, rtype="OperationDefinition"))
        if i == 0:
            reqs.append(Req(f"XML OperationDefinition {path.rsplit('/', 1)[-1]}", path, [("_format", "xml")],
                            rtype="OperationDefinition", xml=True))

    passed = failed = resources = 0
    for r in reqs:
        desc = f"{r.method} {r.path}"
        try:
            url, status, ctype, body = send(args.base, r)
        except Exception as e:
            failed += 1
            print(f"FAIL {r.name}: {desc}: request failed: {e}")
            continue
        desc = f"{r.method} {url}" + (f" body={json.dumps(r.body)[:160]}" if r.body else "")
        errs = []
        rtype = "?"
        if r.status is not None and status != r.status:
            errs.append(("http", f"status {status}, expected {r.status}"))
        want_ctype = "application/fhir+xml" if r.xml else "application/fhir+json"
        if not ctype.split(";")[0].strip() == want_ctype:
            errs.append(("http", f"Content-Type {ctype!r}, expected {want_ctype}"))
        if r.xml:
            rtype = r.rtype
            e = xml_error(body, r.rtype)
            if e:
                errs.append(("xml", e))
            else:
                resources += 1
        else:
            try:
                doc = json.loads(body)
            except ValueError as e:
                doc = None
                errs.append(("json", f"not JSON: {e}: {body[:200]!r}"))
            if doc is not None:
                rtype = doc.get("resourceType", "?") if isinstance(doc, dict) else "?"
                if r.rtype is not None and rtype != r.rtype:
                    errs.append(("http", f"resourceType {rtype}, expected {r.rtype}"))
                if r.rtype is None and rtype not in ("Parameters", "OperationOutcome"):
                    errs.append(("http", f"resourceType {rtype}, expected Parameters or OperationOutcome"))
                errs.extend(c.all(doc))
                resources += count_resources(doc)
                if r.check and not errs and status == 200:
                    e = r.check(doc)
                    if e:
                        errs.append(("content", e))
        if errs:
            failed += 1
            name, e = errs[0]
            more = f" (+{len(errs) - 1} more: {', '.join(n for n, _ in errs[1:])})" if len(errs) > 1 else ""
            print(f"FAIL {r.name}: {desc} -> {status} {rtype}: {name}: {e}{more}")
        else:
            passed += 1
            if args.verbose:
                print(f"ok   {r.name}: {status} {rtype}")
    print(f"checked {passed + failed} requests, {resources} resources (nested ones included) "
          f"in {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
