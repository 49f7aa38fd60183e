//! FHIR R4 ConceptMap → [`ConceptMapLoad`]: the resource kept whole, and each
//! `group.element.target` flattened into a row keyed both ways for `$translate`.

use serde_json::Value;

use super::fhir_json::{array_field, canonical_header, str_field};
use crate::model::{ConceptMapLoad, MapElement, UnmappedRule};

/// Converts a ConceptMap resource; `Err` explains why it cannot be loaded.
pub fn convert(resource: &Value) -> Result<ConceptMapLoad, String> {
    let header = canonical_header(resource)?;
    // R4's sourceUri/sourceCanonical, or R5's sourceScopeUri/sourceScopeCanonical.
    let scope = |name: &str| {
        ["Uri", "Canonical", "ScopeUri", "ScopeCanonical"]
            .iter()
            .find_map(|t| str_field(resource, &format!("{name}{t}")))
    };
    let mut elements = Vec::new();
    let mut unmapped = Vec::new();
    for group in array_field(resource, "group") {
        if let Some(u) = group.get("unmapped") {
            unmapped.push(UnmappedRule {
                source_system: str_field(group, "source"),
                target_system: str_field(group, "target"),
                mode: str_field(u, "mode").unwrap_or_default(),
                code: str_field(u, "code"),
                display: str_field(u, "display"),
                url: str_field(u, "url"),
            });
        }
        for element in array_field(group, "element") {
            let Some(source_code) = str_field(element, "code") else {
                continue;
            };
            let base = MapElement {
                source_system: str_field(group, "source"),
                source_version: str_field(group, "sourceVersion"),
                source_code,
                source_display: str_field(element, "display"),
                target_system: str_field(group, "target"),
                target_version: str_field(group, "targetVersion"),
                ..MapElement::default()
            };
            let targets = array_field(element, "target");
            if targets.is_empty() {
                elements.push(MapElement {
                    equivalence: "unmatched".into(),
                    ..base
                });
                continue;
            }
            for target in targets {
                let json = |name: &str| {
                    target
                        .get(name)
                        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                        .map(Value::to_string)
                };
                elements.push(MapElement {
                    target_code: str_field(target, "code"),
                    target_display: str_field(target, "display"),
                    equivalence: str_field(target, "equivalence")
                        .or_else(|| {
                            str_field(target, "relationship").map(|r| r5_equivalence(&r).into())
                        })
                        .unwrap_or_else(|| "equivalent".into()),
                    comment: str_field(target, "comment"),
                    depends_on: json("dependsOn"),
                    product: json("product"),
                    ..base.clone()
                });
            }
        }
    }
    Ok(ConceptMapLoad {
        header,
        source: scope("source"),
        target: scope("target"),
        resource_json: resource.to_string(),
        elements,
        unmapped,
    })
}

/// R5's `relationship` as the R4 `equivalence` it corresponds to.
fn r5_equivalence(relationship: &str) -> &'static str {
    match relationship {
        "source-is-narrower-than-target" => "wider",
        "source-is-broader-than-target" => "narrower",
        "related-to" => "relatedto",
        "not-related-to" => "disjoint",
        _ => "equivalent",
    }
}
