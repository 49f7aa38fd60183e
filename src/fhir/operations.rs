//! Parameters ⇄ core types for the CodeSystem operations: `$lookup`, `$validate-code`,
//! `$subsumes`. Each operation has a `*_request` (inputs → core request, with the
//! parameter rules of its OperationDefinition) and a `*_parameters` (core result →
//! Parameters resource).

use serde_json::{json, Map, Value};

use super::outcome::FhirError;
use super::params::OperationInput;
use crate::core::{
    CodingSource, Issue, IssueSeverity, LookupRequest, LookupResult, SubsumesOutcome,
    SubsumesRequest, ValidateCodeRequest, ValidateCodeResult,
};
use crate::model::{Coding, Designation, Value as PropValue};

/// The code system a request is about when it was addressed at the instance level
/// (`CodeSystem/{id}/$op`): its canonical url and version.
#[derive(Debug, Clone)]
pub struct InstanceSystem {
    pub url: String,
    pub version: Option<String>,
}

/// `$lookup` inputs: `code` + `system` (+ `version`), or `coding`.
pub fn lookup_request(
    input: &OperationInput,
    instance: Option<&InstanceSystem>,
    accept_language: Option<&str>,
) -> Result<LookupRequest, FhirError> {
    let coding = input.coding("coding")?;
    let (system, code, version) = match coding {
        Some(c) => (c.system, c.code, c.version),
        None => (input.string("system")?, input.string("code")?, None),
    };
    let version = version.or(input.string("version")?);
    let system = system
        .or_else(|| instance.map(|i| i.url.clone()))
        .ok_or_else(|| {
            FhirError::invalid("$lookup needs a 'system' (with 'code') or a 'coding' with a system")
        })?;
    let code = code.filter(|c| !c.is_empty()).ok_or_else(|| {
        FhirError::invalid("$lookup needs a 'code' (with 'system') or a 'coding' with a code")
    })?;
    Ok(LookupRequest {
        system,
        version: version.or_else(|| instance.and_then(|i| i.version.clone())),
        code,
        display_language: input
            .string("displayLanguage")?
            .or(accept_language.map(str::to_owned)),
        properties: input.strings("property")?,
        supplements: input.strings("useSupplement")?,
    })
}

/// `$lookup` result → Parameters.
pub fn lookup_parameters(r: &LookupResult) -> Value {
    let mut p = Vec::new();
    p.push(param("name", "valueString", &r.name));
    p.push(param("system", "valueUri", &r.system));
    if let Some(v) = &r.version {
        p.push(param("version", "valueString", v));
    }
    p.push(param("code", "valueCode", &r.code));
    if let Some(d) = &r.display {
        p.push(param("display", "valueString", d));
    }
    if let Some(d) = &r.definition {
        p.push(param("definition", "valueString", d));
    }
    p.push(json!({"name": "abstract", "valueBoolean": r.abstract_}));
    for d in &r.designations {
        p.push(json!({"name": "designation", "part": designation_parts(d)}));
    }
    for (d, source) in &r.supplement_designations {
        let mut parts = designation_parts(d);
        parts.insert(
            parts.len() - 1,
            json!({"name": "source", "valueCanonical": source}),
        );
        p.push(json!({"name": "designation", "part": parts}));
    }
    for used in &r.used_supplements {
        p.push(json!({"name": "used-supplement", "valueCanonical": used}));
    }
    // Properties by code (stable), as tx.fhir.org lists them.
    let mut properties: Vec<_> = r.properties.iter().collect();
    properties.sort_by(|a, b| a.code.cmp(&b.code));
    for prop in properties {
        let mut parts = vec![
            param("code", "valueCode", &prop.code),
            property_value(&prop.value),
        ];
        if let Some(desc) = &prop.description {
            parts.push(param("description", "valueString", desc));
        }
        p.push(json!({"name": "property", "part": parts}));
    }
    parameters(p)
}

fn designation_parts(d: &Designation) -> Vec<Value> {
    let mut parts = Vec::new();
    if let Some(l) = &d.language {
        parts.push(param("language", "valueCode", l));
    }
    if let Some(u) = &d.use_ {
        parts.push(json!({"name": "use", "valueCoding": coding_json(u)}));
    }
    parts.push(param("value", "valueString", &d.value));
    parts
}

/// The `value[x]` key and JSON value of a property value.
pub fn property_value_json(v: &PropValue) -> (&'static str, Value) {
    match v {
        PropValue::Code(s) => ("valueCode", json!(s)),
        PropValue::String(s) => ("valueString", json!(s)),
        PropValue::DateTime(s) => ("valueDateTime", json!(s)),
        PropValue::Decimal(s) => match serde_json::from_str::<serde_json::Number>(s) {
            Ok(n) => ("valueDecimal", json!(n)),
            Err(_) => ("valueString", json!(s)),
        },
        PropValue::Integer(i) => ("valueInteger", json!(i)),
        PropValue::Boolean(b) => ("valueBoolean", json!(b)),
        PropValue::Coding(c) => ("valueCoding", coding_json(c)),
    }
}

fn property_value(v: &PropValue) -> Value {
    let (key, value) = property_value_json(v);
    let mut m = Map::new();
    m.insert("name".into(), json!("value"));
    m.insert(key.into(), value);
    Value::Object(m)
}

/// `$validate-code` inputs (CodeSystem level).
pub fn validate_request(
    input: &OperationInput,
    instance: Option<&InstanceSystem>,
    accept_language: Option<&str>,
) -> Result<ValidateCodeRequest, FhirError> {
    let url = input
        .string("url")?
        .or(input.string("system")?)
        .or_else(|| instance.map(|i| i.url.clone()));
    let version = input
        .string("version")?
        .or(input.string("systemVersion")?)
        .or_else(|| instance.and_then(|i| i.version.clone()));
    validate_request_with_system(input, url, version, accept_language, false)
}

/// The coding part of a `$validate-code` request, given the code system (and version)
/// a bare `code` belongs to.
pub fn validate_request_with_system(
    input: &OperationInput,
    url: Option<String>,
    version: Option<String>,
    accept_language: Option<&str>,
    infer_system: bool,
) -> Result<ValidateCodeRequest, FhirError> {
    let (codings, source) = if let Some(cc) = input.codeable_concept("codeableConcept")? {
        (cc, CodingSource::CodeableConcept)
    } else if let Some(c) = input.coding("coding")? {
        (vec![c], CodingSource::Coding)
    } else if let Some(code) = input.string("code")? {
        if url.is_none() && !infer_system {
            return Err(FhirError::invalid(
                "$validate-code with a 'code' needs its code system: give 'url' at CodeSystem level, 'system' at ValueSet level (or use 'coding')",
            ));
        }
        let coding = Coding {
            system: url.clone(),
            version: version.clone(),
            code: Some(code),
            display: input.string("display")?,
        };
        (vec![coding], CodingSource::Code)
    } else {
        return Err(FhirError::invalid(
            "Unable to find code to validate (looked for coding | codeableConcept | code+system | code+inferSystem in parameters",
        ));
    };
    let lenient = input
        .strings("mode")?
        .iter()
        .any(|m| m == "lenient-display-validation")
        || input
            .boolean("lenient-display-validation")?
            .unwrap_or(false);
    Ok(ValidateCodeRequest {
        url,
        version,
        codings,
        source,
        display_language: checked_language(input.string("displayLanguage")?)?
            .or(accept_language.map(str::to_owned)),
        abstract_allowed: input.boolean("abstract")?.unwrap_or(true),
        lenient_display: lenient,
        text: input.codeable_concept_text("codeableConcept"),
        supplements: input.strings("useSupplement")?,
    })
}

/// A `displayLanguage` must be a language tag or a list of them (with `*` and quality
/// values): anything else is refused rather than silently matching nothing.
fn checked_language(language: Option<String>) -> Result<Option<String>, FhirError> {
    let Some(text) = language else {
        return Ok(None);
    };
    let tag = regex::Regex::new(r"^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$").expect("pattern");
    let valid = text.split(',').all(|entry| {
        let mut parts = entry.split(';').map(str::trim);
        parts.next().is_some_and(|t| tag.is_match(t))
            && parts.all(|q| q.starts_with("q=") || q.is_empty())
    });
    if valid {
        Ok(Some(text))
    } else {
        Err(
            crate::core::CoreError::invalid(format!("Invalid displayLanguage: '{text}'"))
                .with_tx("processing", "invalid-display", "INVALID_DISPLAY_NAME")
                .into(),
        )
    }
}

/// `$validate-code` result → Parameters, in the form the terminology ecosystem expects.
pub fn validate_parameters(r: &ValidateCodeResult, req: &ValidateCodeRequest) -> Value {
    let mut p = Vec::new();
    p.push(json!({"name": "result", "valueBoolean": r.result}));
    if let Some(c) = &r.code {
        p.push(param("code", "valueCode", c));
    }
    if let Some(s) = &r.system {
        p.push(param("system", "valueUri", s));
    }
    if let Some(v) = &r.version {
        p.push(param("version", "valueString", v));
    }
    if let Some(d) = &r.display {
        p.push(param("display", "valueString", d));
    }
    if r.inactive {
        p.push(json!({"name": "inactive", "valueBoolean": true}));
    }
    if let Some(status) = &r.status {
        p.push(param("status", "valueCode", status));
    }
    if let Some(n) = &r.normalized_code {
        p.push(param("normalized-code", "valueCode", n));
    }
    if req.source == CodingSource::CodeableConcept {
        let codings: Vec<Value> = req.codings.iter().map(coding_json).collect();
        let mut cc = json!({"coding": codings});
        if let Some(text) = &req.text {
            cc["text"] = json!(text);
        }
        p.push(json!({"name": "codeableConcept", "valueCodeableConcept": cc}));
    }
    if let Some(m) = &r.message {
        p.push(param("message", "valueString", m));
    }
    if !r.issues.is_empty() {
        p.push(json!({"name": "issues", "resource": issues_outcome(&r.issues)}));
    }
    for system in &r.unknown_systems {
        p.push(param(
            "x-caused-by-unknown-system",
            "valueCanonical",
            system,
        ));
    }
    for system in &r.unknown_systems_outside {
        p.push(param("x-unknown-system", "valueCanonical", system));
    }
    parameters(p)
}

/// Validation issues as an OperationOutcome.
pub fn issues_outcome(issues: &[Issue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|i| {
            let mut issue = json!({
                "extension": [{
                    "url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id",
                    "valueString": i.message_id,
                }],
                "severity": match i.severity {
                    IssueSeverity::Error => "error",
                    IssueSeverity::Warning => "warning",
                    IssueSeverity::Information => "information",
                },
                "code": i.issue_type,
                "details": {
                    "coding": [{
                        "system": "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type",
                        "code": i.tx_type,
                    }],
                    "text": i.text,
                },
            });
            if !i.expression.is_empty() {
                issue["location"] = json!([i.expression]);
                issue["expression"] = json!([i.expression]);
            }
            issue
        })
        .collect();
    json!({"resourceType": "OperationOutcome", "issue": issues})
}

/// `$subsumes` inputs: `codeA`/`codeB` with `system`, or `codingA`/`codingB`.
pub fn subsumes_request(
    input: &OperationInput,
    instance: Option<&InstanceSystem>,
) -> Result<SubsumesRequest, FhirError> {
    let coding_a = input.coding("codingA")?;
    let coding_b = input.coding("codingB")?;
    let mut systems: Vec<String> = Vec::new();
    if let Some(s) = input.string("system")? {
        systems.push(s);
    }
    let mut code = |coding: Option<Coding>, name: &str| -> Result<String, FhirError> {
        match coding {
            Some(c) => {
                if let Some(s) = c.system {
                    systems.push(s);
                }
                c.code.filter(|c| !c.is_empty()).ok_or_else(|| {
                    FhirError::invalid(format!("The Coding in '{name}' has no code"))
                })
            }
            None => input
                .string(&name.replace("coding", "code"))?
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    FhirError::invalid(format!(
                        "$subsumes needs '{}' or '{name}'",
                        name.replace("coding", "code")
                    ))
                }),
        }
    };
    let code_a = code(coding_a, "codingA")?;
    let code_b = code(coding_b, "codingB")?;
    systems.dedup();
    if systems.len() > 1 {
        return Err(FhirError::invalid(format!(
            "$subsumes compares codes of one code system, but got {}",
            systems.join(" and ")
        )));
    }
    let system = systems
        .pop()
        .or_else(|| instance.map(|i| i.url.clone()))
        .ok_or_else(|| {
            FhirError::invalid("$subsumes needs a 'system' (or codings with a system)")
        })?;
    Ok(SubsumesRequest {
        system,
        version: input
            .string("version")?
            .or_else(|| instance.and_then(|i| i.version.clone())),
        code_a,
        code_b,
    })
}

/// `$subsumes` result → Parameters.
pub fn subsumes_parameters(outcome: SubsumesOutcome) -> Value {
    parameters(vec![param("outcome", "valueCode", outcome.code())])
}

fn param(name: &str, kind: &str, value: &str) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::String(name.into()));
    m.insert(kind.into(), Value::String(value.into()));
    Value::Object(m)
}

fn parameters(list: Vec<Value>) -> Value {
    json!({"resourceType": "Parameters", "parameter": list})
}

/// A Coding as FHIR JSON, absent fields left out.
pub fn coding_json(c: &Coding) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("system", &c.system),
        ("version", &c.version),
        ("code", &c.code),
        ("display", &c.display),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    }
    Value::Object(m)
}
