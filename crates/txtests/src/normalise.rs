//! Puts a server's response into the shape the reference runner compares: narrative and
//! `meta` removed, extensions the suite does not manage removed (except inside
//! `ValueSet.compose`, which is echoed as given), and lists sorted the way `TxTesterSorters`
//! sorts them, so that array order never decides a test.

use serde_json::Value;
use std::cmp::Ordering;

/// Extensions the suite's expected responses speak about; every other absolute-URL
/// extension is dropped before comparison, as the reference runner does when not "tight".
const MANAGED_EXTENSIONS: &[&str] = &[
    "http://hl7.org/fhir/StructureDefinition/codesystem-alternate",
    "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder",
    "http://hl7.org/fhir/StructureDefinition/codesystem-label",
    "http://hl7.org/fhir/StructureDefinition/coding-sctdescid",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/rendering-style",
    "http://hl7.org/fhir/StructureDefinition/rendering-xhtml",
    "http://hl7.org/fhir/StructureDefinition/translation",
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition",
    "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder",
    "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
    "http://hl7.org/fhir/StructureDefinition/valueset-label",
    "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
    "http://hl7.org/fhir/test/CodeSystem/de-multi",
    "http://hl7.org/fhir/test/CodeSystem/en-multi",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-1",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-3",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-4",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-5",
    "http://hl7.org/fhir/test/ValueSet/extensions-bad-supplement",
    "http://hl7.org/fhir/test/ValueSet/simple-all",
    "http://hl7.org/fhir/test/ValueSet/simple-enumerated",
    "http://hl7.org/fhir/StructureDefinition/alternate-code-use",
    "http://hl7.org/fhir/StructureDefinition/alternate-code-status",
    "http://hl7.org/fhir/test/ValueSet/simple-filter-isa",
    // Beyond the reference list: the suite's expected responses carry these.
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id",
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
    "http://hl7.org/fhir/StructureDefinition/valueset-unclosed",
    "http://hl7.org/fhir/StructureDefinition/valueset-unclosed-reason",
];

/// R4 carries R5's `expansion.property` and `contains.property` in cross-version
/// extensions; the reference client converts them back to R5 before comparing.
const EXPANSION_PROPERTY: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property";
const CONTAINS_PROPERTY: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property";

/// Scrubs and sorts a response resource in place.
pub fn normalise(resource: &mut Value) {
    if resource["resourceType"] == "ValueSet" {
        if let Some(expansion) = resource.get_mut("expansion") {
            lift(expansion, EXPANSION_PROPERTY, "property");
            lift_contains(expansion);
        }
    }
    // Capability statements keep their extensions: the suite checks feature declarations.
    let capabilities = matches!(
        resource["resourceType"].as_str(),
        Some("CapabilityStatement" | "TerminologyCapabilities")
    );
    scrub(resource, capabilities);
    match resource["resourceType"].as_str() {
        Some("Parameters") => sort_parameters(resource),
        Some("ValueSet") => sort_value_set(resource),
        Some("Bundle") => {
            if let Some(entries) = resource.get_mut("entry").and_then(Value::as_array_mut) {
                for e in entries {
                    if let Some(r) = e.get_mut("resource") {
                        if r["resourceType"] == "Parameters" {
                            sort_parameters(r);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// Moves the cross-version extensions `url` of `element` into the R5 element `name`, each
/// extension's sub-extensions becoming properties (`code`, `uri`, `value[x]`).
fn lift(element: &mut Value, url: &str, name: &str) {
    let Some(exts) = element.get_mut("extension").and_then(Value::as_array_mut) else {
        return;
    };
    let mut lifted = Vec::new();
    exts.retain(|e| {
        if e["url"] != url {
            return true;
        }
        let mut out = serde_json::Map::new();
        for part in e["extension"].as_array().into_iter().flatten() {
            let key = part["url"].as_str().unwrap_or_default();
            if let Some((vk, vv)) = part
                .as_object()
                .and_then(|m| m.iter().find(|(k, _)| k.starts_with("value")))
            {
                let target = if key == "value" {
                    vk.clone()
                } else {
                    key.to_string()
                };
                out.insert(target, vv.clone());
            }
        }
        lifted.push(Value::Object(out));
        false
    });
    if exts.is_empty() {
        element.as_object_mut().map(|m| m.remove("extension"));
    }
    if !lifted.is_empty() {
        element[name] = Value::Array(lifted);
    }
}

fn lift_contains(parent: &mut Value) {
    if let Some(items) = parent.get_mut("contains").and_then(Value::as_array_mut) {
        for c in items {
            lift(c, CONTAINS_PROPERTY, "property");
            lift_contains(c);
        }
    }
}

fn managed(url: &str) -> bool {
    !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with("urn:"))
        || MANAGED_EXTENSIONS.contains(&url)
}

fn scrub(value: &mut Value, in_compose: bool) {
    match value {
        Value::Object(map) => {
            if map.contains_key("resourceType") {
                map.remove("text");
                map.remove("meta");
            }
            if !in_compose {
                for key in ["extension", "modifierExtension"] {
                    if let Some(Value::Array(exts)) = map.get_mut(key) {
                        exts.retain(|e| e["url"].as_str().is_none_or(managed));
                        if exts.is_empty() {
                            map.remove(key);
                        }
                    }
                }
            }
            let is_value_set = map.get("resourceType").and_then(Value::as_str) == Some("ValueSet");
            for (k, v) in map.iter_mut() {
                scrub(v, in_compose || (is_value_set && k == "compose"));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scrub(i, in_compose)),
        _ => {}
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn sort_by<F: FnMut(&Value, &Value) -> Ordering>(v: &mut Value, key: &str, f: F) {
    if let Some(items) = v.get_mut(key).and_then(Value::as_array_mut) {
        items.sort_by(f);
    }
}

fn sort_extensions(v: &mut Value) {
    if let Some(items) = v.get_mut("extension").and_then(Value::as_array_mut) {
        for e in items.iter_mut() {
            sort_extensions(e);
        }
        items.sort_by(|a, b| text(a, "url").cmp(text(b, "url")));
    }
}

fn sort_parameter(p: &mut Value) {
    sort_extensions(p);
    if let Some(parts) = p.get_mut("part").and_then(Value::as_array_mut) {
        parts.iter_mut().for_each(sort_parameter);
        parts.sort_by(|a, b| text(a, "name").cmp(text(b, "name")));
    }
}

fn sort_parameters(params: &mut Value) {
    if let Some(items) = params.get_mut("parameter").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(sort_parameter);
        items.sort_by(|a, b| text(a, "name").cmp(text(b, "name")));
        for p in items.iter_mut() {
            if let Some(r) = p.get_mut("resource") {
                if r["resourceType"] == "OperationOutcome" {
                    sort_by(r, "issue", issue_order);
                }
            }
        }
    }
}

fn issue_order(a: &Value, b: &Value) -> Ordering {
    let place = |i: &Value| -> String {
        for key in ["expression", "location"] {
            if let Some(s) = i[key].get(0).and_then(Value::as_str) {
                return s.to_string();
            }
        }
        String::new()
    };
    text(a, "severity")
        .cmp(text(b, "severity"))
        .then_with(|| text(a, "code").cmp(text(b, "code")))
        .then_with(|| place(a).cmp(&place(b)))
        .then_with(|| text(&a["details"], "text").cmp(text(&b["details"], "text")))
}

fn primitive(v: &Value) -> String {
    if let Some(map) = v.as_object() {
        for (k, val) in map {
            if k.starts_with("value") {
                return match val {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
            }
        }
    }
    String::new()
}

fn sort_value_set(vs: &mut Value) {
    sort_extensions(vs);
    let Some(expansion) = vs.get_mut("expansion") else {
        return;
    };
    sort_extensions(expansion);
    if let Some(items) = expansion.get_mut("parameter").and_then(Value::as_array_mut) {
        items.iter_mut().for_each(sort_extensions);
        items.sort_by(|a, b| {
            text(a, "name")
                .cmp(text(b, "name"))
                .then_with(|| primitive(a).cmp(&primitive(b)))
        });
    }
    sort_by(expansion, "property", |a, b| {
        text(a, "uri")
            .cmp(text(b, "uri"))
            .then_with(|| text(a, "code").cmp(text(b, "code")))
    });
    sort_contains(expansion);
}

/// Orders expansion entries by code, and, beyond the reference runner, entries with the
/// same code (one per code system version) by version: the suite says array order never
/// matters, and the reference order leaves such ties to the server's own order. Applied
/// to expected responses too (see `sort_expected`).
pub fn sort_contains(parent: &mut Value) {
    if let Some(items) = parent.get_mut("contains").and_then(Value::as_array_mut) {
        items.sort_by(|a, b| {
            text(a, "code")
                .cmp(text(b, "code"))
                .then_with(|| text(a, "version").cmp(text(b, "version")))
        });
        for c in items.iter_mut() {
            sort_extensions(c);
            sort_by(c, "designation", |a, b| {
                match (a.get("language"), b.get("language")) {
                    (Some(_), Some(_)) => text(a, "language").cmp(text(b, "language")),
                    _ => text(a, "value").cmp(text(b, "value")),
                }
            });
            sort_by(c, "property", |a, b| text(a, "code").cmp(text(b, "code")));
            sort_contains(c);
        }
    }
}

/// Puts the ties of an expected expansion in the same order as the actual's (see
/// `sort_contains`).
pub fn sort_expected(expected: &mut Value) {
    if expected["resourceType"] == "ValueSet" {
        if let Some(expansion) = expected.get_mut("expansion") {
            sort_ties(expansion);
        }
    }
}

fn sort_ties(parent: &mut Value) {
    if let Some(items) = parent.get_mut("contains").and_then(Value::as_array_mut) {
        items.sort_by(|a, b| {
            let (ca, cb) = (text(a, "code"), text(b, "code"));
            if ca == cb {
                text(a, "version").cmp(text(b, "version"))
            } else {
                std::cmp::Ordering::Equal
            }
        });
        for c in items.iter_mut() {
            sort_ties(c);
        }
    }
}
