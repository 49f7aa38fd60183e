//! Bad input of every kind gets an OperationOutcome with the right status, never a
//! server error, and loses nothing.

use serde_json::json;

use crate::support::*;

const ACT: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

#[test]
fn unknown_system_and_unknown_code_are_not_found() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", "http://nowhere.test"), ("code", "x")],
        ),
        &[],
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.issue_code(), "not-found");
    assert!(r.body.contains("http://nowhere.test"));
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", "NOPE")],
        ),
        &[],
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.issue_code(), "not-found");
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$subsumes",
            &[("system", ACT), ("codeA", "AMB"), ("codeB", "NOPE")],
        ),
        &[],
    );
    assert_eq!(r.status, 404);
    let r = get(&format!("{}/CodeSystem/no-such-id", s.base), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.issue_code(), "not-found");
}

#[test]
fn missing_parameters_are_bad_requests() {
    let s = fixtures();
    for path in [
        "/CodeSystem/$lookup?system=x",
        "/CodeSystem/$lookup?code=x",
        "/CodeSystem/$validate-code?code=x",
        "/CodeSystem/$subsumes?codeA=x",
    ] {
        let r = get(&format!("{}{path}", s.base), &[]);
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert_eq!(r.issue_code(), "invalid");
    }
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$validate-code",
            &[("url", ACT), ("code", "AMB"), ("abstract", "maybe")],
        ),
        &[],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("true or false"));
}

#[test]
fn malformed_bodies_are_bad_requests() {
    let s = fixtures();
    let endpoint = format!("{}/CodeSystem/$lookup", s.base);
    for (ct, body) in [
        ("application/fhir+json", "{\"resourceType\": \"Parameters\", "),
        ("application/fhir+json", "[1, 2, 3]"),
        ("application/fhir+json", "{\"resourceType\": \"Patient\"}"),
        ("application/fhir+json", "{\"resourceType\": \"Parameters\", \"parameter\": {\"name\": \"code\"}}"),
        ("application/fhir+json", "{\"resourceType\": \"Parameters\", \"parameter\": [{\"valueCode\": \"x\"}]}"),
        ("application/fhir+json", "{\"resourceType\": \"Parameters\", \"parameter\": [{\"name\": \"coding\", \"valueCoding\": 3}]}"),
        ("application/fhir+xml", "<Parameters xmlns=\"http://hl7.org/fhir\"><parameter>"),
        ("application/fhir+xml", "not xml at all"),
    ] {
        let r = post(&endpoint, ct, body, &[]);
        assert_eq!(r.status, 400, "{ct} {body}: {}", r.body);
        assert_eq!(r.issue_code(), "invalid", "{body}");
    }
}

#[test]
fn wrong_media_types_are_refused() {
    let s = fixtures();
    let endpoint = format!("{}/CodeSystem/$lookup", s.base);
    let r = post(&endpoint, "text/plain", "system=x&code=y", &[]);
    assert_eq!(r.status, 415);
    assert_eq!(r.issue_code(), "not-supported");
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", "AMB")],
        ),
        &[("Accept", "image/png")],
    );
    assert_eq!(r.status, 406);
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", "AMB"), ("_format", "yaml")],
        ),
        &[],
    );
    assert_eq!(r.status, 406);
    // A browser's Accept still gets JSON.
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", "AMB")],
        ),
        &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    );
    assert_eq!(r.status, 200);
}

#[test]
fn oversized_bodies_are_refused_with_413() {
    let s = fixtures(); // limit: 1 MiB
    let big = format!(
        "{{\"resourceType\":\"Parameters\",\"parameter\":[{{\"name\":\"code\",\"valueCode\":\"{}\"}}]}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let r = post(
        &format!("{}/CodeSystem/$lookup", s.base),
        "application/fhir+json",
        &big,
        &[],
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.issue_code(), "too-costly");
}

#[test]
fn unsupported_operations_methods_and_paths() {
    let s = fixtures();
    let r = get(&format!("{}/CodeSystem/$frobnicate", s.base), &[]);
    assert_eq!(r.status, 501);
    assert_eq!(r.issue_code(), "not-supported");
    let r = get(&format!("{}/ConceptMap/$closure", s.base), &[]);
    assert_eq!(r.status, 501, "$closure is not implemented yet");
    let r = get(&format!("{}/$everything", s.base), &[]);
    assert_eq!(r.status, 501);
    let r = post(
        &format!("{}/CodeSystem/v3-ActCode", s.base),
        "application/fhir+json",
        "{}",
        &[],
    );
    assert_eq!(r.status, 405);
    let r = get(&format!("{}/Patient/1", s.base), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.issue_code(), "not-found");
    let r = get(&format!("{}/no/such/deep/path", s.root), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.issue_code(), "not-found");
}

/// Values that break naive SQL, parsers or renderers.
const NASTY: &[&str] = &[
    "' OR '1'='1",
    "x'; DROP TABLE concept; --",
    "\" OR \"\"=\"",
    "%' UNION SELECT resource FROM code_system --",
    "*",
    "\\",
    "NULL",
    "<script>alert(1)</script>",
    "AMB\u{0000}",
    "🙂",
    "",
];

#[test]
fn sql_metacharacters_in_every_parameter_are_just_data() {
    let s = fixtures();
    let cases: &[(&str, &[&str])] = &[
        (
            "/CodeSystem/$lookup",
            &[
                "system",
                "code",
                "version",
                "displayLanguage",
                "property",
                "coding",
            ],
        ),
        (
            "/CodeSystem/$validate-code",
            &[
                "url",
                "code",
                "version",
                "display",
                "displayLanguage",
                "coding",
                "codeableConcept",
                "abstract",
            ],
        ),
        (
            "/CodeSystem/$subsumes",
            &["system", "codeA", "codeB", "version", "codingA", "codingB"],
        ),
        (
            "/CodeSystem",
            &[
                "url", "name", "title", "status", "version", "_count", "_summary",
            ],
        ),
    ];
    let defaults: &[(&str, &str)] = &[
        ("system", ACT),
        ("url", ACT),
        ("code", "AMB"),
        ("codeA", "AMB"),
        ("codeB", "AMB"),
    ];
    for (path, names) in cases {
        for name in *names {
            for nasty in NASTY {
                let mut q: Vec<(&str, &str)> = defaults
                    .iter()
                    .filter(|(k, _)| k != name)
                    .copied()
                    .collect();
                q.push((name, nasty));
                let r = get(&url(&s.base, path, &q), &[]);
                assert!(
                    matches!(r.status, 200 | 400 | 404),
                    "{path} {name}={nasty:?}: {} {}",
                    r.status,
                    r.body
                );
                let v = r.json();
                assert!(
                    ["Parameters", "OperationOutcome", "Bundle"]
                        .contains(&v["resourceType"].as_str().unwrap()),
                    "{}",
                    r.body
                );
                assert!(
                    !r.body.contains("sqlite")
                        && !r.body.contains("SQL")
                        && !r.body.contains("/src/"),
                    "{}",
                    r.body
                );
            }
        }
    }
    // Nothing was harmed.
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", "AMB")],
        ),
        &[],
    );
    assert_eq!(
        param(&r.json(), "display").unwrap()["valueString"],
        "ambulatory"
    );
}

#[test]
fn very_long_values_in_every_parameter_are_refused_cleanly() {
    let s = fixtures();
    let long = "A".repeat(100_000);
    for (op, names) in [
        (
            "$lookup",
            vec!["system", "code", "version", "displayLanguage", "property"],
        ),
        (
            "$validate-code",
            vec!["url", "code", "version", "display", "displayLanguage"],
        ),
        ("$subsumes", vec!["system", "codeA", "codeB", "version"]),
    ] {
        for name in names {
            let mut list = vec![
                ("system", "valueUri", json!(ACT)),
                ("url", "valueUri", json!(ACT)),
            ];
            for c in ["code", "codeA", "codeB"] {
                list.push((c, "valueCode", json!("AMB")));
            }
            list.retain(|(n, _, _)| *n != name);
            list.push((name, "valueString", json!(long)));
            let r = post(
                &format!("{}/CodeSystem/{op}", s.base),
                "application/fhir+json",
                &parameters(&list),
                &[],
            );
            assert_eq!(
                r.status,
                400,
                "{op} {name}: {}",
                &r.body[..r.body.len().min(300)]
            );
            assert!(
                r.body.len() < 2_000,
                "the error does not echo the whole value"
            );
        }
        // In codings too, and in a query string.
        let coding = parameters(&[(
            "coding",
            "valueCoding",
            json!({"system": ACT, "code": long}),
        )]);
        let r = post(
            &format!("{}/CodeSystem/{op}", s.base),
            "application/fhir+json",
            &coding,
            &[],
        );
        assert_eq!(r.status, 400);
    }
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", &"B".repeat(6_000))],
        ),
        &[],
    );
    assert_eq!(r.status, 400, "{}", &r.body[..r.body.len().min(300)]);
    assert_eq!(r.issue_code(), "invalid");
}
