//! Operation inputs from either a GET query string or a POST `Parameters` body, read
//! through one interface so each operation's mapping is written once.
//!
//! In a query string complex types use the conventions of tx.fhir.org and Ontoserver:
//! a Coding as `system|code` (or `system|version|code`... not supported: use POST).

use serde_json::Value;

use super::outcome::FhirError;
use crate::model::Coding;

/// Parameters whose names steer the HTTP layer, not the operation.
const CONTROL: &[&str] = &["_format", "_pretty", "_summary", "_elements"];

/// One parameter: text from a query string or form, or a `Parameters.parameter` element.
#[derive(Debug, Clone)]
enum Param {
    Text(String),
    Element(Value),
}

/// The named inputs of one operation call.
#[derive(Debug, Clone, Default)]
pub struct OperationInput {
    params: Vec<(String, Param)>,
}

impl OperationInput {
    /// Reads a URL query string (`a=b&c=d`, percent-decoded).
    pub fn from_query(query: &str) -> Self {
        let params = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| !CONTROL.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), Param::Text(v.into_owned())))
            .collect();
        OperationInput { params }
    }

    /// Reads a `Parameters` resource; anything else is a client error.
    pub fn from_parameters(body: Value) -> Result<Self, FhirError> {
        if body.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
            return Err(FhirError::invalid(format!(
                "The request body must be a Parameters resource, not {}",
                body.get("resourceType")
                    .and_then(Value::as_str)
                    .map(|t| format!("a {t}"))
                    .unwrap_or_else(|| "a JSON object without resourceType".into())
            )));
        }
        let mut params = Vec::new();
        if let Some(list) = body.get("parameter") {
            let list = list
                .as_array()
                .ok_or_else(|| FhirError::invalid("Parameters.parameter must be an array"))?;
            for p in list {
                let name = p.get("name").and_then(Value::as_str).ok_or_else(|| {
                    FhirError::invalid("Every Parameters.parameter must have a name")
                })?;
                params.push((name.to_string(), Param::Element(p.clone())));
            }
        }
        Ok(OperationInput { params })
    }

    /// Adds the parameters of `other` (e.g. query parameters alongside a POST body).
    pub fn extend(&mut self, other: OperationInput) {
        self.params.extend(other.params);
    }

    /// The parameters named in `names`, in the order given, as `Parameters.parameter`
    /// elements: what an expansion echoes of its request.
    pub fn echo(&self, names: &[&str]) -> Vec<Value> {
        self.params
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(name, p)| match p {
                // Canonicals are repeated as plain URIs (`expansion.parameter` has no
                // canonical type in R4).
                Param::Element(v) => match v.get("valueCanonical") {
                    Some(c) => serde_json::json!({"name": name, "valueUri": c}),
                    None => v.clone(),
                },
                Param::Text(t) => {
                    let value = if t == "true" || t == "false" {
                        ("valueBoolean", Value::Bool(t == "true"))
                    } else if let Ok(n) = t.parse::<u64>() {
                        ("valueInteger", Value::from(n))
                    } else {
                        ("valueString", Value::String(t.clone()))
                    };
                    let mut m = serde_json::Map::new();
                    m.insert("name".into(), Value::String(name.clone()));
                    m.insert(value.0.into(), value.1);
                    Value::Object(m)
                }
            })
            .collect()
    }

    /// The `text` of a CodeableConcept parameter, if it has one.
    pub fn codeable_concept_text(&self, name: &str) -> Option<String> {
        self.all(name).find_map(|p| match p {
            Param::Element(e) => e["valueCodeableConcept"]["text"]
                .as_str()
                .map(str::to_owned),
            Param::Text(_) => None,
        })
    }

    /// These inputs without the parameters named `name` (e.g. the batch entries of
    /// `$batch-validate-code`, leaving what they share).
    pub fn without(&self, name: &str) -> OperationInput {
        OperationInput {
            params: self
                .params
                .iter()
                .filter(|(n, _)| n != name)
                .cloned()
                .collect(),
        }
    }

    /// The distinct names of the parameters given.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.params.iter().map(|(n, _)| n.clone()).collect();
        names.dedup();
        names
    }

    /// Whether the parameter was given at all.
    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|(n, _)| n == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Param> + 'a {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, p)| p)
    }

    /// A primitive parameter as text (`valueString`, `valueCode`, `valueUri`, ...).
    /// Given more than once, it is an error.
    pub fn string(&self, name: &str) -> Result<Option<String>, FhirError> {
        let mut values = self.strings(name)?;
        if values.len() > 1 {
            return Err(FhirError::invalid(format!(
                "The parameter '{name}' may appear only once"
            )));
        }
        Ok(values.pop())
    }

    /// Every value of a repeatable primitive parameter.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, FhirError> {
        self.all(name)
            .map(|p| match p {
                Param::Text(t) => checked_len(name, t.clone()),
                Param::Element(e) => primitive(e)
                    .ok_or_else(|| {
                        FhirError::invalid(format!(
                            "The parameter '{name}' must have a primitive value (e.g. valueString or valueCode)"
                        ))
                    })
                    .and_then(|v| checked_len(name, v)),
            })
            .collect()
    }

    /// A resource parameter (`Parameters.parameter.resource`); only in POST bodies.
    pub fn resource<'a>(&'a self, name: &'a str) -> Result<Option<&'a Value>, FhirError> {
        let mut found = self.all(name);
        let Some(param) = found.next() else {
            return Ok(None);
        };
        match param {
            Param::Element(e) => e.get("resource").map(Some).ok_or_else(|| {
                FhirError::invalid(format!("The parameter '{name}' must hold a resource"))
            }),
            Param::Text(_) => Err(FhirError::invalid(format!(
                "The parameter '{name}' is a resource: send it in a POST Parameters body"
            ))),
        }
    }

    /// Every resource of a repeatable resource parameter.
    pub fn resources<'a>(&'a self, name: &'a str) -> Result<Vec<&'a Value>, FhirError> {
        self.all(name)
            .map(|param| match param {
                Param::Element(e) => e.get("resource").ok_or_else(|| {
                    FhirError::invalid(format!("The parameter '{name}' must hold a resource"))
                }),
                Param::Text(_) => Err(FhirError::invalid(format!(
                    "The parameter '{name}' is a resource: send it in a POST Parameters body"
                ))),
            })
            .collect()
    }

    /// The `part`s of every value of a repeatable complex parameter (POST only).
    pub fn parts<'a>(&'a self, name: &'a str) -> Result<Vec<&'a [Value]>, FhirError> {
        self.all(name)
            .map(|param| match param {
                Param::Element(e) => e
                    .get("part")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .ok_or_else(|| {
                        FhirError::invalid(format!("The parameter '{name}' must have parts"))
                    }),
                Param::Text(_) => Err(FhirError::invalid(format!(
                    "The parameter '{name}' has parts: send it in a POST Parameters body"
                ))),
            })
            .collect()
    }

    /// A non-negative integer parameter.
    pub fn unsigned(&self, name: &str) -> Result<Option<usize>, FhirError> {
        match self.string(name)? {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                FhirError::invalid(format!(
                    "The parameter '{name}' must be a non-negative integer, not '{}'",
                    truncate(&v)
                ))
            }),
        }
    }

    /// A boolean parameter (`true`/`false`).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, FhirError> {
        let text = match self.all(name).next() {
            Some(Param::Element(e)) => match e.get("valueBoolean") {
                Some(Value::Bool(b)) => return Ok(Some(*b)),
                // A boolean sent as a string ("true") is read as what it says.
                Some(Value::String(s)) => Some(s.clone()),
                _ => self.string(name)?,
            },
            _ => self.string(name)?,
        };
        match text {
            None => Ok(None),
            Some(v) if v == "true" => Ok(Some(true)),
            Some(v) if v == "false" => Ok(Some(false)),
            Some(v) => Err(FhirError::invalid(format!(
                "The parameter '{name}' must be true or false, not '{}'",
                truncate(&v)
            ))),
        }
    }

    /// A Coding parameter (`valueCoding`, or `system|code` in a query string).
    pub fn coding(&self, name: &str) -> Result<Option<Coding>, FhirError> {
        let mut found = self.all(name);
        let Some(param) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(FhirError::invalid(format!(
                "The parameter '{name}' may appear only once"
            )));
        }
        match param {
            Param::Text(t) => Ok(Some(coding_from_text(&checked_len(name, t.clone())?))),
            Param::Element(e) => {
                let v = e.get("valueCoding").ok_or_else(|| {
                    FhirError::invalid(format!("The parameter '{name}' must be a valueCoding"))
                })?;
                coding_from_json(v, name).map(Some)
            }
        }
    }

    /// Every value of a repeatable Coding parameter.
    pub fn codings(&self, name: &str) -> Result<Vec<Coding>, FhirError> {
        self.all(name)
            .map(|param| match param {
                Param::Text(t) => Ok(coding_from_text(&checked_len(name, t.clone())?)),
                Param::Element(e) => {
                    let v = e.get("valueCoding").ok_or_else(|| {
                        FhirError::invalid(format!("The parameter '{name}' must be a valueCoding"))
                    })?;
                    coding_from_json(v, name)
                }
            })
            .collect()
    }

    /// A CodeableConcept parameter, as its codings.
    pub fn codeable_concept(&self, name: &str) -> Result<Option<Vec<Coding>>, FhirError> {
        let mut found = self.all(name);
        let Some(param) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(FhirError::invalid(format!(
                "The parameter '{name}' may appear only once"
            )));
        }
        match param {
            Param::Text(t) => Ok(Some(vec![coding_from_text(&checked_len(name, t.clone())?)])),
            Param::Element(e) => {
                let cc = e.get("valueCodeableConcept").ok_or_else(|| {
                    FhirError::invalid(format!(
                        "The parameter '{name}' must be a valueCodeableConcept"
                    ))
                })?;
                let codings = match cc.get("coding") {
                    None => Vec::new(),
                    Some(Value::Array(list)) => list
                        .iter()
                        .map(|c| coding_from_json(c, name))
                        .collect::<Result<_, _>>()?,
                    Some(_) => {
                        return Err(FhirError::invalid(format!(
                            "{name}.coding must be an array"
                        )))
                    }
                };
                Ok(Some(codings))
            }
        }
    }
}

/// The text of a primitive `value[x]`.
fn primitive(element: &Value) -> Option<String> {
    let obj = element.as_object()?;
    obj.iter().find_map(|(k, v)| {
        if !k.starts_with("value") {
            return None;
        }
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    })
}

fn coding_from_text(text: &str) -> Coding {
    match text.split_once('|') {
        Some((system, code)) => Coding {
            system: Some(system.to_string()).filter(|s| !s.is_empty()),
            code: Some(code.to_string()),
            ..Coding::default()
        },
        None => Coding {
            code: Some(text.to_string()),
            ..Coding::default()
        },
    }
}

fn coding_from_json(v: &Value, name: &str) -> Result<Coding, FhirError> {
    if !v.is_object() {
        return Err(FhirError::invalid(format!(
            "The parameter '{name}' must hold a Coding"
        )));
    }
    let field = |f: &str| -> Result<Option<String>, FhirError> {
        match v.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => checked_len(name, s.clone()).map(Some),
            Some(_) => Err(FhirError::invalid(format!("{name}.{f} must be a string"))),
        }
    };
    Ok(Coding {
        system: field("system")?,
        version: field("version")?,
        code: field("code")?,
        display: field("display")?,
    })
}

/// The longest parameter value accepted. Codes, URLs and displays are far shorter; the
/// limit keeps absurd input out of queries and error messages.
pub const MAX_PARAMETER_LENGTH: usize = 4096;

fn checked_len(name: &str, value: String) -> Result<String, FhirError> {
    if value.len() > MAX_PARAMETER_LENGTH {
        return Err(FhirError::invalid(format!(
            "The parameter '{name}' is {} bytes long; the limit is {MAX_PARAMETER_LENGTH}",
            value.len()
        )));
    }
    Ok(value)
}

/// Shortens echoed input so error messages stay small whatever the client sent.
pub fn truncate(text: &str) -> String {
    const MAX: usize = 200;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(MAX).collect::<String>())
    }
}
