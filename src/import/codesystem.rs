//! FHIR CodeSystem → [`CodeSystemLoad`]: flattens nested concepts, reads designations
//! and typed properties, derives the hierarchy from nesting and from properties that
//! denote parents or children, and computes the closure.

use std::collections::HashMap;

use serde_json::Value;

use super::closure::transitive_closure;
use super::fhir_json::{array_field, bool_field, canonical_header, coding, str_field};
use crate::model::{
    CodeSystemLoad, CodeSystemMeta, ConceptLoad, Designation, PropertyDef, PropertyType,
    PropertyValue, Value as PropValue,
};

const CONCEPT_PROPERTIES: &str = "http://hl7.org/fhir/concept-properties#";

/// What a property means for the hierarchy and for concept flags.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Parent,
    Child,
    Inactive,
    Status,
    NotSelectable,
    Other,
}

fn role_of(code: &str, uri: Option<&str>) -> Role {
    let named = |name: &str| match name {
        "parent" => Role::Parent,
        "child" => Role::Child,
        "inactive" => Role::Inactive,
        "status" => Role::Status,
        "notSelectable" => Role::NotSelectable,
        _ => Role::Other,
    };
    // The concept-properties URI decides; a URI it does not know falls back to the code.
    match uri
        .and_then(|u| u.strip_prefix(CONCEPT_PROPERTIES))
        .map(named)
    {
        Some(Role::Other) | None => named(code),
        Some(role) => role,
    }
}

/// Converts a CodeSystem resource; `Err` explains why it cannot be loaded.
pub fn convert(resource: &Value) -> Result<CodeSystemLoad, String> {
    let header = canonical_header(resource)?;
    let properties: Vec<PropertyDef> = array_field(resource, "property")
        .iter()
        .filter_map(|p| {
            Some(PropertyDef {
                code: str_field(p, "code")?,
                uri: str_field(p, "uri"),
                type_: str_field(p, "type")
                    .and_then(|t| PropertyType::parse(&t))
                    .unwrap_or(PropertyType::String),
                description: str_field(p, "description"),
            })
        })
        .collect();
    let roles: HashMap<&str, Role> = properties
        .iter()
        .map(|p| (p.code.as_str(), role_of(&p.code, p.uri.as_deref())))
        .collect();

    let mut concepts = Vec::new();
    let mut links = Vec::new();
    let mut pending_links: Vec<(usize, String, Role)> = Vec::new();
    flatten(
        array_field(resource, "concept"),
        None,
        &roles,
        &mut concepts,
        &mut links,
        &mut pending_links,
    )?;

    let mut index: HashMap<&str, u32> = HashMap::with_capacity(concepts.len());
    for (i, c) in concepts.iter().enumerate() {
        if index.insert(c.code.as_str(), i as u32).is_some() {
            return Err(format!("the code '{}' is defined more than once", c.code));
        }
    }
    for (concept, target, role) in pending_links {
        if let Some(&other) = index.get(target.as_str()) {
            match role {
                Role::Parent => links.push((concept as u32, other)),
                Role::Child => links.push((other, concept as u32)),
                _ => {}
            }
        }
    }
    links.sort_unstable();
    links.dedup();
    links.retain(|(child, parent)| child != parent);
    let closure = transitive_closure(concepts.len(), &links);

    let meta = CodeSystemMeta {
        id: 0,
        resource_id: header.resource_id,
        url: header.url,
        version: header.version,
        name: header.name,
        title: header.title,
        status: header.status,
        content: str_field(resource, "content"),
        hierarchy_meaning: str_field(resource, "hierarchyMeaning"),
        case_sensitive: bool_field(resource, "caseSensitive"),
        value_set: str_field(resource, "valueSet"),
        language: str_field(resource, "language"),
        supplements: str_field(resource, "supplements"),
        date: str_field(resource, "date"),
        experimental: bool_field(resource, "experimental"),
        standards_status: super::fhir_json::standards_status(resource),
        licensed: false,
        concept_count: concepts.len() as i64,
        properties,
    };
    Ok(CodeSystemLoad {
        meta,
        resource_json: resource.to_string(),
        concepts,
        links,
        closure,
        snomed: None,
    })
}

/// Depth-first flattening of nested `concept` elements, recording nesting as parent links
/// and property-declared relatives for resolution once every code is known.
fn flatten(
    nodes: &[Value],
    parent: Option<u32>,
    roles: &HashMap<&str, Role>,
    concepts: &mut Vec<ConceptLoad>,
    links: &mut Vec<(u32, u32)>,
    pending: &mut Vec<(usize, String, Role)>,
) -> Result<(), String> {
    for node in nodes {
        let code = str_field(node, "code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| format!("a concept (after {} others) has no code", concepts.len()))?;
        let index = concepts.len();
        let mut concept = ConceptLoad {
            code,
            display: str_field(node, "display"),
            definition: str_field(node, "definition"),
            inactive: false,
            abstract_: false,
            designations: array_field(node, "designation")
                .iter()
                .filter_map(|d| {
                    Some(Designation {
                        language: str_field(d, "language"),
                        use_: d.get("use").map(coding),
                        value: str_field(d, "value")?,
                        extensions: array_field(d, "extension").to_vec(),
                    })
                })
                .collect(),
            properties: Vec::new(),
            // Rendering extensions, which expansions repeat.
            extensions: array_field(node, "extension")
                .iter()
                .filter(|e| {
                    e.get("url").and_then(Value::as_str).is_some_and(|u| {
                        u.starts_with("http://hl7.org/fhir/StructureDefinition/rendering-")
                    })
                })
                .cloned()
                .collect(),
        };
        for p in array_field(node, "property") {
            let Some(code) = str_field(p, "code") else {
                continue;
            };
            let Some(value) = property_value(p) else {
                continue;
            };
            let role = roles
                .get(code.as_str())
                .copied()
                .unwrap_or_else(|| role_of(&code, None));
            match (role, &value) {
                (Role::Parent | Role::Child, v) => pending.push((index, v.lexical(), role)),
                (Role::Inactive, PropValue::Boolean(true)) => concept.inactive = true,
                (Role::Status, v) if matches!(v.lexical().as_str(), "retired" | "inactive") => {
                    concept.inactive = true
                }
                (Role::NotSelectable, PropValue::Boolean(true)) => concept.abstract_ = true,
                _ => {}
            }
            concept.properties.push(PropertyValue { code, value });
        }
        // Display extensions tx.fhir.org reports as properties of the concept: its order,
        // its label and its weight.
        for e in array_field(node, "extension") {
            let url = e.get("url").and_then(Value::as_str).unwrap_or_default();
            let (code, value) = match url {
                "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder" => (
                    "order",
                    e.get("valueInteger")
                        .or_else(|| e.get("valueDecimal"))
                        .map(|v| PropValue::Decimal(v.to_string())),
                ),
                "http://hl7.org/fhir/StructureDefinition/codesystem-label" => (
                    "label",
                    e.get("valueString")
                        .and_then(Value::as_str)
                        .map(|s| PropValue::String(s.to_string())),
                ),
                "http://hl7.org/fhir/StructureDefinition/itemWeight" => (
                    "weight",
                    e.get("valueDecimal")
                        .map(|v| PropValue::Decimal(v.to_string())),
                ),
                // A concept's standards status (deprecated...) is its status.
                "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status" => (
                    "status",
                    e.get("valueCode")
                        .and_then(Value::as_str)
                        .map(|s| PropValue::Code(s.to_string())),
                ),
                _ => continue,
            };
            if let Some(value) = value {
                if !concept.properties.iter().any(|p| p.code == code) {
                    concept.properties.push(PropertyValue {
                        code: code.to_string(),
                        value,
                    });
                }
            }
        }
        concepts.push(concept);
        if let Some(parent) = parent {
            links.push((index as u32, parent));
        }
        flatten(
            array_field(node, "concept"),
            Some(index as u32),
            roles,
            concepts,
            links,
            pending,
        )?;
    }
    Ok(())
}

/// Reads `value[x]` of a concept property.
fn property_value(p: &Value) -> Option<PropValue> {
    let obj = p.as_object()?;
    for (key, v) in obj {
        let Some(kind) = key.strip_prefix("value") else {
            continue;
        };
        return Some(match kind {
            "Code" => PropValue::Code(v.as_str()?.to_owned()),
            "Coding" => PropValue::Coding(coding(v)),
            "String" => PropValue::String(v.as_str()?.to_owned()),
            "Integer" => PropValue::Integer(v.as_i64()?),
            "Boolean" => PropValue::Boolean(v.as_bool()?),
            "DateTime" => PropValue::DateTime(v.as_str()?.to_owned()),
            "Decimal" => PropValue::Decimal(v.to_string()),
            _ => continue,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::convert;
    use serde_json::json;

    #[test]
    fn nesting_and_parent_properties_both_make_links() {
        let cs = json!({
            "resourceType": "CodeSystem", "url": "http://example.org/cs", "id": "cs",
            "property": [{"code": "subsumedBy", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
                         {"code": "status", "type": "code"}],
            "concept": [
                {"code": "a", "concept": [{"code": "b"}]},
                {"code": "c", "property": [{"code": "subsumedBy", "valueCode": "b"},
                                            {"code": "status", "valueCode": "retired"}]}
            ]
        });
        let load = convert(&cs).unwrap();
        assert_eq!(load.links, vec![(1, 0), (2, 1)]);
        assert_eq!(load.closure, vec![(0, 1), (0, 2), (1, 2)]);
        assert!(load.concepts[2].inactive);
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let cs = json!({"url": "http://x", "id": "x", "concept": [{"code": "a"}, {"code": "a"}]});
        assert!(convert(&cs).unwrap_err().contains("'a'"));
    }
}
