//! National classifiers in Nomen's CSV layout → one code system version.
//!
//! The layout (documented for publishers in `fixtures/classifiers/README.md`): a preamble
//! of `# key: value` lines (`url` required; `version`, `name`, `title`, `publisher`,
//! `language`, `licensed`, `status`, `description`, `date`, `copyright`, and `property:
//! code | type | description` once per extra column), then a header row and one row per
//! code. Reserved columns: `code` and `display` (required), `parent` (parent codes
//! separated by `|`), `definition`, `status` (`active`, `inactive`, `deprecated`,
//! `retired`), and translations `display:<lang>` / `definition:<lang>`; every other column
//! is a property. A new version of the same `url` is a new code system version beside the
//! old one.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;

use super::closure::transitive_closure;
use super::table::for_each_row;
use super::ImportError;
use crate::model::{
    CodeSystemLoad, CodeSystemMeta, ConceptLoad, Designation, PropertyDef, PropertyType,
    PropertyValue, Value,
};

const RESERVED: &[&str] = &["code", "display", "parent", "definition", "status"];

/// Whether a `.csv` file starts with the classifier preamble.
pub fn is_classifier(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .any(|l| preamble_entry(l).is_some_and(|(k, _)| k == "url"))
}

fn preamble_entry(line: &str) -> Option<(String, String)> {
    let (key, value) = line.strip_prefix('#')?.split_once(':')?;
    Some((key.trim().to_ascii_lowercase(), value.trim().to_string()))
}

/// What a classifier is imported as: its code system, and whether its content needs a
/// licence (the preamble's `licensed: true`).
pub struct Classifier {
    pub code_system: CodeSystemLoad,
    pub licensed: bool,
}

/// Reads a classifier CSV file.
pub fn read(
    path: &Path,
    bytes: &[u8],
    rejected: &mut Vec<(String, String)>,
) -> Result<Classifier, ImportError> {
    let origin = path.display().to_string();
    let text = super::table::utf8(&origin, bytes)?;
    let fail = |line: u64, reason: String| ImportError::Format {
        origin: origin.clone(),
        line,
        reason,
    };

    // The preamble.
    let mut meta: HashMap<String, String> = HashMap::new();
    let mut declared: Vec<PropertyDef> = Vec::new();
    let mut preamble_lines = 0u64;
    let mut body_start = 0usize;
    for line in text.split_inclusive('\n') {
        if !line.starts_with('#') {
            break;
        }
        preamble_lines += 1;
        body_start += line.len();
        let Some((key, value)) = preamble_entry(line.trim_end()) else {
            continue; // a plain comment
        };
        if key == "property" {
            let fields: Vec<&str> = value.split('|').map(str::trim).collect();
            let code = fields.first().copied().unwrap_or_default();
            if code.is_empty() {
                return Err(fail(
                    preamble_lines,
                    "a property line names no column".into(),
                ));
            }
            let type_name = fields.get(1).copied().unwrap_or("string");
            let type_ = PropertyType::parse(type_name).ok_or_else(|| {
                fail(
                    preamble_lines,
                    format!("'{type_name}' is not a FHIR property type (code, string, integer, boolean, decimal, dateTime, Coding)"),
                )
            })?;
            declared.push(PropertyDef {
                code: code.to_string(),
                uri: None,
                type_,
                description: fields
                    .get(2)
                    .filter(|d| !d.is_empty())
                    .map(|d| d.to_string()),
            });
        } else {
            meta.insert(key, value);
        }
    }
    let url = meta
        .get("url")
        .filter(|u| !u.is_empty())
        .cloned()
        .ok_or_else(|| fail(1, "the preamble has no '# url:' line".into()))?;
    let version = meta
        .get("version")
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| fail(1, "the preamble has no '# version:' line".into()))?;
    // Every column that is not reserved or a translation must be declared.
    let body = &text.as_bytes()[body_start..];
    if let Some(Ok(header)) = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .next()
    {
        for column in header.iter().map(str::trim) {
            let translation = column.starts_with("display:") || column.starts_with("definition:");
            if !RESERVED.contains(&column)
                && !translation
                && !declared.iter().any(|p| p.code == column)
            {
                return Err(fail(
                    preamble_lines + 1,
                    format!("the column '{column}' is not declared by a '# property:' line"),
                ));
            }
        }
    }
    let licensed = match meta.get("licensed").map(|v| v.to_ascii_lowercase()) {
        None => false,
        Some(v) if v == "true" || v == "yes" => true,
        Some(v) if v == "false" || v == "no" || v.is_empty() => false,
        Some(v) => {
            return Err(fail(
                1,
                format!("licensed must be true or false, not '{v}'"),
            ))
        }
    };

    // The rows.
    let mut concepts: Vec<ConceptLoad> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut parents: Vec<(u32, String, u64)> = Vec::new();
    let mut properties = declared.clone();
    for_each_row(
        &origin,
        body,
        preamble_lines,
        &["code", "display"],
        rejected,
        |row| {
            let code = row.get("code").ok_or("the code is empty")?;
            if index.contains_key(code) {
                return Err(format!("the code '{code}' is listed twice"));
            }
            let status = row.get("status").unwrap_or("active").to_ascii_lowercase();
            let inactive = match status.as_str() {
                "active" | "deprecated" => false,
                "inactive" | "retired" => true,
                other => {
                    return Err(format!(
                        "the status '{other}' is not active, inactive, deprecated or retired"
                    ))
                }
            };
            let mut concept = ConceptLoad {
                code: code.to_string(),
                display: row.get("display").map(str::to_owned),
                definition: row.get("definition").map(str::to_owned),
                inactive,
                abstract_: false,
                designations: Vec::new(),
                properties: vec![PropertyValue {
                    code: "status".into(),
                    value: Value::Code(status),
                }],
                extensions: Vec::new(),
            };
            for (column, value) in row.values() {
                if RESERVED.contains(&column) {
                    continue;
                }
                if let Some(lang) = column.strip_prefix("display:") {
                    concept.designations.push(Designation {
                        language: Some(lang.to_string()),
                        use_: None,
                        value: value.to_string(),
                        extensions: Vec::new(),
                    });
                    continue;
                }
                if let Some(lang) = column.strip_prefix("definition:") {
                    concept.designations.push(Designation {
                        language: Some(lang.to_string()),
                        use_: Some(crate::model::Coding {
                            system: Some(
                                "http://terminology.hl7.org/CodeSystem/designation-usage".into(),
                            ),
                            code: Some("definition".into()),
                            display: None,
                            version: None,
                        }),
                        value: value.to_string(),
                        extensions: Vec::new(),
                    });
                    continue;
                }
                let type_ = properties
                    .iter()
                    .find(|p| p.code == column)
                    .map_or(PropertyType::String, |p| p.type_);
                let value = typed(type_, value, &url)
                    .map_err(|reason| format!("the column '{column}': {reason}"))?;
                concept.properties.push(PropertyValue {
                    code: column.to_string(),
                    value,
                });
            }
            let i = concepts.len() as u32;
            for parent in row.get("parent").unwrap_or("").split('|') {
                let parent = parent.trim();
                if !parent.is_empty() {
                    parents.push((i, parent.to_string(), row.line));
                }
            }
            index.insert(code.to_string(), i);
            concepts.push(concept);
            Ok(())
        },
    )?;
    let mut links = Vec::new();
    for (child, parent, line) in parents {
        match index.get(&parent) {
            Some(&p) if p != child => links.push((child, p)),
            Some(_) => rejected.push((
                format!("{origin}:{line}"),
                format!("the code '{parent}' names itself as its parent"),
            )),
            None => rejected.push((
                format!("{origin}:{line}"),
                format!("the parent '{parent}' is not a code of the classifier"),
            )),
        }
    }
    links.sort_unstable();
    links.dedup();
    let closure = transitive_closure(concepts.len(), &links);
    properties.insert(
        0,
        PropertyDef {
            code: "status".into(),
            uri: Some("http://hl7.org/fhir/concept-properties#status".into()),
            type_: PropertyType::Code,
            description: Some("active, inactive, deprecated or retired".into()),
        },
    );

    let name = meta.get("name").cloned();
    let tail = url.rsplit('/').next().unwrap_or("classifier");
    let resource_id = super::fhir_json::release_id(tail, &version);
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "id": resource_id,
        "url": url,
        "status": meta.get("status").cloned().unwrap_or_else(|| "active".into()),
        "caseSensitive": true,
        "hierarchyMeaning": "is-a",
        "content": "not-present",
        "count": concepts.len(),
        "property": super::fhir_json::properties_json(&properties),
    });
    for key in [
        "version",
        "name",
        "title",
        "publisher",
        "language",
        "description",
        "date",
        "copyright",
    ] {
        if let Some(v) = meta.get(key).filter(|v| !v.is_empty()) {
            resource[key] = json!(v);
        }
    }
    Ok(Classifier {
        licensed,
        code_system: CodeSystemLoad {
            meta: CodeSystemMeta {
                id: 0,
                resource_id,
                url: url.clone(),
                version,
                name,
                title: meta.get("title").cloned(),
                status: resource["status"].as_str().map(str::to_owned),
                content: Some("not-present".into()),
                hierarchy_meaning: Some("is-a".into()),
                case_sensitive: Some(true),
                value_set: None,
                language: meta.get("language").cloned(),
                supplements: None,
                date: meta.get("date").cloned(),
                experimental: None,
                standards_status: None,
                licensed,
                concept_count: concepts.len() as i64,
                properties,
            },
            resource_json: resource.to_string(),
            concepts,
            links,
            closure,
            snomed: None,
        },
    })
}

/// A cell read as a property of the declared type.
fn typed(type_: PropertyType, value: &str, system: &str) -> Result<Value, String> {
    Ok(match type_ {
        PropertyType::Code => Value::Code(value.into()),
        PropertyType::String => Value::String(value.into()),
        PropertyType::DateTime => Value::DateTime(value.into()),
        PropertyType::Integer => Value::Integer(
            value
                .parse()
                .map_err(|_| format!("'{value}' is not an integer"))?,
        ),
        PropertyType::Boolean => Value::Boolean(match value {
            "true" => true,
            "false" => false,
            _ => return Err(format!("'{value}' is not true or false")),
        }),
        PropertyType::Decimal => {
            value
                .parse::<f64>()
                .map_err(|_| format!("'{value}' is not a decimal"))?;
            Value::Decimal(value.into())
        }
        // `system|code` or a bare code of this classifier.
        PropertyType::Coding => {
            let (sys, code) = value.split_once('|').unwrap_or((system, value));
            Value::Coding(crate::model::Coding {
                system: Some(sys.to_string()),
                code: Some(code.to_string()),
                display: None,
                version: None,
            })
        }
    })
}
