//! `ValueSet/$compare` over HTTP, against the body-site hierarchy of
//! tests/data/codesystem-body-sites.json, where `cardiac-tissue` sits under both `heart`
//! and `tissue` (a polyhierarchy):
//!
//! ```text
//! body ─┬─ organ ─┬─ heart ─┬─ heart-valve
//!       │         │         └─ cardiac-tissue (also under tissue)
//!       │         ├─ lung, kidney
//!       │         └─ old-organ (retired; also directly under body)
//!       └─ tissue ── cardiac-tissue
//! ```

use serde_json::{json, Value};

use crate::support::*;

const BODY: &str = "http://nomen.test/CodeSystem/body";

/// An inline value set of the body sites with these includes.
fn vs(url: &str, include: Value) -> Value {
    json!({"resourceType": "ValueSet", "url": url, "version": "1", "status": "active",
        "compose": {"include": include}})
}

fn is_a(code: &str) -> Value {
    json!({"system": BODY, "filter": [{"property": "concept", "op": "is-a", "value": code}]})
}

fn listed(codes: &[&str]) -> Value {
    let concept: Vec<Value> = codes.iter().map(|c| json!({"code": c})).collect();
    json!({"system": BODY, "concept": concept})
}

/// Posts a `$compare` with these parameters.
fn post_compare(params: &[(&str, &str, Value)]) -> Reply {
    post(
        &format!("{}/ValueSet/$compare", fixtures().base),
        "application/fhir+json",
        &parameters(params),
        &[],
    )
}

/// A `$compare` of two stored value sets, by url.
fn by_url(this: &str, other: &str) -> Reply {
    post_compare(&[
        ("thisUrl", "valueUri", json!(this)),
        ("otherUrl", "valueUri", json!(other)),
    ])
}

/// Posts a `$compare` of two inline value sets.
fn compare(this: Value, other: Value) -> Value {
    let r = post_compare(&[
        ("thisValueSet", "resource", this),
        ("otherValueSet", "resource", other),
    ]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// `result`, `performed-expansion` and the three code lists of an answer.
fn outcome(answer: &Value) -> (String, bool, [String; 3]) {
    let text = |name: &str| {
        param(answer, name)
            .and_then(|p| p["valueString"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    (
        param(answer, "result").unwrap()["valueCode"]
            .as_str()
            .unwrap()
            .to_string(),
        param(answer, "performed-expansion").unwrap()["valueBoolean"]
            .as_bool()
            .unwrap(),
        [
            text("common-codes"),
            text("missing-codes"),
            text("extra-codes"),
        ],
    )
}

#[test]
fn subtrees_are_compared_by_the_closure_without_expanding() {
    let a = |code: &str| {
        vs(
            &format!("http://nomen.test/ValueSet/isa-{code}"),
            json!([is_a(code)]),
        )
    };
    // organ holds heart's subtree.
    let r = compare(a("organ"), a("heart"));
    assert_eq!(outcome(&r).0, "superset");
    assert!(!outcome(&r).1);
    assert_eq!(
        param(&r, "message").unwrap()["valueString"],
        "The valueSet http://nomen.test/ValueSet/isa-organ|1 is a super-set of the valueSet http://nomen.test/ValueSet/isa-heart|1"
    );
    assert_eq!(outcome(&compare(a("heart"), a("organ"))).0, "subset");
    assert_eq!(outcome(&compare(a("heart"), a("heart"))).0, "same");
    // Neither holds the other, but cardiac-tissue is under both: a polyhierarchy overlap
    // the closure sees.
    let r = compare(a("heart"), a("tissue"));
    assert_eq!(outcome(&r).0, "overlapping");
    assert!(!outcome(&r).1, "{r}");
    assert_eq!(outcome(&compare(a("lung"), a("kidney"))).0, "disjoint");
}

#[test]
fn code_lists_are_compared_and_listed() {
    let r = compare(
        vs(
            "http://nomen.test/ValueSet/a",
            json!([listed(&["lung", "kidney", "heart"])]),
        ),
        vs(
            "http://nomen.test/ValueSet/b",
            json!([listed(&["kidney", "tissue", "lung"])]),
        ),
    );
    let (result, expanded, [common, missing, extra]) = outcome(&r);
    assert_eq!(result, "overlapping");
    assert!(!expanded);
    assert_eq!(
        (common.as_str(), missing.as_str(), extra.as_str()),
        ("kidney,lung", "heart", "tissue")
    );
    // Two includes of one list, in another order, are the same list.
    let r = compare(
        vs(
            "http://nomen.test/ValueSet/a",
            json!([listed(&["lung"]), listed(&["kidney"])]),
        ),
        vs(
            "http://nomen.test/ValueSet/b",
            json!([listed(&["kidney", "lung"])]),
        ),
    );
    assert_eq!(outcome(&r).0, "same");
    assert_eq!(outcome(&r).2[0], "kidney,lung");
}

#[test]
fn what_the_definitions_cannot_settle_is_settled_by_expanding() {
    // A subtree against the list of its codes: the same, once expanded.
    let r = compare(
        vs("http://nomen.test/ValueSet/a", json!([is_a("heart")])),
        vs(
            "http://nomen.test/ValueSet/b",
            json!([listed(&["cardiac-tissue", "heart-valve", "heart"])]),
        ),
    );
    let (result, expanded, lists) = outcome(&r);
    assert_eq!((result.as_str(), expanded), ("same", true));
    assert_eq!(lists, [String::new(), String::new(), String::new()], "{r}");
    // An exclude: expanded, and the codes listed in each expansion's order.
    let mut narrower = vs("http://nomen.test/ValueSet/c", json!([is_a("heart")]));
    narrower["compose"]["exclude"] = json!([listed(&["heart-valve"])]);
    let r = compare(
        vs("http://nomen.test/ValueSet/a", json!([is_a("heart")])),
        narrower,
    );
    let (result, expanded, [common, missing, extra]) = outcome(&r);
    assert_eq!((result.as_str(), expanded), ("superset", true));
    assert_eq!(missing, "heart-valve");
    assert_eq!(extra, "");
    assert!(
        common.contains("heart") && common.contains("cardiac-tissue"),
        "{r}"
    );
}

#[test]
fn stored_value_sets_compare_by_url_and_failures_are_indeterminate() {
    // body-all holds the inactive old-organ that body-active leaves out.
    let r = by_url(
        "http://nomen.test/ValueSet/body-all",
        "http://nomen.test/ValueSet/body-active",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let (result, expanded, [_, missing, extra]) = outcome(&r.json());
    assert_eq!((result.as_str(), expanded), ("superset", true));
    assert_eq!((missing.as_str(), extra.as_str()), ("old-organ", ""));

    // A whole unknown code system against body sites: disjoint from the definitions alone.
    let r = by_url(
        "http://nomen.test/ValueSet/unknown-system",
        "http://nomen.test/ValueSet/listed",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(outcome(&r.json()).0, "disjoint");
    // Once it has to be expanded, the answer is indeterminate, with the reason.
    let mut unknown = vs(
        "http://nomen.test/ValueSet/u",
        json!([{"system": "http://nowhere.test/cs"}]),
    );
    unknown["compose"]["exclude"] =
        json!([{"system": "http://nowhere.test/cs", "concept": [{"code": "x"}]}]);
    let v = compare(
        unknown,
        vs("http://nomen.test/ValueSet/b", json!([listed(&["lung"])])),
    );
    assert_eq!(outcome(&v).0, "indeterminate");
    let message = param(&v, "message").unwrap()["valueString"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with(
            "Unable to compare http://nomen.test/ValueSet/u|1 and http://nomen.test/ValueSet/b|1: "
        ) && message.contains("http://nowhere.test/cs"),
        "{message}"
    );

    // Without the other value set: a 400 saying what is needed.
    let r = post_compare(&[(
        "thisUrl",
        "valueUri",
        json!("http://nomen.test/ValueSet/listed"),
    )]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.issue_code(), "invalid");
    assert!(r.body.contains("otherValueSet"), "{}", r.body);
    // A side that is not a ValueSet: a 400 naming the parameter.
    let r = post_compare(&[
        (
            "thisValueSet",
            "resource",
            json!({"resourceType": "CodeSystem", "status": "active", "content": "complete"}),
        ),
        (
            "otherUrl",
            "valueUri",
            json!("http://nomen.test/ValueSet/listed"),
        ),
    ]);
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.issue_code(), "invalid");
    assert!(r.body.contains("thisValueSet"), "{}", r.body);
    // An unknown value set is a 404.
    let r = by_url(
        "http://nomen.test/ValueSet/nope",
        "http://nomen.test/ValueSet/listed",
    );
    assert_eq!(r.status, 404, "{}", r.body);
}
