//! Parameters ⇄ core types for `ConceptMap/$translate` (R4).

use serde_json::{json, Value};

use super::outcome::FhirError;
use super::params::OperationInput;
use crate::core::{TranslateRequest, TranslateResult};

/// `$translate` inputs: `code` + `system`, or `coding`, or a `codeableConcept` (its first
/// coding); the map by `url` (+ `conceptMapVersion`) or the instance addressed.
pub fn translate_request(
    input: &OperationInput,
    instance_url: Option<String>,
) -> Result<TranslateRequest, FhirError> {
    let coding = match input.coding("coding")? {
        Some(c) => Some(c),
        None => input
            .codeable_concept("codeableConcept")?
            .and_then(|cc| cc.into_iter().next()),
    };
    let (system, code) = match coding {
        Some(c) => (c.system, c.code),
        None => (input.string("system")?, input.string("code")?),
    };
    let code = code.filter(|c| !c.is_empty()).ok_or_else(|| {
        FhirError::invalid(
            "$translate needs a 'code' (with 'system'), a 'coding' or a 'codeableConcept'",
        )
    })?;
    Ok(TranslateRequest {
        map_url: instance_url.or(input.string("url")?),
        map_version: input.string("conceptMapVersion")?,
        system,
        code,
        source_scope: input.string("source")?,
        target_scope: input.string("target")?,
        target_system: input.string("targetsystem")?,
        reverse: input.boolean("reverse")?.unwrap_or(false),
    })
}

/// `$translate` result → Parameters.
pub fn translate_parameters(r: &TranslateResult) -> Value {
    let mut p = vec![json!({"name": "result", "valueBoolean": r.result})];
    if let Some(m) = &r.message {
        p.push(json!({"name": "message", "valueString": m}));
    }
    for m in &r.matches {
        let mut parts = vec![json!({"name": "equivalence", "valueCode": m.equivalence})];
        if let Some(c) = &m.concept {
            let mut coding = serde_json::Map::new();
            for (k, v) in [
                ("system", &c.system),
                ("version", &c.version),
                ("code", &c.code),
                ("display", &c.display),
            ] {
                if let Some(v) = v {
                    coding.insert(k.into(), json!(v));
                }
            }
            parts.push(json!({"name": "concept", "valueCoding": coding}));
        }
        parts.push(json!({"name": "source", "valueUri": m.source}));
        if let Some(c) = &m.comment {
            parts.push(json!({"name": "comment", "valueString": c}));
        }
        p.push(json!({"name": "match", "part": parts}));
    }
    json!({"resourceType": "Parameters", "parameter": p})
}
