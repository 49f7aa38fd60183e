//! Search results as `searchset` Bundles, with the FHIR search result parameters
//! `_summary`, `_elements`, `_count` and `_offset` applied.

use serde_json::{json, Map, Value};

use super::outcome::FhirError;

/// How much of each matching resource to return.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Shape {
    #[default]
    Full,
    /// `_summary=true`: the resource without its (possibly huge) content arrays.
    Summary,
    /// `_summary=count`: only the total.
    Count,
    /// `_elements=a,b`: only those top-level elements.
    Elements(Vec<String>),
}

/// Paging and shaping of a search, read from its query string.
#[derive(Debug, Clone, Default)]
pub struct SearchControl {
    pub shape: Shape,
    pub count: Option<usize>,
    pub offset: usize,
}

impl SearchControl {
    /// Reads `_summary`, `_elements`, `_count` and `_offset` from query pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, FhirError> {
        let mut control = SearchControl::default();
        for (k, v) in pairs {
            match k.as_str() {
                "_summary" => {
                    control.shape = match v.as_str() {
                        "true" => Shape::Summary,
                        "count" => Shape::Count,
                        "false" => Shape::Full,
                        other => {
                            return Err(FhirError::invalid(format!(
                                "_summary must be true, false or count, not '{}'",
                                super::params::truncate(other)
                            )))
                        }
                    }
                }
                "_elements" => {
                    control.shape = Shape::Elements(
                        v.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "_count" => control.count = Some(parse_number(k, v)?),
                "_offset" => control.offset = parse_number(k, v)?,
                _ => {}
            }
        }
        Ok(control)
    }
}

fn parse_number(name: &str, value: &str) -> Result<usize, FhirError> {
    value.parse().map_err(|_| {
        FhirError::invalid(format!(
            "{name} must be a non-negative integer, not '{}'",
            super::params::truncate(value)
        ))
    })
}

/// Elements dropped by `_summary=true` (the content, not the description).
const NON_SUMMARY: &[&str] = &[
    "concept",
    "compose",
    "expansion",
    "group",
    "text",
    "property",
    "filter",
];

/// Applies the shape to one resource.
pub fn shape_resource(mut resource: Value, shape: &Shape) -> Value {
    let Some(obj) = resource.as_object_mut() else {
        return resource;
    };
    match shape {
        Shape::Full | Shape::Count => {}
        Shape::Summary => {
            obj.retain(|k, _| !NON_SUMMARY.contains(&k.as_str()));
            mark_subsetted(obj);
        }
        Shape::Elements(keep) => {
            obj.retain(|k, _| k == "resourceType" || k == "id" || k == "meta" || keep.contains(k));
            mark_subsetted(obj);
        }
    }
    resource
}

fn mark_subsetted(obj: &mut Map<String, Value>) {
    let meta = obj.entry("meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(
            "tag".into(),
            json!([{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}]),
        );
    }
}

/// A searchset Bundle of `total` matches, of which `page` (resource type, id, resource)
/// is the current page.
pub fn searchset(
    base: &str,
    self_link: &str,
    total: usize,
    page: Vec<(String, String, Value)>,
) -> Value {
    let entries: Vec<Value> = page
        .into_iter()
        .map(|(kind, id, resource)| {
            json!({
                "fullUrl": format!("{base}/{kind}/{id}"),
                "resource": resource,
                "search": {"mode": "match"},
            })
        })
        .collect();
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": self_link}],
    });
    if !entries.is_empty() {
        bundle["entry"] = Value::Array(entries);
    }
    bundle
}
