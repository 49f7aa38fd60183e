//! Small readers over FHIR JSON shared by the resource converters.

use serde_json::Value;

use crate::model::{CanonicalHeader, Coding};

/// A string field of a JSON object, if present and a string.
pub fn str_field(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A boolean field of a JSON object, if present and a boolean.
pub fn bool_field(value: &Value, name: &str) -> Option<bool> {
    value.get(name).and_then(Value::as_bool)
}

/// The elements of an array field (empty when absent or not an array).
pub fn array_field<'v>(value: &'v Value, name: &str) -> &'v [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Reads a FHIR Coding.
pub fn coding(value: &Value) -> Coding {
    Coding {
        system: str_field(value, "system"),
        version: str_field(value, "version"),
        code: str_field(value, "code"),
        display: str_field(value, "display"),
    }
}

/// A logical id acceptable to FHIR (`[A-Za-z0-9\-\.]{1,64}`): the resource's own `id`
/// when valid, else one derived from its name or URL.
pub fn logical_id(resource: &Value) -> Option<String> {
    if let Some(id) = str_field(resource, "id").filter(|id| is_valid_id(id)) {
        return Some(id);
    }
    let source = str_field(resource, "name").or_else(|| {
        str_field(resource, "url").and_then(|u| u.rsplit('/').next().map(str::to_owned))
    })?;
    let id: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    (!id.is_empty()).then_some(id)
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// The indexed header of a canonical resource; `Err` says why it cannot be stored.
pub fn canonical_header(resource: &Value) -> Result<CanonicalHeader, String> {
    let url = str_field(resource, "url").ok_or("it has no url")?;
    let resource_id = logical_id(resource).ok_or("it has neither a valid id, a name nor a url")?;
    Ok(CanonicalHeader {
        resource_id,
        url,
        version: str_field(resource, "version").unwrap_or_default(),
        name: str_field(resource, "name"),
        title: str_field(resource, "title"),
        status: str_field(resource, "status"),
    })
}

/// The `structuredefinition-standards-status` extension of a resource (`deprecated`,
/// `withdrawn`, `draft`, ...), which references to it should warn about.
pub fn standards_status(resource: &Value) -> Option<String> {
    array_field(resource, "extension").iter().find_map(|e| {
        (e.get("url").and_then(Value::as_str)
            == Some("http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"))
        .then(|| {
            e.get("valueCode")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .flatten()
    })
}

/// The logical id of a release's code system version: `{name}-{version}` (just `name`
/// without a version), with characters FHIR ids do not allow replaced by `-`.
pub fn release_id(name: &str, version: &str) -> String {
    format!("{name}-{version}")
        .trim_end_matches('-')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

/// `CodeSystem.property` as FHIR JSON, for the resources release importers build.
pub fn properties_json(properties: &[crate::model::PropertyDef]) -> Vec<Value> {
    properties
        .iter()
        .map(|p| {
            let mut v = serde_json::json!({"code": p.code, "type": p.type_.code()});
            if let Some(uri) = &p.uri {
                v["uri"] = serde_json::json!(uri);
            }
            if let Some(d) = &p.description {
                v["description"] = serde_json::json!(d);
            }
            v
        })
        .collect()
}
