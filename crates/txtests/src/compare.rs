//! Compares a server's response with the suite's expected response, following the rules of
//! the reference runner (`CompareUtilities` in the Java validator): expected files are
//! templates, not literal answers.
//!
//! * A string may be a placeholder: `$$`, `$id$`, `$uuid$`, `$instant$`, `$date$`, `$url$`,
//!   `$token$`, `$string$`, `$semver$`, `$version$`, `$choice:a|b$`, `$fragments:a|b$`,
//!   `$external:N$` / `$external:N:a|b$` (the message registered under `N` for this response
//!   file in the externals file, or the fragments when there is none).
//! * An object may carry `$optional-properties$` (names the server may omit; `*` for all) and
//!   `$count-arrays$` (arrays compared by length only).
//! * An array item may carry `$optional$`: `true`, a mode (`x`: optional only in mode x),
//!   a negated mode (`!x`), `version:N`, or `warning:text` (optional, reported when missing).
//! * Arrays are compared in order: the runner sorts the actual response the way the reference
//!   runner does before comparing (see `normalise`).
//! * Outside pattern mode an actual property the template does not name is a difference.
//!
//! One tolerance goes beyond the reference rules: `OperationOutcome.issue.location` (which
//! R5 deprecates in favour of `expression`) may be present or absent. The suite is split
//! on it: 264 expected issues carry it (75 of them as optional), 112 omit it without
//! marking it optional, often for the same finding in different suites.

use regex::Regex;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// What a comparison needs besides the two documents.
pub struct Comparer<'a> {
    /// Modes the run is in (`general`, `tx.fhir.org`, `flat`, ...).
    pub modes: &'a BTreeSet<String>,
    /// This response file's entry in the externals file, if it has one.
    pub externals: Option<&'a Map<String, Value>>,
    /// The FHIR version the server reports (for `$version$` and `version:N` filters).
    pub fhir_version: &'a str,
    /// Pattern mode (metadata checks): actual may carry more, arrays are searched.
    pub pattern: bool,
    /// Optional items that were missing and asked to be reported.
    pub warnings: Vec<String>,
}

impl Comparer<'_> {
    /// The first difference between `expected` and `actual`, or `None` when they match.
    pub fn compare(&mut self, expected: &Value, actual: &Value) -> Option<String> {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => self.objects("", e, a),
            _ => Some("top level: expected and actual are not both objects".into()),
        }
    }

    fn objects(
        &mut self,
        path: &str,
        exp: &Map<String, Value>,
        act: &Map<String, Value>,
    ) -> Option<String> {
        let mut optionals = strings(exp.get("$optional-properties$"));
        let is_issue = exp.contains_key("severity") && exp.contains_key("code");
        if is_issue {
            optionals.push("location".into());
        }
        let count_only = strings(exp.get("$count-arrays$"));
        for (name, value) in act {
            if name == "fhir_comments" {
                continue;
            }
            match exp.get(name) {
                Some(e) => {
                    let p = format!("{path}.{name}");
                    if let Some(d) = self.nodes(&p, e, value, count_only.contains(name)) {
                        return Some(d);
                    }
                }
                None if is_issue && name == "location" => {}
                None if !self.pattern => {
                    return Some(format!(
                        "properties differ at {path}: unexpected property {name}"
                    ));
                }
                None => {}
            }
        }
        for (name, value) in exp {
            let optional = name.starts_with('$') || optionals.iter().any(|o| o == "*" || o == name);
            if name == "fhir_comments" || optional {
                continue;
            }
            if !act.contains_key(name) && !self.all_optional(value) {
                return Some(format!(
                    "properties differ at {path}: missing property {name}"
                ));
            }
        }
        None
    }

    fn all_optional(&self, value: &Value) -> bool {
        match value {
            Value::Array(items) => items
                .iter()
                .all(|i| !i.is_object() || i.get("$optional$").is_some()),
            _ => false,
        }
    }

    fn nodes(&mut self, path: &str, exp: &Value, act: &Value, count_only: bool) -> Option<String> {
        match (exp, act) {
            (Value::Object(e), Value::Object(a)) => self.objects(path, e, a),
            (Value::Array(e), Value::Array(a)) => self.arrays(path, e, a, count_only),
            (Value::Bool(e), Value::Bool(a)) => {
                (e != a).then(|| differ("boolean property values", path, exp, act))
            }
            (Value::String(e), Value::String(a)) => {
                if (e.contains("<div") && a.contains("<div")) || self.string_matches(a, e) {
                    None
                } else {
                    Some(differ("string property values", path, exp, act))
                }
            }
            (Value::Number(e), Value::Number(a)) => (e.to_string() != a.to_string())
                .then(|| differ("number property values", path, exp, act)),
            (Value::Null, Value::Null) => None,
            _ => Some(differ("property types", path, exp, act)),
        }
    }

    fn arrays(
        &mut self,
        path: &str,
        exp: &[Value],
        act: &[Value],
        count_only: bool,
    ) -> Option<String> {
        if count_only {
            return (exp.len() != act.len()).then(|| {
                format!(
                    "array item count differs at {path}: expected {}, actual {}",
                    exp.len(),
                    act.len()
                )
            });
        }
        if self.pattern {
            let mut c = 0;
            for (i, e) in exp.iter().enumerate() {
                let mut found = false;
                while !found && c < act.len() {
                    found = self
                        .nodes(&format!("{path}[{i}]"), e, &act[c], false)
                        .is_none();
                    c += 1;
                }
                if !found {
                    return Some(format!(
                        "the expected item at {path} at index {i} was not found"
                    ));
                }
            }
            return None;
        }
        let optional_count = exp.iter().filter(|e| self.is_optional(e)).count();
        let minimum = exp.len() - optional_count;
        if act.len() > exp.len() || act.len() < minimum {
            return Some(format!(
                "array item count differs at {path}: expected {}{}, actual {}",
                minimum,
                if optional_count > 0 {
                    format!("..{}", exp.len())
                } else {
                    String::new()
                },
                act.len()
            ));
        }
        let mut c = 0;
        for (i, e) in exp.iter().enumerate() {
            if c >= act.len() {
                if i >= exp.len() - optional_count && self.is_optional(e) {
                    if let Some(w) = e
                        .get("$optional$")
                        .and_then(Value::as_str)
                        .and_then(|s| s.strip_prefix("warning:"))
                    {
                        self.warnings.push(w.to_string());
                    }
                    return None;
                }
                return Some(format!(
                    "one or more array items did not match at {path} starting at index {i}"
                ));
            }
            let d = self.nodes(&format!("{path}[{i}]"), e, &act[c], false);
            match d {
                Some(d) if !self.is_optional(e) => return Some(d),
                Some(_) => {}
                None => c += 1,
            }
        }
        (c < act.len()).then(|| format!("unexpected item found in array at {path} at index {c}"))
    }

    fn is_optional(&self, item: &Value) -> bool {
        match item.get("$optional$") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(token)) => self.passes_filter(token),
            _ => false,
        }
    }

    fn passes_filter(&self, token: &str) -> bool {
        if let Some(mode) = token.strip_prefix('!') {
            !self.modes.contains(mode)
        } else if token.starts_with("warning:") {
            true
        } else if let Some(v) = token.strip_prefix("version:") {
            self.fhir_version.starts_with(v)
        } else {
            self.modes.contains(token)
        }
    }

    fn string_matches(&self, actual: &str, expected: &str) -> bool {
        if !(expected.len() > 1 && expected.starts_with('$') && expected.ends_with('$')) {
            return actual == expected.replace("$version$", self.fhir_version);
        }
        let inner = &expected[1..expected.len() - 1];
        if let Some(choices) = inner.strip_prefix("choice:") {
            return choices.split('|').any(|c| c == actual);
        }
        if let Some(fragments) = inner.strip_prefix("fragments:") {
            return contains_all(actual, fragments);
        }
        if let Some(rest) = inner.strip_prefix("external:") {
            let mut parts = rest.splitn(2, ':');
            let key = parts.next().unwrap_or_default();
            return match self.externals {
                Some(ext) => ext.get(key).and_then(Value::as_str) == Some(actual),
                None => parts.next().is_none_or(|f| contains_all(actual, f)),
            };
        }
        let pattern = match inner {
            "" => return true,
            "string" => return actual == actual.trim(),
            "version" => return actual == self.fhir_version,
            "instant" => {
                r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$"
            }
            "date" => {
                r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?$"
            }
            "uuid" => r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            "id" => r"^[A-Za-z0-9\-.]{1,64}$",
            "url" => r"^(https?://|www\.)[-a-zA-Z0-9+&@#/%?=~_|!:.;]*[-a-zA-Z0-9+&@#/%=~_|]$",
            "token" => r"^[0-9a-zA-Z_][0-9a-zA-Z_.\-]*$",
            "semver" => {
                r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
            }
            _ => return actual == expected,
        };
        regex(pattern).is_match(actual)
    }
}

fn regex(pattern: &'static str) -> Regex {
    static CACHE: OnceLock<std::sync::Mutex<Vec<(&'static str, Regex)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().expect("regex cache");
    if let Some((_, r)) = cache.iter().find(|(p, _)| *p == pattern) {
        return r.clone();
    }
    let r = Regex::new(pattern).expect("placeholder pattern");
    cache.push((pattern, r.clone()));
    r
}

fn contains_all(actual: &str, fragments: &str) -> bool {
    let actual = actual.to_lowercase();
    fragments
        .split('|')
        .all(|f| actual.contains(&f.to_lowercase()))
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn differ(what: &str, path: &str, exp: &Value, act: &Value) -> String {
    format!("{what} differ at {path}: expected {exp}, actual {act}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(exp: Value, act: Value, modes: &[&str]) -> Option<String> {
        let modes: BTreeSet<String> = modes.iter().map(|s| s.to_string()).collect();
        Comparer {
            modes: &modes,
            externals: None,
            fhir_version: "4.0.1",
            pattern: false,
            warnings: vec![],
        }
        .compare(&exp, &act)
    }

    #[test]
    fn placeholders_match_their_kind_only() {
        assert!(run(
            json!({"a": "$uuid$"}),
            json!({"a": "urn:uuid:0d2c1d9c-1b0e-4c55-9c4f-0c2a5d6a9e11"}),
            &[]
        )
        .is_none());
        assert!(run(json!({"a": "$uuid$"}), json!({"a": "nope"}), &[]).is_some());
        assert!(run(
            json!({"a": "$instant$"}),
            json!({"a": "2026-11-23T10:00:00Z"}),
            &[]
        )
        .is_none());
        assert!(run(json!({"a": "$choice:x|y$"}), json!({"a": "z"}), &[]).is_some());
        assert!(run(
            json!({"a": "$fragments:Ab|c$"}),
            json!({"a": "xxabyc"}),
            &[]
        )
        .is_none());
    }

    #[test]
    fn optional_items_and_properties() {
        let exp = json!({"$optional-properties$": ["b"], "a": [{"$optional$": true, "x": 1}, {"x": 2}], "b": 1});
        assert!(run(exp.clone(), json!({"a": [{"x": 2}]}), &[]).is_none());
        assert!(run(exp.clone(), json!({"a": [{"x": 1}, {"x": 2}], "b": 1}), &[]).is_none());
        assert!(run(exp.clone(), json!({"a": [{"x": 3}]}), &[]).is_some());
        assert!(
            run(exp, json!({"a": [{"x": 2}], "c": 1}), &[]).is_some(),
            "unexpected property"
        );
        let by_mode = json!({"a": [{"$optional$": "!tx.fhir.org", "x": 1}]});
        assert!(run(by_mode.clone(), json!({}), &["general"]).is_none());
        assert!(run(by_mode, json!({"a": []}), &["tx.fhir.org"]).is_some());
    }
}
