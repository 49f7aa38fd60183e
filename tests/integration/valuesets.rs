//! ValueSet `$expand` and `$validate-code` over HTTP, against value sets over a hierarchy
//! whose answers are known (tests/data/valuesets.json over codesystem-body-sites.json):
//!
//! ```text
//! body ─┬─ organ ─┬─ heart ─┬─ heart-valve
//!       │         │         └─ cardiac-tissue (also under tissue)
//!       │         ├─ lung, kidney
//!       │         └─ old-organ (retired; also directly under body)
//!       └─ tissue ── cardiac-tissue
//! ```

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::support::*;

const BODY: &str = "http://nomen.test/CodeSystem/body";

fn expand(q: &[(&str, &str)]) -> Reply {
    get(&url(&fixtures().base, "/ValueSet/$expand", q), &[])
}

/// POSTs a Parameters body to `ValueSet/$expand`.
fn post_expand(body: &str) -> Reply {
    post(
        &format!("{}/ValueSet/$expand", fixtures().base),
        "application/fhir+json",
        body,
        &[],
    )
}

fn codes(vs: &Value) -> Vec<String> {
    crate::support::expansion_codes(vs)
}

fn expanded(id: &str) -> Vec<String> {
    let r = expand(&[("url", &format!("http://nomen.test/ValueSet/{id}"))]);
    assert_eq!(r.status, 200, "{id}: {}", r.body);
    let mut c = codes(&r.json());
    c.sort();
    c
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn every_filter_operator_selects_what_the_hierarchy_says() {
    let all = [
        "body",
        "organ",
        "heart",
        "heart-valve",
        "lung",
        "kidney",
        "tissue",
        "old-organ",
        "cardiac-tissue",
    ];
    let cases: &[(&str, Vec<&str>)] = &[
        ("body-all", all.to_vec()),
        (
            "body-active",
            all.iter().copied().filter(|c| *c != "old-organ").collect(),
        ),
        (
            "isa-organ",
            vec![
                "organ",
                "heart",
                "heart-valve",
                "lung",
                "kidney",
                "old-organ",
                "cardiac-tissue",
            ],
        ),
        (
            "descendent-of-organ",
            vec![
                "heart",
                "heart-valve",
                "lung",
                "kidney",
                "old-organ",
                "cardiac-tissue",
            ],
        ),
        ("is-not-a-organ", vec!["body", "tissue"]),
        (
            "generalizes-valve",
            vec!["heart-valve", "heart", "organ", "body"],
        ),
        (
            "child-of-organ",
            vec!["heart", "lung", "kidney", "old-organ"],
        ),
        (
            "leaf-organ",
            vec![
                "heart-valve",
                "lung",
                "kidney",
                "old-organ",
                "cardiac-tissue",
            ],
        ),
        ("paired", vec!["lung"]),
        ("in-list", vec!["heart", "lung"]),
        (
            "not-in-list",
            all.iter()
                .copied()
                .filter(|c| !["heart", "lung"].contains(c))
                .collect(),
        ),
        ("regex-code", vec!["heart", "heart-valve"]),
        ("regex-display", vec!["tissue", "cardiac-tissue"]),
        ("has-see-also", vec!["heart"]),
        (
            "no-see-also",
            all.iter().copied().filter(|c| *c != "heart").collect(),
        ),
        ("retired", vec!["old-organ"]),
        ("inactive", vec!["old-organ"]),
        ("isa-organ-and-paired", vec!["heart"]),
        ("listed", vec!["lung", "kidney"]),
        (
            "nested",
            vec![
                "organ",
                "heart-valve",
                "lung",
                "kidney",
                "old-organ",
                "cardiac-tissue",
            ],
        ),
    ];
    for (id, expected) in cases {
        assert_eq!(expanded(id), sorted(expected), "{id}");
    }
}

#[test]
fn expansion_records_parameters_used_code_system_and_flags() {
    let r = expand(&[
        ("url", "http://nomen.test/ValueSet/isa-organ"),
        ("excludeNested", "true"),
    ]);
    let vs = r.json();
    assert_eq!(vs["resourceType"], "ValueSet");
    assert_eq!(vs["expansion"]["total"], 7);
    let params = vs["expansion"]["parameter"].as_array().unwrap();
    assert!(
        params.contains(&json!({"name": "used-codesystem", "valueUri": format!("{BODY}|2.0.0")})),
        "{params:?}"
    );
    // Shaping parameters are echoed as given; others (url) are not.
    assert!(params.contains(&json!({"name": "excludeNested", "valueBoolean": true})));
    assert!(!params.iter().any(|p| p["name"] == "url"), "{params:?}");
    assert!(
        vs["expansion"].get("offset").is_none(),
        "offset only when paging"
    );
    let contains = vs["expansion"]["contains"].as_array().unwrap();
    let old = contains.iter().find(|c| c["code"] == "old-organ").unwrap();
    assert_eq!(old["inactive"], true);
    let all = expand(&[("url", "http://nomen.test/ValueSet/body-all")]).json();
    let body = all["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "body")
        .unwrap()
        .clone();
    assert_eq!(body["abstract"], true);
    assert!(vs["expansion"]["identifier"]
        .as_str()
        .unwrap()
        .starts_with("urn:uuid:"));
}

#[test]
fn unsupported_filters_and_broken_value_sets_are_errors_not_empty_matches() {
    for (id, status, code) in [
        ("bad-op", 400, "not-supported"),
        ("bad-property", 400, "not-supported"),
        ("isa-on-property", 400, "not-supported"),
        ("bad-regex", 400, "invalid"),
        ("cycle-a", 400, "processing"),
        ("unknown-system", 404, "not-found"),
    ] {
        let r = expand(&[("url", &format!("http://nomen.test/ValueSet/{id}"))]);
        assert_eq!(r.status, status, "{id}: {}", r.body);
        assert_eq!(r.issue_code(), code, "{id}");
    }
    let r = expand(&[("url", "http://nomen.test/ValueSet/cycle-a")]);
    assert!(r.body.contains("Found a circularity"), "{}", r.body);
    assert!(r.body.contains("VALUESET_CIRCULAR_REFERENCE"), "{}", r.body);
    let r = expand(&[("url", "http://nomen.test/ValueSet/nope")]);
    assert_eq!(r.status, 404);
}

#[test]
fn paging_concatenates_to_the_whole_expansion_without_duplicates() {
    let act = "http://terminology.hl7.org/ValueSet/v3-ActCode";
    // Beyond the unpaged limit (1,000 codes) the whole expansion is one large page.
    let whole = expand(&[("url", act), ("count", "5000")]).json();
    let total = whole["expansion"]["total"].as_u64().unwrap() as usize;
    assert!(total > 1000);
    let unpaged = expand(&[("url", act)]);
    assert_eq!(unpaged.status, 422, "{}", unpaged.body);
    assert!(unpaged.body.contains("VALUESET_TOO_COSTLY"));
    let mut paged = Vec::new();
    let mut offset = 0;
    while offset < total {
        let page = expand(&[
            ("url", act),
            ("offset", &offset.to_string()),
            ("count", "100"),
        ])
        .json();
        assert_eq!(page["expansion"]["total"].as_u64().unwrap() as usize, total);
        assert_eq!(
            page["expansion"]["offset"].as_u64().unwrap() as usize,
            offset
        );
        paged.extend(codes(&page));
        offset += 100;
    }
    assert_eq!(paged, codes(&whole));
    assert_eq!(paged.iter().collect::<HashSet<_>>().len(), total);
}

#[test]
fn expansions_beyond_the_limit_need_paging() {
    let s = start(
        &nomen::http::HttpSettings {
            expansion_limit: 100,
            workers: 1,
            ..Default::default()
        },
        |store| nomen::fixtures::load_if_empty(store).unwrap(),
    );
    let act = "http://terminology.hl7.org/ValueSet/v3-ActCode";
    let r = get(&url(&s.base, "/ValueSet/$expand", &[("url", act)]), &[]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.issue_code(), "too-costly");
    let r = get(
        &url(
            &s.base,
            "/ValueSet/$expand",
            &[("url", act), ("count", "50")],
        ),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(codes(&r.json()).len(), 50);
}

#[test]
fn text_filter_matches_word_prefixes_ignoring_case_and_accents() {
    let all = "http://nomen.test/ValueSet/body-all";
    let f = |text: &str| {
        let mut c = codes(&expand(&[("url", all), ("filter", text)]).json());
        c.sort();
        c
    };
    assert_eq!(f("sirdies"), vec!["heart-valve"]);
    assert_eq!(f("ŠIRD"), vec!["heart", "heart-valve"]);
    assert_eq!(f("vozt"), vec!["heart-valve"]);
    assert_eq!(f("card tis"), vec!["cardiac-tissue"]);
    assert!(f("zzz").is_empty());
    let r = expand(&[("url", all), ("filter", "sird"), ("_format", "xml")]);
    assert!(r.body.contains("<total value=\"2\"/>"), "{}", r.body);
}

#[test]
fn designations_display_language_and_definitions() {
    let all = "http://nomen.test/ValueSet/body-all";
    let vs = expand(&[
        ("url", all),
        ("displayLanguage", "lt"),
        ("includeDesignations", "true"),
        ("property", "definition"),
    ])
    .json();
    let contains = vs["expansion"]["contains"].as_array().unwrap();
    let heart = contains.iter().find(|c| c["code"] == "heart").unwrap();
    assert_eq!(heart["display"], "Širdis");
    assert_eq!(heart["designation"].as_array().unwrap().len(), 2);
    let body = contains.iter().find(|c| c["code"] == "body").unwrap();
    // R5's contains.property, in R4's cross-version extension.
    let property = &body["extension"][0];
    assert!(property["url"]
        .as_str()
        .unwrap()
        .ends_with("extension-ValueSet.expansion.contains.property"));
    assert_eq!(property["extension"][0]["valueCode"], "definition");
    assert_eq!(
        property["extension"][1]["valueString"],
        "Any structure of the body"
    );
    let r = get(
        &url(&fixtures().base, "/ValueSet/$expand", &[("url", all)]),
        &[("Accept-Language", "lv")],
    );
    let heart = r.json()["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "heart")
        .unwrap()
        .clone();
    assert_eq!(heart["display"], "Sirds");
}

#[test]
fn inline_value_sets_and_instance_level_expansion() {
    let s = fixtures();
    let inline = json!({"resourceType": "ValueSet", "url": "http://nomen.test/ValueSet/inline", "status": "draft",
        "compose": {"include": [{"system": BODY, "filter": [{"property": "concept", "op": "child-of", "value": "heart"}]}]}});
    let body = parameters(&[("valueSet", "resource", inline)]);
    let r = post_expand(&body);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut c = codes(&r.json());
    c.sort();
    assert_eq!(c, vec!["cardiac-tissue", "heart-valve"]);
    let r = get(&url(&s.base, "/ValueSet/listed/$expand", &[]), &[]);
    assert_eq!(codes(&r.json()), vec!["lung", "kidney"]);
}

#[test]
fn validate_code_checks_membership_without_expanding() {
    let s = fixtures();
    let v = |vs: &str, code: &str| {
        let r = get(
            &url(
                &s.base,
                "/ValueSet/$validate-code",
                &[
                    ("url", &format!("http://nomen.test/ValueSet/{vs}")),
                    ("system", BODY),
                    ("code", code),
                ],
            ),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    assert_eq!(
        param(&v("isa-organ", "cardiac-tissue"), "result").unwrap()["valueBoolean"],
        true
    );
    assert_eq!(
        param(&v("isa-organ", "organ"), "result").unwrap()["valueBoolean"],
        true
    );
    let no = v("isa-organ", "tissue");
    assert_eq!(param(&no, "result").unwrap()["valueBoolean"], false);
    assert_eq!(
        param(&no, "message").unwrap()["valueString"],
        format!("The provided code '{BODY}#tissue' was not found in the value set 'http://nomen.test/ValueSet/isa-organ|1'")
    );
    assert_eq!(
        param(&no, "issues").unwrap()["resource"]["issue"][0]["details"]["coding"][0]["code"],
        "not-in-vs"
    );
    assert_eq!(
        param(&v("nested", "heart"), "result").unwrap()["valueBoolean"],
        false,
        "excluded"
    );
    assert_eq!(
        param(&v("nested", "lung"), "result").unwrap()["valueBoolean"],
        true
    );
    assert_eq!(
        param(&v("descendent-of-organ", "organ"), "result").unwrap()["valueBoolean"],
        false
    );
    assert_eq!(
        param(&v("generalizes-valve", "heart"), "result").unwrap()["valueBoolean"],
        true
    );
    assert_eq!(
        param(&v("paired", "lung"), "result").unwrap()["valueBoolean"],
        true
    );
    assert_eq!(
        param(&v("body-active", "old-organ"), "result").unwrap()["valueBoolean"],
        false
    );
    // Membership agrees with expansion for every value set and every code.
    for id in [
        "isa-organ",
        "descendent-of-organ",
        "is-not-a-organ",
        "generalizes-valve",
        "child-of-organ",
        "leaf-organ",
        "in-list",
        "not-in-list",
        "regex-code",
        "nested",
        "listed",
        "body-active",
    ] {
        let members: HashSet<String> = expanded(id).into_iter().collect();
        for code in [
            "body",
            "organ",
            "heart",
            "heart-valve",
            "lung",
            "kidney",
            "tissue",
            "old-organ",
            "cardiac-tissue",
        ] {
            let result = param(&v(id, code), "result").unwrap()["valueBoolean"]
                .as_bool()
                .unwrap();
            assert_eq!(result, members.contains(code), "{id} {code}");
        }
    }
    let cc = parameters(&[
        (
            "url",
            "valueUri",
            json!("http://nomen.test/ValueSet/child-of-organ"),
        ),
        (
            "codeableConcept",
            "valueCodeableConcept",
            json!({"coding": [{"system": BODY, "code": "tissue"}, {"system": BODY, "code": "kidney", "display": "Kidney"}]}),
        ),
    ]);
    let r = post(
        &format!("{}/ValueSet/$validate-code", s.base),
        "application/fhir+json",
        &cc,
        &[],
    );
    assert_eq!(
        param(&r.json(), "result").unwrap()["valueBoolean"],
        true,
        "{}",
        r.body
    );
    let r = get(
        &url(
            &s.base,
            "/ValueSet/$validate-code",
            &[
                ("url", "http://nomen.test/ValueSet/nope"),
                ("system", BODY),
                ("code", "x"),
            ],
        ),
        &[],
    );
    assert_eq!(r.status, 404);
}

#[test]
fn not_for_ui_properties_and_version_rules() {
    let all = "http://nomen.test/ValueSet/body-all";
    let vs = expand(&[("url", all), ("excludeNotForUI", "true")]).json();
    assert!(!codes(&vs).contains(&"body".to_string()));
    assert_eq!(vs["expansion"]["total"], 8);

    let vs = expand(&[("url", all), ("property", "paired")]).json();
    let lung = vs["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "lung")
        .unwrap()
        .clone();
    assert_eq!(
        lung["extension"][0]["extension"],
        json!([{"url": "code", "valueCode": "paired"}, {"url": "value", "valueBoolean": true}])
    );

    // The value set names no version: system-version picks one, force-system-version too.
    for name in ["system-version", "force-system-version"] {
        let vs = expand(&[("url", all), (name, &format!("{BODY}|1.0.0"))]).json();
        assert_eq!(codes(&vs), vec!["body", "heart"], "{name}");
        let used = vs["expansion"]["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "used-codesystem")
            .unwrap()
            .clone();
        assert_eq!(used["valueUri"], format!("{BODY}|1.0.0"));
    }
    // A value set pinned to 2.0.0: force wins, check refuses.
    let pinned = json!({"resourceType": "ValueSet", "url": "http://nomen.test/ValueSet/pinned", "status": "draft",
        "compose": {"include": [{"system": BODY, "version": "2.0.0", "concept": [{"code": "heart"}]}]}});
    let endpoint = format!("{}/ValueSet/$expand", fixtures().base);
    let forced = parameters(&[
        ("valueSet", "resource", pinned.clone()),
        (
            "force-system-version",
            "valueCanonical",
            json!(format!("{BODY}|1.0.0")),
        ),
    ]);
    let r = post(&endpoint, "application/fhir+json", &forced, &[]);
    assert_eq!(
        r.json()["expansion"]["contains"][0]["display"],
        "Heart (version 1)",
        "{}",
        r.body
    );
    let checked = parameters(&[
        ("valueSet", "resource", pinned),
        (
            "check-system-version",
            "valueCanonical",
            json!(format!("{BODY}|1.0.0")),
        ),
    ]);
    let r = post(&endpoint, "application/fhir+json", &checked, &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("VALUESET_VERSION_CHECK"), "{}", r.body);

    let vs = expand(&[("url", all), ("exclude-system", BODY)]).json();
    assert_eq!(vs["expansion"]["total"], 0);
}

#[test]
fn tx_resources_are_used_for_that_request_only() {
    let s = fixtures();
    let cs = json!({"resourceType": "CodeSystem", "id": "tx-only", "url": "http://nomen.test/CodeSystem/tx-only",
        "version": "1", "status": "draft", "content": "complete",
        "concept": [{"code": "a", "display": "Alpha", "concept": [{"code": "b", "display": "Beta"}]}]});
    let vs = json!({"resourceType": "ValueSet", "url": "http://nomen.test/ValueSet/tx-mixed", "status": "draft",
    "compose": {"include": [
        {"system": "http://nomen.test/CodeSystem/tx-only", "filter": [{"property": "concept", "op": "is-a", "value": "a"}]},
        {"system": BODY, "concept": [{"code": "lung"}]}
    ]}});
    let body = parameters(&[
        (
            "url",
            "valueUri",
            json!("http://nomen.test/ValueSet/tx-mixed"),
        ),
        ("tx-resource", "resource", cs.clone()),
        ("tx-resource", "resource", vs),
    ]);
    let r = post_expand(&body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(codes(&r.json()), vec!["a", "b", "lung"]);

    let lookup = parameters(&[
        (
            "system",
            "valueUri",
            json!("http://nomen.test/CodeSystem/tx-only"),
        ),
        ("code", "valueCode", json!("b")),
        ("tx-resource", "resource", cs),
    ]);
    let r = post(
        &format!("{}/CodeSystem/$lookup", s.base),
        "application/fhir+json",
        &lookup,
        &[],
    );
    assert_eq!(
        param(&r.json(), "display").unwrap()["valueString"],
        "Beta",
        "{}",
        r.body
    );

    // Nobody else sees them.
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[
                ("system", "http://nomen.test/CodeSystem/tx-only"),
                ("code", "b"),
            ],
        ),
        &[],
    );
    assert_eq!(r.status, 404);

    // A tx-resource with a stored url|version wins for its request, and only there.
    let revised = json!({"resourceType": "CodeSystem", "url": BODY, "version": "2.0.0", "status": "draft",
        "content": "complete", "concept": [{"code": "heart", "display": "Heart (request copy)"}]});
    let body = parameters(&[
        ("system", "valueUri", json!(BODY)),
        ("code", "valueCode", json!("heart")),
        ("tx-resource", "resource", revised),
    ]);
    let r = post(
        &format!("{}/CodeSystem/$lookup", s.base),
        "application/fhir+json",
        &body,
        &[],
    );
    assert_eq!(
        param(&r.json(), "display").unwrap()["valueString"],
        "Heart (request copy)"
    );
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[("system", BODY), ("code", "heart")],
        ),
        &[],
    );
    assert_eq!(param(&r.json(), "display").unwrap()["valueString"], "Heart");

    let bad = parameters(&[
        ("system", "valueUri", json!(BODY)),
        ("code", "valueCode", json!("heart")),
        (
            "tx-resource",
            "resource",
            json!({"resourceType": "Patient"}),
        ),
    ]);
    let r = post(
        &format!("{}/CodeSystem/$lookup", s.base),
        "application/fhir+json",
        &bad,
        &[],
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("tx-resource"), "{}", r.body);
}

#[test]
fn expansions_as_of_a_date_and_chosen_designations() {
    let all = "http://nomen.test/ValueSet/body-all";
    let vs = expand(&[("url", all), ("date", "2025-06-01")]).json();
    assert_eq!(
        codes(&vs),
        vec!["body", "heart"],
        "version 1.0.0 was current then"
    );
    let vs = expand(&[("url", all), ("date", "2026-12-31")]).json();
    assert_eq!(vs["expansion"]["total"], 9);
    let r = expand(&[("url", all), ("date", "2024-01-01")]);
    assert_eq!(r.status, 404, "{}", r.body);

    let locked = json!({"resourceType": "ValueSet", "url": "http://nomen.test/ValueSet/locked", "status": "draft",
        "compose": {"lockedDate": "2025-02-01", "include": [{"system": BODY}]}});
    let body = parameters(&[("valueSet", "resource", locked)]);
    let r = post_expand(&body);
    assert_eq!(codes(&r.json()), vec!["body", "heart"], "{}", r.body);

    let designations = |token: &str, code: &str| -> Vec<String> {
        let vs = expand(&[("url", all), ("designation", token)]).json();
        let c = vs["expansion"]["contains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .unwrap()
            .clone();
        c["designation"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| d["value"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(designations("lt", "heart"), vec!["Širdis"]);
    assert_eq!(designations("lv", "heart"), vec!["Sirds"]);
    assert_eq!(
        designations("http://snomed.info/sct|900000000000013009", "organ"),
        vec!["Organas"]
    );
    assert!(designations("http://snomed.info/sct|900000000000013009", "heart").is_empty());
}

#[test]
fn implicit_value_sets_of_a_code_system() {
    for url in [
        "http://nomen.test/CodeSystem/body?fhir_vs",
        "http://nomen.test/ValueSet/body-implicit",
    ] {
        let r = expand(&[("url", url)]);
        assert_eq!(r.status, 200, "{url}: {}", r.body);
        let vs = r.json();
        assert_eq!(vs["expansion"]["total"], 9, "{url}");
        let params = vs["expansion"]["parameter"].as_array().unwrap();
        assert!(params
            .contains(&json!({"name": "used-codesystem", "valueUri": format!("{BODY}|2.0.0")})));
    }
    let r = get(
        &url(
            &fixtures().base,
            "/ValueSet/$validate-code",
            &[
                ("url", "http://nomen.test/CodeSystem/body?fhir_vs"),
                ("system", BODY),
                ("code", "lung"),
            ],
        ),
        &[],
    );
    assert_eq!(
        param(&r.json(), "result").unwrap()["valueBoolean"],
        true,
        "{}",
        r.body
    );
    assert_eq!(
        expand(&[("url", "http://nowhere.test/cs?fhir_vs")]).status,
        404
    );
}

#[test]
fn validate_code_as_of_a_date() {
    let v = |code: &str, date: &str| {
        let q = [
            ("url", "http://nomen.test/ValueSet/body-all"),
            ("system", BODY),
            ("code", code),
            ("date", date),
        ];
        get(&url(&fixtures().base, "/ValueSet/$validate-code", &q), &[]).json()
    };
    let old = v("heart", "2025-06-01");
    assert_eq!(param(&old, "result").unwrap()["valueBoolean"], true);
    assert_eq!(
        param(&old, "display").unwrap()["valueString"],
        "Heart (version 1)"
    );
    assert_eq!(
        param(&v("lung", "2025-06-01"), "result").unwrap()["valueBoolean"],
        false
    );
    assert_eq!(
        param(&v("lung", "2026-06-01"), "result").unwrap()["valueBoolean"],
        true
    );
}

/// A value set that is one code system's tree comes back nested, as tx.fhir.org returns
/// it (and the HL7 suite expects); `excludeNested=true` and paging give a flat list, and
/// a polyhierarchy (cardiac-tissue under heart and tissue) is never nested.
#[test]
fn tree_expansions_nest_unless_asked_flat_or_paged() {
    let all = "http://nomen.test/ValueSet/body-all";
    let version = format!("{BODY}|1.0.0");
    let top = |vs: &Value| -> Vec<String> {
        vs["expansion"]["contains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };

    // Version 1.0.0 is a tree: heart under body.
    let nested = expand(&[("url", all), ("system-version", &version)]).json();
    assert_eq!(top(&nested), vec!["body"]);
    assert_eq!(
        nested["expansion"]["contains"][0]["contains"][0]["code"],
        "heart"
    );
    assert_eq!(nested["expansion"]["total"], 2, "total counts every code");

    for flat in [
        vec![
            ("url", all),
            ("system-version", &version),
            ("excludeNested", "true"),
        ],
        vec![("url", all), ("system-version", &version), ("count", "10")],
    ] {
        let vs = expand(&flat).json();
        assert_eq!(top(&vs), vec!["body", "heart"], "{flat:?}: {vs}");
    }

    // The current version has concepts under two parents: flat, every code at the top.
    let poly = expand(&[("url", all)]).json();
    assert_eq!(
        top(&poly).len() as u64,
        poly["expansion"]["total"].as_u64().unwrap()
    );
    assert!(top(&poly).contains(&"cardiac-tissue".to_string()));
}

/// `includeDefinition=true` repeats the value set's definition (compose, extensions,
/// publisher...) with the expansion, the supplements it names first among the
/// extensions; without it the expansion carries only the value set's identity.
#[test]
fn include_definition_repeats_the_definition_with_the_expansion() {
    let vs = json!({"resourceType": "ValueSet", "url": "http://nomen.test/ValueSet/defined",
        "version": "3", "status": "active", "publisher": "Nomen tests",
        "description": "Two organs",
        "extension": [
            {"url": "http://nomen.test/StructureDefinition/note", "valueString": "kept"},
            {"url": "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
             "valueCanonical": "http://nomen.test/CodeSystem/no-such-supplement"}
        ],
        "compose": {"include": [{"system": BODY, "concept": [{"code": "lung"}, {"code": "kidney"}]}]}});
    let ask = |include_definition: bool| {
        let mut vs = vs.clone();
        // The supplement is not loaded: without the extension the expansion succeeds.
        vs["extension"].as_array_mut().unwrap().pop();
        let body = parameters(&[
            ("valueSet", "resource", vs),
            (
                "includeDefinition",
                "valueBoolean",
                json!(include_definition),
            ),
        ]);
        post_expand(&body)
    };
    let r = ask(true);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["publisher"], "Nomen tests");
    assert_eq!(v["description"], "Two organs");
    assert_eq!(v["compose"]["include"][0]["concept"][1]["code"], "kidney");
    assert_eq!(v["extension"][0]["valueString"], "kept");
    assert_eq!(codes(&v), vec!["lung", "kidney"]);
    // The same compose with another description: the cached selection is shared, the
    // definition repeated is this request's.
    let mut other = vs.clone();
    other["description"] = json!("Two organs, again");
    other["extension"].as_array_mut().unwrap().pop();
    let body = parameters(&[
        ("valueSet", "resource", other),
        ("includeDefinition", "valueBoolean", json!(true)),
    ]);
    let r = post_expand(&body);
    assert_eq!(r.json()["description"], "Two organs, again", "{}", r.body);
    let v = ask(false).json();
    for absent in ["publisher", "description", "compose", "extension"] {
        assert!(v.get(absent).is_none(), "{absent}: {v}");
    }
    assert_eq!(v["url"], "http://nomen.test/ValueSet/defined");

    // The stored value set's definition, by url; a supplement extension comes first.
    let mut stored = vs.clone();
    stored["extension"][1]["valueCanonical"] =
        json!("http://nomen.test/CodeSystem/body-supplement");
    let supplement = json!({"resourceType": "CodeSystem", "url": "http://nomen.test/CodeSystem/body-supplement",
        "version": "1", "status": "active", "content": "supplement", "supplements": BODY,
        "concept": [{"code": "lung", "designation": [{"language": "de", "value": "Lunge"}]}]});
    let body = parameters(&[
        (
            "url",
            "valueUri",
            json!("http://nomen.test/ValueSet/defined"),
        ),
        ("includeDefinition", "valueBoolean", json!(true)),
        ("tx-resource", "resource", stored),
        ("tx-resource", "resource", supplement),
    ]);
    let r = post_expand(&body);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        v["extension"][0]["url"], "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
        "{v}"
    );
    assert_eq!(v["extension"][1]["valueString"], "kept");
}

/// `versionsMatch` (a value set's expansion parameter) makes a code one member whatever
/// version of its code system it comes from: it keeps its first place and takes the
/// latest version that has it. Without it each version's code is a member of its own.
#[test]
fn versions_match_merges_a_code_across_code_system_versions() {
    let cs = |version: &str, codes: &[&str]| {
        let concept: Vec<Value> = codes
            .iter()
            .map(|c| json!({"code": c, "display": format!("{c} in {version}")}))
            .collect();
        json!({"resourceType": "CodeSystem", "url": "http://nomen.test/CodeSystem/versioned",
            "version": version, "status": "active", "content": "complete", "concept": concept})
    };
    let vs = |merged: bool| {
        let mut vs = json!({"resourceType": "ValueSet", "url": "http://nomen.test/ValueSet/both", "status": "active",
            "compose": {"include": [
                {"system": "http://nomen.test/CodeSystem/versioned", "version": "1"},
                {"system": "http://nomen.test/CodeSystem/versioned", "version": "2"}]}});
        if merged {
            vs["compose"]["extension"] = json!([{"url": "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter",
                "extension": [{"url": "name", "valueCode": "versionsMatch"}, {"url": "value", "valueString": "true"}]}]);
        }
        vs
    };
    let expand = |merged: bool| {
        let body = parameters(&[
            ("valueSet", "resource", vs(merged)),
            ("tx-resource", "resource", cs("1", &["a", "b"])),
            ("tx-resource", "resource", cs("2", &["a", "c"])),
        ]);
        let r = post_expand(&body);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let entries = |v: &Value| -> Vec<(String, String, String)> {
        v["expansion"]["contains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"].as_str().unwrap().to_string(),
                    c["version"].as_str().unwrap_or_default().to_string(),
                    c["display"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let merged = expand(true);
    assert_eq!(merged["expansion"]["total"], 3, "{merged}");
    let e = entries(&merged);
    assert_eq!(e[0], ("a".into(), "2".into(), "a in 2".into()));
    assert_eq!(e[1].0, "b");
    assert_eq!(e[1].1, "1");
    assert_eq!(e[2].0, "c");
    assert_eq!(expand(false)["expansion"]["total"], 4);
}
