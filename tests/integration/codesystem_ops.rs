//! CodeSystem `$lookup`, `$validate-code` and `$subsumes` over HTTP: GET and POST, JSON
//! and XML, type and instance level.

use serde_json::json;

use crate::support::*;

const ACT: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const BODY: &str = "http://nomen.test/CodeSystem/body";

#[test]
fn lookup_get_returns_display_version_and_hierarchy() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", ACT), ("code", "AMB")],
        ),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.starts_with("application/fhir+json"));
    let p = r.json();
    assert_eq!(p["resourceType"], "Parameters");
    assert_eq!(param(&p, "display").unwrap()["valueString"], "ambulatory");
    assert_eq!(param(&p, "version").unwrap()["valueString"], "9.0.0");
    assert_eq!(param(&p, "name").unwrap()["valueString"], "ActCode");
    let props = lookup_properties(&p);
    assert!(
        props.contains(&("parent".into(), "_ActEncounterCode".into())),
        "{props:?}"
    );
    assert!(props.contains(&("inactive".into(), "false".into())));
}

#[test]
fn lookup_returns_every_property_type_designations_and_children() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart")],
        ),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let p = r.json();
    let props = lookup_properties(&p);
    for expected in [
        ("parent", "organ"),
        ("child", "heart-valve"),
        ("child", "cardiac-tissue"),
        ("weight", "0.31"),
        ("rank", "1"),
        ("paired", "false"),
        ("seeAlso", "80891009"),
        ("note", "Pumps blood"),
        ("reviewed", "2026-01-15"),
    ] {
        assert!(
            props.contains(&(expected.0.to_string(), expected.1.to_string())),
            "missing {expected:?} in {props:?}"
        );
    }
    let designations = params(&p, "designation");
    let values: Vec<&str> = designations
        .iter()
        .flat_map(|d| d["part"].as_array().unwrap())
        .filter(|part| part["name"] == "value")
        .map(|part| part["valueString"].as_str().unwrap())
        .collect();
    // The code system's own display comes last, as a designation in its language.
    assert_eq!(values, vec!["Širdis", "Sirds", "Heart"]);
    // The decimal stays a JSON number, the integer an integer.
    let weight = params(&p, "property")
        .into_iter()
        .find(|x| x["part"][0]["valueCode"] == "weight")
        .unwrap();
    assert_eq!(weight["part"][1]["valueDecimal"], json!(0.31));
}

#[test]
fn lookup_property_parameter_limits_the_properties() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart"), ("property", "parent")],
        ),
        &[],
    );
    let props = lookup_properties(&r.json());
    assert_eq!(props, vec![("parent".to_string(), "organ".to_string())]);
}

#[test]
fn lookup_display_language_from_parameter_and_header() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[
                ("system", BODY),
                ("code", "heart"),
                ("displayLanguage", "lt"),
            ],
        ),
        &[],
    );
    assert_eq!(
        param(&r.json(), "display").unwrap()["valueString"],
        "Širdis"
    );
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart")],
        ),
        &[("Accept-Language", "lv-LV, en;q=0.5")],
    );
    assert_eq!(param(&r.json(), "display").unwrap()["valueString"], "Heart");
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart")],
        ),
        &[("Accept-Language", "lv")],
    );
    assert_eq!(param(&r.json(), "display").unwrap()["valueString"], "Sirds");
}

#[test]
fn lookup_post_json_with_coding_and_xml_both_ways() {
    let s = fixtures();
    let body = parameters(&[(
        "coding",
        "valueCoding",
        json!({"system": ACT, "code": "AMB"}),
    )]);
    let r = post(
        &format!("{}/CodeSystem/$lookup", s.base),
        "application/fhir+json",
        &body,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        param(&r.json(), "display").unwrap()["valueString"],
        "ambulatory"
    );

    let xml = format!(
        r#"<Parameters xmlns="http://hl7.org/fhir">
             <parameter><name value="system"/><valueUri value="{ACT}"/></parameter>
             <parameter><name value="code"/><valueCode value="AMB"/></parameter>
           </Parameters>"#
    );
    let r = post(
        &format!("{}/CodeSystem/$lookup", s.base),
        "application/fhir+xml",
        &xml,
        &[("Accept", "application/fhir+xml")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.starts_with("application/fhir+xml"));
    assert!(
        r.body.contains(r#"<valueString value="ambulatory"/>"#),
        "{}",
        r.body
    );
}

#[test]
fn lookup_instance_level_uses_the_code_system_of_the_id() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/nomen-test-body/$lookup",
            &[("code", "lung")],
        ),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(param(&r.json(), "display").unwrap()["valueString"], "Lung");
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/nomen-test-body-v1/$lookup",
            &[("code", "heart")],
        ),
        &[],
    );
    assert_eq!(
        param(&r.json(), "display").unwrap()["valueString"],
        "Heart (version 1)"
    );
}

#[test]
fn lookup_versions_side_by_side() {
    let s = fixtures();
    let latest = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart")],
        ),
        &[],
    );
    assert_eq!(
        param(&latest.json(), "version").unwrap()["valueString"],
        "2.0.0"
    );
    let old = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart"), ("version", "1.0.0")],
        ),
        &[],
    );
    assert_eq!(
        param(&old.json(), "display").unwrap()["valueString"],
        "Heart (version 1)"
    );
    let missing = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart"), ("version", "9")],
        ),
        &[],
    );
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("Valid versions: 2.0.0, 1.0.0"),
        "{}",
        missing.body
    );
}

#[test]
fn validate_code_good_bad_and_wrong_display() {
    let s = fixtures();
    let v = |extra: &[(&str, &str)]| {
        let mut q = vec![("url", ACT)];
        q.extend_from_slice(extra);
        let r = get(&url(&s.base, "/CodeSystem/$validate-code", &q), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let good = v(&[("code", "AMB")]);
    assert_eq!(param(&good, "result").unwrap()["valueBoolean"], true);
    assert_eq!(
        param(&good, "display").unwrap()["valueString"],
        "ambulatory"
    );
    assert!(param(&good, "issues").is_none());

    let bad = v(&[("code", "NOPE")]);
    assert_eq!(param(&bad, "result").unwrap()["valueBoolean"], false);
    assert_eq!(
        param(&bad, "message").unwrap()["valueString"],
        format!("Unknown code 'NOPE' in the CodeSystem '{ACT}' version '9.0.0'")
    );
    let issue = &param(&bad, "issues").unwrap()["resource"]["issue"][0];
    assert_eq!(issue["code"], "code-invalid");
    assert_eq!(issue["details"]["coding"][0]["code"], "invalid-code");
    assert_eq!(issue["expression"][0], "code");

    let wrong = v(&[("code", "AMB"), ("display", "Ambulance")]);
    assert_eq!(param(&wrong, "result").unwrap()["valueBoolean"], false);
    assert_eq!(
        param(&wrong, "message").unwrap()["valueString"],
        format!("Wrong Display Name 'Ambulance' for {ACT}#AMB. Valid display is 'ambulatory' (en) (for the language(s) '--')")
    );
    let right = v(&[("code", "AMB"), ("display", "ambulatory")]);
    assert_eq!(param(&right, "result").unwrap()["valueBoolean"], true);
}

#[test]
fn validate_code_accepts_designations_and_reports_choices() {
    let s = fixtures();
    let q = |display: &str| {
        get(
            &url(
                &s.base,
                "/CodeSystem/$validate-code",
                &[("url", BODY), ("code", "heart"), ("display", display)],
            ),
            &[],
        )
        .json()
    };
    assert_eq!(param(&q("Širdis"), "result").unwrap()["valueBoolean"], true);
    let wrong = q("Hart");
    assert_eq!(
        param(&wrong, "message").unwrap()["valueString"],
        format!("Wrong Display Name 'Hart' for {BODY}#heart. Valid display is one of 3 choices: 'Heart' (en), 'Širdis' (lt) or 'Sirds' (lv) (for the language(s) '--')")
    );
}

#[test]
fn validate_code_coding_and_codeable_concept_by_post() {
    let s = fixtures();
    let endpoint = format!("{}/CodeSystem/$validate-code", s.base);
    let body = parameters(&[(
        "coding",
        "valueCoding",
        json!({"system": BODY, "code": "lung", "display": "Lung"}),
    )]);
    let r = post(&endpoint, "application/fhir+json", &body, &[]);
    assert_eq!(
        param(&r.json(), "result").unwrap()["valueBoolean"],
        true,
        "{}",
        r.body
    );

    let body = parameters(&[(
        "codeableConcept",
        "valueCodeableConcept",
        json!({"coding": [{"system": BODY, "code": "nope"}, {"system": BODY, "code": "kidney"}]}),
    )]);
    let r = post(&endpoint, "application/fhir+json", &body, &[]);
    let p = r.json();
    assert_eq!(
        param(&p, "result").unwrap()["valueBoolean"],
        true,
        "{}",
        r.body
    );
    assert_eq!(param(&p, "code").unwrap()["valueCode"], "kidney");
    let issue = &param(&p, "issues").unwrap()["resource"]["issue"][0];
    assert_eq!(issue["expression"][0], "CodeableConcept.coding[0].code");
}

#[test]
fn validate_code_unknown_system_and_version() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$validate-code",
            &[("url", "http://nowhere.test/cs"), ("code", "x")],
        ),
        &[],
    );
    assert_eq!(r.status, 200);
    let p = r.json();
    assert_eq!(param(&p, "result").unwrap()["valueBoolean"], false);
    assert_eq!(
        param(&p, "message").unwrap()["valueString"],
        "A definition for CodeSystem 'http://nowhere.test/cs' could not be found, so the code cannot be validated"
    );
    assert_eq!(
        param(&p, "x-caused-by-unknown-system").unwrap()["valueCanonical"],
        "http://nowhere.test/cs"
    );
    assert_eq!(
        param(&p, "issues").unwrap()["resource"]["issue"][0]["code"],
        "not-found"
    );

    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$validate-code",
            &[("url", BODY), ("version", "7"), ("code", "heart")],
        ),
        &[],
    );
    let p = r.json();
    assert_eq!(param(&p, "result").unwrap()["valueBoolean"], false);
    assert!(param(&p, "message").unwrap()["valueString"]
        .as_str()
        .unwrap()
        .ends_with("Valid versions: 1.0.0 or 2.0.0"));
}

#[test]
fn validate_code_abstract_inactive_and_case() {
    let s = fixtures();
    let v = |q: &[(&str, &str)]| get(&url(&s.base, "/CodeSystem/$validate-code", q), &[]).json();
    let abstract_ok = v(&[("url", BODY), ("code", "body")]);
    assert_eq!(param(&abstract_ok, "result").unwrap()["valueBoolean"], true);
    let abstract_refused = v(&[("url", BODY), ("code", "body"), ("abstract", "false")]);
    assert_eq!(
        param(&abstract_refused, "result").unwrap()["valueBoolean"],
        false
    );

    let inactive = v(&[("url", BODY), ("code", "old-organ")]);
    assert_eq!(param(&inactive, "result").unwrap()["valueBoolean"], true);
    assert_eq!(param(&inactive, "inactive").unwrap()["valueBoolean"], true);
    let issue = &param(&inactive, "issues").unwrap()["resource"]["issue"][0];
    assert_eq!(issue["severity"], "warning");

    let ci = "http://nomen.test/CodeSystem/case-insensitive";
    let case = v(&[("url", ci), ("code", "abc")]);
    assert_eq!(param(&case, "result").unwrap()["valueBoolean"], true);
    assert_eq!(param(&case, "normalized-code").unwrap()["valueCode"], "ABC");
    let sensitive = v(&[("url", BODY), ("code", "HEART")]);
    assert_eq!(param(&sensitive, "result").unwrap()["valueBoolean"], false);
}

#[test]
fn subsumes_every_outcome_from_the_closure() {
    let s = fixtures();
    let outcome = |a: &str, b: &str| {
        let r = get(
            &url(
                &s.base,
                "/CodeSystem/$subsumes",
                &[("system", BODY), ("codeA", a), ("codeB", b)],
            ),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        param(&r.json(), "outcome").unwrap()["valueCode"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(outcome("body", "heart-valve"), "subsumes");
    assert_eq!(outcome("heart-valve", "organ"), "subsumed-by");
    assert_eq!(outcome("heart", "heart"), "equivalent");
    assert_eq!(outcome("lung", "heart"), "not-subsumed");
    // Polyhierarchy from parent properties: cardiac tissue is under tissue and heart.
    assert_eq!(outcome("tissue", "cardiac-tissue"), "subsumes");
    assert_eq!(outcome("organ", "cardiac-tissue"), "subsumes");
    assert_eq!(outcome("cardiac-tissue", "kidney"), "not-subsumed");
}

#[test]
fn subsumes_with_codings_by_post_and_in_xml() {
    let s = fixtures();
    let body = parameters(&[
        (
            "codingA",
            "valueCoding",
            json!({"system": ACT, "code": "_ActEncounterCode"}),
        ),
        (
            "codingB",
            "valueCoding",
            json!({"system": ACT, "code": "AMB"}),
        ),
    ]);
    let r = post(
        &format!("{}/CodeSystem/$subsumes?_format=xml", s.base),
        "application/fhir+json",
        &body,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(r#"<valueCode value="subsumes"/>"#),
        "{}",
        r.body
    );

    let mixed = parameters(&[
        (
            "codingA",
            "valueCoding",
            json!({"system": ACT, "code": "AMB"}),
        ),
        (
            "codingB",
            "valueCoding",
            json!({"system": BODY, "code": "heart"}),
        ),
    ]);
    let r = post(
        &format!("{}/CodeSystem/$subsumes", s.base),
        "application/fhir+json",
        &mixed,
        &[],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.issue_code(), "invalid");
}

#[test]
fn subsumes_refuses_a_hierarchy_that_is_not_is_a() {
    let s = fixtures();
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$subsumes",
            &[
                ("system", "http://nomen.test/CodeSystem/part-of"),
                ("codeA", "car"),
                ("codeB", "wheel"),
            ],
        ),
        &[],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.issue_code(), "not-supported");
}

#[test]
fn subsumes_instance_level_and_form_post() {
    let s = fixtures();
    let r = post(
        &format!("{}/CodeSystem/nomen-test-body/$subsumes", s.base),
        "application/x-www-form-urlencoded",
        "codeA=organ&codeB=lung",
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        param(&r.json(), "outcome").unwrap()["valueCode"],
        "subsumes"
    );
}
