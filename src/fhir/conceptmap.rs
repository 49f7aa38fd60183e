//! Parameters ⇄ core types for `ConceptMap/$translate` and `$closure` (R4).

use serde_json::{json, Value};

use super::outcome::FhirError;
use super::params::OperationInput;
use crate::core::{ClosureRequest, ClosureResult, Dependency, TranslateRequest, TranslateResult};
use crate::model::Coding;

/// `$translate` inputs: `code` + `system`, or `coding`, or a `codeableConcept` (its first
/// coding); the map by `url` (+ `conceptMapVersion`) or the instance addressed.
pub fn translate_request(
    input: &OperationInput,
    instance_url: Option<String>,
) -> Result<TranslateRequest, FhirError> {
    // R5's names are read as well: sourceCode/sourceSystem/sourceCoding/
    // sourceCodeableConcept, and targetCode/targetCoding/targetCodeableConcept, which ask
    // the reverse question.
    let reverse_r5 =
        input.has("targetCode") || input.has("targetCoding") || input.has("targetCodeableConcept");
    let side = if reverse_r5 { "target" } else { "source" };
    let coding_name = format!("{side}Coding");
    let cc_name = format!("{side}CodeableConcept");
    let coding = match input.coding("coding")?.or(input.coding(&coding_name)?) {
        Some(c) => Some(c),
        None => input
            .codeable_concept("codeableConcept")?
            .or(input.codeable_concept(&cc_name)?)
            .and_then(|cc| cc.into_iter().next()),
    };
    let (system, code) = match coding {
        Some(c) => (c.system, c.code),
        None if reverse_r5 => (input.string("targetSystem")?, input.string("targetCode")?),
        None => (
            input.string("system")?.or(input.string("sourceSystem")?),
            input.string("code")?.or(input.string("sourceCode")?),
        ),
    };
    let code = code.filter(|c| !c.is_empty()).ok_or_else(|| {
        FhirError::invalid(
            "$translate needs a 'code' (with 'system'), a 'coding' or a 'codeableConcept'",
        )
    })?;
    let inline_url = match input.resource("conceptMap")? {
        Some(map) => Some(
            map.get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    FhirError::invalid("The conceptMap parameter must hold a ConceptMap with a url")
                })?
                .to_string(),
        ),
        None => None,
    };
    let mut dependencies = Vec::new();
    for parts in input.parts("dependency")? {
        let mut dependency = Dependency::default();
        for part in parts {
            match part.get("name").and_then(Value::as_str) {
                Some("element") => {
                    dependency.element = part
                        .get("valueUri")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                }
                Some("concept") => {
                    for c in part["valueCodeableConcept"]["coding"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        dependency.values.push(Coding {
                            system: c.get("system").and_then(Value::as_str).map(str::to_owned),
                            code: c.get("code").and_then(Value::as_str).map(str::to_owned),
                            ..Coding::default()
                        });
                    }
                }
                _ => {}
            }
        }
        dependencies.push(dependency);
    }
    Ok(TranslateRequest {
        dependencies,
        map_url: instance_url.or(inline_url).or(input.string("url")?),
        map_version: input.string("conceptMapVersion")?,
        system,
        code,
        source_scope: input.string("source")?,
        target_scope: input.string("target")?,
        target_system: if reverse_r5 {
            None
        } else {
            input
                .string("targetsystem")?
                .or(input.string("targetSystem")?)
        },
        reverse: reverse_r5 || input.boolean("reverse")?.unwrap_or(false),
    })
}

/// `$translate` result → Parameters.
pub fn translate_parameters(r: &TranslateResult, input: &OperationInput) -> Value {
    // Asked R5's way (targetCode...), a match names the concept asked about as `concept`
    // and the code it maps from as `source`.
    let r5_reverse =
        input.has("targetCode") || input.has("targetCoding") || input.has("targetCodeableConcept");
    let asked = if r5_reverse {
        let coding = input.coding("targetCoding").ok().flatten();
        let system = coding
            .as_ref()
            .and_then(|c| c.system.clone())
            .or(input.string("targetSystem").ok().flatten());
        let code = coding
            .as_ref()
            .and_then(|c| c.code.clone())
            .or(input.string("targetCode").ok().flatten());
        Some(json!({"system": system, "code": code}))
    } else {
        None
    };
    let mut p = vec![json!({"name": "result", "valueBoolean": r.result})];
    if let Some(m) = &r.message {
        p.push(json!({"name": "message", "valueString": m}));
    }
    for m in &r.matches {
        let mut parts = vec![json!({"name": "equivalence", "valueCode": m.equivalence})];
        if let Some(c) = &m.concept {
            let coding = super::operations::coding_json(c);
            match &asked {
                Some(asked) => {
                    parts.push(json!({"name": "concept", "valueCoding": asked}));
                    parts.push(json!({"name": "source", "valueCoding": coding}));
                }
                None => parts.push(json!({"name": "concept", "valueCoding": coding})),
            }
        }
        // The map a match came from, under R5's name (tx.fhir.org's convention).
        parts.push(json!({"name": "originMap", "valueCanonical": m.source}));
        if let Some(c) = &m.comment {
            parts.push(json!({"name": "comment", "valueString": c}));
        }
        let products: Vec<Value> = m
            .product
            .as_deref()
            .and_then(|p| serde_json::from_str::<Vec<Value>>(p).ok())
            .unwrap_or_default();
        for product in products {
            let mut coding = json!({"code": product["value"]});
            for k in ["system", "display"] {
                if let Some(v) = product.get(k) {
                    coding[k] = v.clone();
                }
            }
            parts.push(json!({"name": "product", "part": [
                {"name": "element", "valueUri": product["property"]},
                {"name": "concept", "valueCoding": coding},
            ]}));
        }
        p.push(json!({"name": "match", "part": parts}));
    }
    json!({"resourceType": "Parameters", "parameter": p})
}

/// `$closure` inputs: `name`, `concept` (Codings, repeatable), `version`.
pub fn closure_request(input: &OperationInput) -> Result<ClosureRequest, FhirError> {
    let name = input
        .string("name")?
        .ok_or_else(|| FhirError::invalid("$closure needs the 'name' of the closure table"))?;
    Ok(ClosureRequest {
        name,
        concepts: input.codings("concept")?,
        version: input.string("version")?,
    })
}

/// `$closure` result → the ConceptMap of new entries (source subsumed by target).
pub fn closure_concept_map(r: &ClosureResult) -> Value {
    let mut groups: Vec<(Option<String>, Option<String>, Vec<Value>)> = Vec::new();
    for e in &r.entries {
        let key = (e.source.system.clone(), e.target.system.clone());
        let element = json!({
            "code": e.source.code,
            "target": [{"code": e.target.code, "equivalence": "subsumes"}],
        });
        match groups
            .iter_mut()
            .find(|(s, t, _)| (s.clone(), t.clone()) == key)
        {
            Some(group) => group.2.push(element),
            None => groups.push((key.0, key.1, vec![element])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(source, target, elements)| json!({"source": source, "target": target, "element": elements}))
        .collect();
    let mut map = json!({
        "resourceType": "ConceptMap",
        "id": uuid::Uuid::new_v4().to_string(),
        "name": r.name,
        "version": r.version.to_string(),
        "status": "active",
        "experimental": true,
        "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    if !groups.is_empty() {
        map["group"] = Value::Array(groups);
    }
    map
}
