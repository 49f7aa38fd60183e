//! FHIR ValueSet → [`ValueSetDef`]: the `compose` as plain values. Used by the importer and
//! by the FHIR layer for value sets sent inline with a request.

use serde_json::Value;

use super::fhir_json::{array_field, bool_field, str_field};
use crate::model::{Compose, ConceptSet, FilterDef, ListedConcept, ValueSetDef};

/// The elements of a ValueSet an expansion of it repeats, in the order FHIR lists them
/// (tx.fhir.org's selection, which clients compare against).
pub const ENVELOPE: &[&str] = &[
    "id",
    "language",
    "url",
    "version",
    "name",
    "title",
    "status",
    "experimental",
    "date",
];

/// Reads a ValueSet resource's identity and compose.
pub fn definition(resource: &Value) -> ValueSetDef {
    let envelope = ENVELOPE
        .iter()
        .filter_map(|k| Some((k.to_string(), resource.get(*k)?.clone())))
        .collect();
    ValueSetDef {
        envelope,
        standards_status: super::fhir_json::standards_status(resource),
        supplements: array_field(resource, "extension")
            .iter()
            .filter(|e| {
                e.get("url").and_then(Value::as_str)
                    == Some("http://hl7.org/fhir/StructureDefinition/valueset-supplement")
            })
            .filter_map(|e| {
                e.get("valueCanonical")
                    .or_else(|| e.get("valueUri"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect(),
        contained: array_field(resource, "contained")
            .iter()
            .filter(|c| c.get("resourceType").and_then(Value::as_str) == Some("ValueSet"))
            .map(definition)
            .collect(),
        parameters: resource
            .get("compose")
            .map(|c| {
                array_field(c, "extension")
                    .iter()
                    .filter(|e| {
                        e.get("url").and_then(Value::as_str).is_some_and(|u| {
                            u.ends_with("/StructureDefinition/valueset-expansion-parameter")
                        })
                    })
                    .filter_map(expansion_parameter)
                    .collect()
            })
            .unwrap_or_default(),
        url: str_field(resource, "url"),
        version: str_field(resource, "version"),
        name: str_field(resource, "name"),
        title: str_field(resource, "title"),
        status: str_field(resource, "status"),
        compose: resource.get("compose").map(|c| Compose {
            inactive: bool_field(c, "inactive"),
            locked_date: str_field(c, "lockedDate"),
            include: array_field(c, "include").iter().map(concept_set).collect(),
            exclude: array_field(c, "exclude").iter().map(concept_set).collect(),
        }),
        origin: Default::default(),
    }
}

fn concept_set(set: &Value) -> ConceptSet {
    ConceptSet {
        system: str_field(set, "system"),
        version: str_field(set, "version"),
        concepts: array_field(set, "concept")
            .iter()
            .filter_map(|c| {
                Some(ListedConcept {
                    code: str_field(c, "code")?,
                    display: str_field(c, "display"),
                    extensions: array_field(c, "extension").to_vec(),
                    designations: array_field(c, "designation").to_vec(),
                })
            })
            .collect(),
        filters: array_field(set, "filter")
            .iter()
            .map(|f| FilterDef {
                property: str_field(f, "property").unwrap_or_default(),
                op: str_field(f, "op").unwrap_or_default(),
                value: str_field(f, "value").unwrap_or_default(),
            })
            .collect(),
        value_sets: array_field(set, "valueSet")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    }
}

/// A `valueset-expansion-parameter` extension (`name`, `value[x]`) as a
/// `Parameters.parameter` element.
fn expansion_parameter(ext: &Value) -> Option<Value> {
    let parts = array_field(ext, "extension");
    let name = parts
        .iter()
        .find(|p| p.get("url").and_then(Value::as_str) == Some("name"))
        .and_then(|p| p.get("valueCode").or_else(|| p.get("valueString")))?;
    let value = parts
        .iter()
        .find(|p| p.get("url").and_then(Value::as_str) == Some("value"))?;
    let (key, v) = value
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with("value"))?;
    let mut out = serde_json::Map::new();
    out.insert("name".into(), name.clone());
    out.insert(key.clone(), v.clone());
    Some(Value::Object(out))
}
