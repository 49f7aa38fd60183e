//! Parameters ⇄ core types for `ValueSet/$expand` and `ValueSet/$validate-code`.

use serde_json::{json, Map, Value};

use super::outcome::FhirError;
use super::params::OperationInput;
use crate::core::{
    CompareRequest, Comparison, ExpandRequest, Expansion, ValueSetSource, ValueSetValidateRequest,
    VersionRules,
};

/// Which value set a ValueSet operation is about: an inline `valueSet`, the instance
/// addressed (`ValueSet/{id}/$op`), or `url` (+ `valueSetVersion`).
fn value_set_source(
    input: &OperationInput,
    instance: Option<(String, Option<String>)>,
) -> Result<ValueSetSource, FhirError> {
    if let Some(source) = inline_source(input, "valueSet")? {
        return Ok(source);
    }
    if let Some((url, version)) = instance {
        return Ok(ValueSetSource::Canonical { url, version });
    }
    canonical_source(input, "url", "valueSetVersion")?.ok_or_else(|| {
        FhirError::invalid(
            "The operation needs a value set: 'url' (with optional 'valueSetVersion'), an inline 'valueSet', or an instance id",
        )
    })
}

/// A value set sent in the parameter `name`, remembered as the definition's origin (for
/// `includeDefinition`).
fn inline_source(input: &OperationInput, name: &str) -> Result<Option<ValueSetSource>, FhirError> {
    let Some(resource) = input.resource(name)? else {
        return Ok(None);
    };
    if resource.get("resourceType").and_then(Value::as_str) != Some("ValueSet") {
        return Err(FhirError::invalid(format!(
            "The parameter '{name}' must hold a ValueSet"
        )));
    }
    let mut definition = crate::import::valueset::definition(resource);
    definition.origin =
        crate::model::DefinitionOrigin::Inline(std::sync::Arc::new(resource.clone()));
    Ok(Some(ValueSetSource::Inline(Box::new(definition))))
}

/// A value set named by canonical in the parameter `url_name` (`url` or `url|version`),
/// with its version in `version_name` if given.
fn canonical_source(
    input: &OperationInput,
    url_name: &str,
    version_name: &str,
) -> Result<Option<ValueSetSource>, FhirError> {
    let Some(url) = input.string(url_name)? else {
        return Ok(None);
    };
    let (url, pipe_version) = match url.split_once('|') {
        Some((u, v)) => (u.to_string(), Some(v.to_string())),
        None => (url, None),
    };
    Ok(Some(ValueSetSource::Canonical {
        url,
        version: input.string(version_name)?.or(pipe_version),
    }))
}

/// `$validate-code` inputs at the ValueSet level: the value set, and the coding(s) with
/// `system`/`systemVersion` naming the code system.
pub fn validate_request(
    input: &OperationInput,
    instance: Option<(String, Option<String>)>,
    accept_language: Option<&str>,
) -> Result<ValueSetValidateRequest, FhirError> {
    let source = value_set_source(input, instance)?;
    let coding = super::operations::validate_request_with_system(
        input,
        input.string("system")?,
        input.string("systemVersion")?,
        accept_language,
        // A bare code against a value set: the system is inferred from the value set.
        true,
    )?;
    Ok(ValueSetValidateRequest {
        source,
        coding,
        date: input.string("date")?,
        versions: version_rules(input)?,
        active_only: input.boolean("activeOnly")?.unwrap_or(false),
        membership_only: input.boolean("valueset-membership-only")?.unwrap_or(false),
    })
}

/// The version rules a ValueSet operation takes: `system-version`,
/// `force-system-version`, `check-system-version`, `exclude-system` and
/// `default-valueset-version`.
fn version_rules(input: &OperationInput) -> Result<VersionRules, FhirError> {
    Ok(VersionRules {
        defaults: input.strings("system-version")?,
        forced: input.strings("force-system-version")?,
        checked: input.strings("check-system-version")?,
        excluded: input.strings("exclude-system")?,
        value_set_defaults: input.strings("default-valueset-version")?,
    })
}

/// One side of `$compare`: the value set given inline (`{side}ValueSet`), or by canonical
/// (`{side}Url`, with `{side}Version` or a `|version` suffix); the instance addressed
/// stands for `this`.
fn compare_side(
    input: &OperationInput,
    side: &str,
    instance: Option<(String, Option<String>)>,
) -> Result<ValueSetSource, FhirError> {
    if let Some(source) = inline_source(input, &format!("{side}ValueSet"))? {
        return Ok(source);
    }
    if let Some(source) = canonical_source(input, &format!("{side}Url"), &format!("{side}Version"))?
    {
        return Ok(source);
    }
    if let Some((url, version)) = instance {
        return Ok(ValueSetSource::Canonical { url, version });
    }
    Err(FhirError::invalid(format!(
        "The operation needs the value set '{side}': '{side}ValueSet' (a ValueSet) or '{side}Url' (with optional '{side}Version')"
    )))
}

/// `$compare` inputs: `this` and `other` value sets (`ValueSet/{id}/$compare` addresses
/// `this`), and the version rules.
pub fn compare_request(
    input: &OperationInput,
    instance: Option<(String, Option<String>)>,
) -> Result<CompareRequest, FhirError> {
    Ok(CompareRequest {
        this: compare_side(input, "this", instance)?,
        other: compare_side(input, "other", None)?,
        versions: version_rules(input)?,
    })
}

/// The Parameters answer of `$compare`: `result`, `message`, `performed-expansion`, and
/// the codes listed (comma separated) in both, only in `this` (`missing-codes`) and only
/// in `other` (`extra-codes`).
pub fn compare_parameters(c: &Comparison) -> Value {
    let mut parameters = vec![
        json!({"name": "result", "valueCode": c.relationship.code()}),
        json!({"name": "message", "valueString": c.message}),
        json!({"name": "performed-expansion", "valueBoolean": c.performed_expansion}),
    ];
    for (name, codes) in [
        ("common-codes", &c.common),
        ("missing-codes", &c.missing),
        ("extra-codes", &c.extra),
    ] {
        if !codes.is_empty() {
            parameters.push(json!({"name": name, "valueString": codes.join(",")}));
        }
    }
    json!({"resourceType": "Parameters", "parameter": parameters})
}

/// `$expand` inputs. `instance` is the canonical of the value set addressed at the
/// instance level (`ValueSet/{id}/$expand`).
pub fn expand_request(
    input: &OperationInput,
    instance: Option<(String, Option<String>)>,
    accept_language: Option<&str>,
    limit: usize,
) -> Result<ExpandRequest, FhirError> {
    Ok(ExpandRequest {
        source: value_set_source(input, instance)?,
        filter: input.string("filter")?,
        offset: input.unsigned("offset")?.unwrap_or(0),
        count: input.unsigned("count")?,
        active_only: input.boolean("activeOnly")?.unwrap_or(false),
        include_designations: input.boolean("includeDesignations")?.unwrap_or(false),
        include_definition: input.boolean("includeDefinition")?.unwrap_or(false),
        display_language: input
            .string("displayLanguage")?
            .or(accept_language.map(str::to_owned)),
        limit,
        exclude_not_for_ui: input.boolean("excludeNotForUI")?.unwrap_or(false),
        exclude_nested: input.boolean("excludeNested")?,
        date: input.string("date")?,
        designations: input.strings("designation")?,
        supplements: input.strings("useSupplement")?,
        properties: input.strings("property")?,
        versions: version_rules(input)?,
    })
}

/// Request parameters an expansion repeats in `expansion.parameter`, as given: the ones
/// that shape what it contains (tx.fhir.org's convention, which clients compare against).
const ECHOED: &[&str] = &[
    "activeOnly",
    "count",
    "date",
    "default-valueset-version",
    "designation",
    "displayLanguage",
    "excludeNested",
    "excludeNotForUI",
    "excludePostCoordinated",
    "filter",
    "force-system-version",
    "includeDesignations",
    "offset",
];

/// The extension by which a value set names a code system supplement it needs.
const SUPPLEMENT_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/valueset-supplement";

/// R5's `ValueSet.expansion.property`, carried in R4 by the cross-version extension.
pub const EXPANSION_PROPERTY: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property";

/// Puts each entry in the `contains` of its parent (an earlier entry), keeping order.
/// Entries are taken from the last to the first, so each one's children are complete
/// when it is reached: one pass, whatever the width of the tree.
fn nest(entries: Vec<Value>, parents: impl Iterator<Item = Option<usize>>) -> Vec<Value> {
    let parents: Vec<Option<usize>> = parents.collect();
    if parents.iter().all(Option::is_none) {
        return entries;
    }
    let mut children: Vec<Vec<Value>> = vec![Vec::new(); entries.len()];
    let mut top = Vec::new();
    for (index, mut entry) in entries.into_iter().enumerate().rev() {
        let mut own = std::mem::take(&mut children[index]);
        if !own.is_empty() {
            own.reverse();
            entry["contains"] = Value::Array(own);
        }
        match parents.get(index).copied().flatten() {
            Some(parent) if parent < index => children[parent].push(entry),
            _ => top.push(entry),
        }
    }
    top.reverse();
    top
}

/// R5's `ValueSet.expansion.contains.property`, carried in R4 by the cross-version
/// extension.
pub const CONTAINS_PROPERTY: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property";

fn property_extension(code: &str, (key, value): (&str, Value)) -> Value {
    let mut v = json!({"url": "value"});
    v[key] = value;
    json!({"url": CONTAINS_PROPERTY, "extension": [{"url": "code", "valueCode": code}, v]})
}

/// The URIs of the properties FHIR itself defines (`concept-properties`).
fn known_property_uri(code: &str) -> Option<String> {
    let name = match code {
        "weight" => "itemWeight",
        "definition" | "status" | "inactive" | "label" | "order" | "parent" | "child"
        | "notSelectable" | "deprecated" | "retirementDate" | "deprecationDate" => code,
        _ => return None,
    };
    Some(format!("http://hl7.org/fhir/concept-properties#{name}"))
}

/// `de,*;q=0` → `de, *; q=0` (a list with quality values is rewritten; a plain list is
/// repeated as given).
fn normalise_language_list(text: &str) -> String {
    if !text.contains(';') {
        return text.to_string();
    }
    text.split(',')
        .map(|entry| {
            entry
                .split(';')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The expanded ValueSet resource. `input` is the request, whose shaping parameters the
/// expansion repeats; `accept_language` is echoed as `displayLanguage` when the request
/// did not name one.
pub fn expansion_resource(
    e: &Expansion,
    input: &OperationInput,
    accept_language: Option<&str>,
) -> Value {
    let mut parameters = input.echo(ECHOED);
    // A language list is repeated the way tx.fhir.org writes one: "de, *; q=0".
    for p in parameters
        .iter_mut()
        .filter(|p| p["name"] == "displayLanguage")
    {
        if let Some(obj) = p.as_object_mut() {
            for (k, v) in obj.iter_mut() {
                if let (true, Some(text)) = (k.starts_with("value"), v.as_str()) {
                    *v = json!(normalise_language_list(text));
                }
            }
        }
    }
    // Default parameters the value set declares, unless the request gave its own.
    for p in &e.value_set.parameters {
        let name = p["name"].as_str().unwrap_or_default();
        let given = input.has(name) || (name == "displayLanguage" && accept_language.is_some());
        // versionsMatch is reported when it is in force.
        let off =
            name == "versionsMatch" && (p["valueString"] == "false" || p["valueBoolean"] == false);
        if !given && !off {
            if name == "versionsMatch" {
                parameters.push(json!({"name": "versionsMatch", "valueBoolean": true}));
            } else {
                parameters.push(p.clone());
            }
        }
    }
    if e.versions_matched {
        parameters.push(json!({"name": "versionsMatch", "valueBoolean": true}));
    }
    let mut push = |name: &str, key: &str, value: Value| {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert(key.into(), value);
        parameters.push(Value::Object(m));
    };
    if !input.has("displayLanguage") {
        if let Some(l) = accept_language {
            push("displayLanguage", "valueCode", json!(l));
        }
    }
    for (name, canonical) in &e.applied_rules {
        push(name, "valueUri", json!(canonical));
    }
    for used in &e.used_code_systems {
        push("used-codesystem", "valueUri", json!(used));
    }
    for used in &e.used_value_sets {
        push("used-valueset", "valueUri", json!(used));
    }
    for used in &e.used_supplements {
        push("used-supplement", "valueUri", json!(used));
    }
    for used in &e.used_fragments {
        push("used-fragment", "valueUri", json!(used));
    }
    for note in &e.status_notes {
        push(
            &format!("warning-{}", note.status),
            "valueUri",
            json!(note.canonical),
        );
    }
    let mut declared: Vec<String> = Vec::new();
    let contains: Vec<Value> = e
        .items
        .iter()
        .map(|i| {
            let mut c = json!({"system": i.system});
            if let Some(v) = i.version.as_ref().filter(|_| e.show_versions) {
                c["version"] = json!(v);
            }
            if i.abstract_ {
                c["abstract"] = json!(true);
            }
            if i.inactive {
                c["inactive"] = json!(true);
            }
            c["code"] = json!(i.code);
            if let Some(d) = &i.display {
                c["display"] = json!(d);
            }
            if !i.designations.is_empty() {
                c["designation"] = i
                    .designations
                    .iter()
                    .map(|d| {
                        let mut v = json!({});
                        if let Some(l) = &d.language {
                            v["language"] = json!(l);
                        }
                        if let Some(u) = &d.use_ {
                            v["use"] =
                                json!({"system": u.system, "code": u.code, "display": u.display});
                            if let Some(obj) = v["use"].as_object_mut() {
                                obj.retain(|_, x| !x.is_null());
                            }
                        }
                        v["value"] = json!(d.value);
                        if !d.extensions.is_empty() {
                            v["extension"] = Value::Array(d.extensions.clone());
                        }
                        v
                    })
                    .collect();
            }
            let mut properties: Vec<Value> = Vec::new();
            if let Some(def) = &i.definition {
                properties.push(property_extension(
                    "definition",
                    ("valueString", json!(def)),
                ));
            }
            for p in &i.properties {
                let (key, value) = super::operations::property_value_json(&p.value);
                properties.push(property_extension(&p.code, (key, value)));
            }
            let mut extensions = i.extensions.clone();
            if !properties.is_empty() {
                for p in &properties {
                    let code = p["extension"][0]["valueCode"].as_str().unwrap_or_default();
                    if !declared.iter().any(|d: &String| d == code) {
                        declared.push(code.to_string());
                    }
                }
                extensions.extend(properties);
            }
            if !extensions.is_empty() {
                c["extension"] = Value::Array(extensions);
            }
            c
        })
        .collect();
    let mut expansion = json!({
        "identifier": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "total": e.total,
    });
    if input.has("offset") {
        expansion["offset"] = json!(e.offset);
    }
    if !parameters.is_empty() {
        expansion["parameter"] = Value::Array(parameters);
    }
    let mut extensions: Vec<Value> = Vec::new();
    if let Some(fragment) = e.used_fragments.first() {
        let system = fragment.split('|').next().unwrap_or_default();
        extensions.push(json!({"url": "http://hl7.org/fhir/StructureDefinition/valueset-unclosed", "valueBoolean": true}));
        extensions.push(json!({
            "url": "http://hl7.org/fhir/StructureDefinition/valueset-unclosed-reason",
            "valueString": format!("This extension is based on a fragment of the code system {system}"),
        }));
    }
    if !declared.is_empty() {
        extensions.extend(declared.iter().map(|code| {
            let mut parts = vec![json!({"url": "code", "valueCode": code})];
            let stated = e
                .property_uris
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, u)| u.clone());
            if let Some(uri) = stated.or_else(|| known_property_uri(code)) {
                parts.push(json!({"url": "uri", "valueUri": uri}));
            }
            json!({"url": EXPANSION_PROPERTY, "extension": parts})
        }));
    }
    if !extensions.is_empty() {
        expansion["extension"] = Value::Array(extensions);
    }
    let contains = nest(contains, e.items.iter().map(|i| i.parent));
    if !contains.is_empty() {
        expansion["contains"] = Value::Array(contains);
    }
    let vs = &e.value_set;
    let mut out = json!({"resourceType": "ValueSet"});
    if vs.envelope.is_empty() {
        for (k, v) in [
            ("url", &vs.url),
            ("version", &vs.version),
            ("name", &vs.name),
            ("title", &vs.title),
            ("status", &vs.status),
        ] {
            if let Some(v) = v {
                out[k] = json!(v);
            }
        }
    } else {
        for (k, v) in &vs.envelope {
            out[k] = v.clone();
        }
    }
    if vs.envelope.is_empty() && out.get("status").is_none() {
        out["status"] = json!("active");
    }
    if let (Some(definition), Some(out)) = (&e.definition, out.as_object_mut()) {
        for (k, v) in definition_elements(definition) {
            out.entry(k).or_insert(v);
        }
    }
    out["expansion"] = expansion;
    out
}

/// The elements of a ValueSet resource that make up its definition, for an expansion
/// asked to include it: everything but the resource's metadata, narrative and any
/// expansion it carried. The supplements the expansion applied come first among the
/// extensions, as tx.fhir.org lists them.
fn definition_elements(resource: &Value) -> Map<String, Value> {
    let mut elements: Map<String, Value> = resource
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "resourceType" | "meta" | "text" | "expansion"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(Value::Array(extensions)) = elements.get_mut("extension") {
        // A stable sort: the order within each group is the resource's.
        extensions.sort_by_key(|e| e["url"] != SUPPLEMENT_EXTENSION);
    }
    elements
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    #[test]
    fn entries_go_under_their_parents_in_order() {
        let entries: Vec<Value> = ["a", "a1", "a1x", "a2", "b"]
            .iter()
            .map(|c| json!({"code": c}))
            .collect();
        let parents = [None, Some(0), Some(1), Some(0), None];
        let nested = nest(entries, parents.into_iter());
        assert_eq!(
            Value::Array(nested),
            json!([
                {"code": "a", "contains": [
                    {"code": "a1", "contains": [{"code": "a1x"}]},
                    {"code": "a2"}
                ]},
                {"code": "b"}
            ])
        );
    }
}
