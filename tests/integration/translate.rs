//! ConceptMap `$translate`: forward and reverse, every R4 equivalence, scopes, target
//! system, a named map or all maps.

use serde_json::{json, Value};

use crate::support::*;

const BODY: &str = "http://nomen.test/CodeSystem/body";
const MAP: &str = "http://nomen.test/ConceptMap/body-to-organ-codes";

/// `(equivalence, target code)` of every match.
fn matches(p: &Value) -> Vec<(String, String)> {
    params(p, "match")
        .into_iter()
        .map(|m| {
            let parts = m["part"].as_array().unwrap();
            let eq = parts.iter().find(|x| x["name"] == "equivalence").unwrap()["valueCode"]
                .as_str()
                .unwrap()
                .to_string();
            let code = parts
                .iter()
                .find(|x| x["name"] == "concept")
                .and_then(|c| c["valueCoding"]["code"].as_str())
                .unwrap_or("")
                .to_string();
            (eq, code)
        })
        .collect()
}

fn translate(q: &[(&str, &str)]) -> Value {
    let r = get(&url(&fixtures().base, "/ConceptMap/$translate", q), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn result(p: &Value) -> bool {
    param(p, "result").unwrap()["valueBoolean"]
        .as_bool()
        .unwrap()
}

#[test]
fn forward_translation_reports_every_equivalence() {
    for (code, expected, ok) in [
        (
            "heart",
            vec![
                ("equivalent", "H"),
                ("wider", "CV"),
                ("equivalent", "O-HEART"),
            ],
            true,
        ),
        ("lung", vec![("narrower", "LL")], true),
        ("kidney", vec![("inexact", "K")], true),
        ("organ", vec![("equal", "ORG"), ("relatedto", "PART")], true),
        ("body", vec![("subsumes", "B"), ("specializes", "BS")], true),
        ("tissue", vec![("unmatched", "")], false),
        ("heart-valve", vec![("disjoint", "H")], false),
        ("cardiac-tissue", vec![], false),
    ] {
        let p = translate(&[("url", MAP), ("system", BODY), ("code", code)]);
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(e, c)| (e.to_string(), c.to_string()))
            .collect();
        assert_eq!(matches(&p), expected, "{code}");
        assert_eq!(result(&p), ok, "{code}");
        if !ok {
            assert!(param(&p, "message").is_some(), "{code}");
        }
    }
    let p = translate(&[("url", MAP), ("system", BODY), ("code", "heart")]);
    let first = &params(&p, "match")[0]["part"];
    // The map a match came from, under R5's (and tx.fhir.org's) name.
    assert_eq!(first[2]["name"], "originMap");
    assert_eq!(first[2]["valueCanonical"], format!("{MAP}|1"));
}

#[test]
fn reverse_translation_and_target_system() {
    let p = translate(&[
        ("url", MAP),
        ("system", "http://nomen.test/CodeSystem/organ-codes"),
        ("code", "H"),
        ("reverse", "true"),
    ]);
    assert_eq!(
        matches(&p),
        vec![
            ("equivalent".into(), "heart".into()),
            ("disjoint".into(), "heart-valve".into())
        ]
    );
    let p = translate(&[
        ("url", MAP),
        ("system", BODY),
        ("code", "heart"),
        ("targetsystem", "http://nomen.test/CodeSystem/other"),
    ]);
    assert_eq!(matches(&p), vec![("equivalent".into(), "O-HEART".into())]);
}

#[test]
fn scopes_all_maps_post_and_errors() {
    // No map named: every loaded map is searched (the FHIR core gender maps included).
    let p = translate(&[
        ("system", "http://hl7.org/fhir/administrative-gender"),
        ("code", "male"),
    ]);
    assert!(result(&p));
    let codes: Vec<String> = matches(&p).into_iter().map(|(_, c)| c).collect();
    assert!(codes.contains(&"M".to_string()), "{codes:?}");
    let p = translate(&[
        ("source", "http://nomen.test/ValueSet/body-all"),
        ("system", BODY),
        ("code", "lung"),
    ]);
    assert_eq!(matches(&p), vec![("narrower".into(), "LL".into())]);
    let p = translate(&[
        ("source", "http://nomen.test/ValueSet/elsewhere"),
        ("system", BODY),
        ("code", "lung"),
    ]);
    assert!(!result(&p));

    let body = parameters(&[
        ("url", "valueUri", json!(MAP)),
        (
            "coding",
            "valueCoding",
            json!({"system": BODY, "code": "lung"}),
        ),
    ]);
    let r = post(
        &format!("{}/ConceptMap/$translate", fixtures().base),
        "application/fhir+json",
        &body,
        &[],
    );
    assert_eq!(matches(&r.json()), vec![("narrower".into(), "LL".into())]);
    let r = get(
        &url(
            &fixtures().base,
            "/ConceptMap/nomen-test-body-map/$translate",
            &[("system", BODY), ("code", "kidney")],
        ),
        &[],
    );
    assert_eq!(matches(&r.json()), vec![("inexact".into(), "K".into())]);

    let r = get(
        &url(
            &fixtures().base,
            "/ConceptMap/$translate",
            &[("url", "http://nowhere.test/map"), ("code", "x")],
        ),
        &[],
    );
    assert_eq!(r.status, 404);
    let r = get(
        &url(&fixtures().base, "/ConceptMap/$translate", &[("url", MAP)]),
        &[],
    );
    assert_eq!(r.status, 400);
}

/// `(source, target)` codes of a closure ConceptMap's entries.
fn closure_entries(map: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for g in map["group"].as_array().into_iter().flatten() {
        for e in g["element"].as_array().unwrap() {
            for t in e["target"].as_array().unwrap() {
                assert_eq!(t["equivalence"], "subsumes");
                out.push((
                    e["code"].as_str().unwrap().to_string(),
                    t["code"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn closure_tables_grow_and_replay() {
    let s = start(
        &nomen::http::HttpSettings {
            workers: 1,
            ..Default::default()
        },
        |store| Some(import_paths_for_test(store)),
    );
    let endpoint = format!("{}/$closure", s.base);
    let call = |params: &[(&str, &str, Value)]| {
        let r = post(&endpoint, "application/fhir+json", &parameters(params), &[]);
        (
            r.status,
            if r.status == 200 {
                r.json()
            } else {
                Value::Null
            },
        )
    };
    let concept = |code: &str| {
        (
            "concept",
            "valueCoding",
            json!({"system": BODY, "code": code}),
        )
    };
    let name = ("name", "valueString", json!("t1"));

    let (status, _) = call(&[name.clone(), concept("heart")]);
    assert_eq!(status, 404, "not initialised yet");
    let (_, init) = call(std::slice::from_ref(&name));
    assert_eq!(init["resourceType"], "ConceptMap");
    assert_eq!(init["version"], "0");
    let (_, v1) = call(&[name.clone(), concept("heart-valve")]);
    assert!(closure_entries(&v1).is_empty());
    let (_, v2) = call(&[name.clone(), concept("organ")]);
    assert_eq!(
        closure_entries(&v2),
        vec![("heart-valve".into(), "organ".into())]
    );
    let (_, v3) = call(&[name.clone(), concept("heart"), concept("lung")]);
    assert_eq!(
        closure_entries(&v3),
        vec![
            ("heart".into(), "organ".into()),
            ("heart-valve".into(), "heart".into()),
            ("lung".into(), "organ".into())
        ]
    );
    assert_eq!(v3["version"], "3");
    let (_, again) = call(&[name.clone(), concept("heart")]);
    assert!(
        closure_entries(&again).is_empty(),
        "a concept already in the table adds nothing (and is not a cached answer)"
    );
    let (_, replay) = call(&[name.clone(), ("version", "valueString", json!("1"))]);
    assert_eq!(closure_entries(&replay).len(), 4);
    let (status, _) = call(&[concept("heart")]);
    assert_eq!(status, 400);
    let (status, _) = call(&[
        name,
        (
            "concept",
            "valueCoding",
            json!({"system": BODY, "code": "nope"}),
        ),
    ]);
    assert_eq!(status, 404);
}

fn import_paths_for_test(store: &nomen::store::Store) -> nomen::import::ImportReport {
    nomen::import::import_paths(
        store,
        &[data_dir().join("codesystem-body-sites.json")],
        &nomen::import::ImportOptions::default(),
        &indicatif::ProgressBar::hidden(),
    )
    .unwrap()
}

#[test]
fn unmapped_codes_follow_the_group_rule() {
    let t = |map: &str, code: &str| {
        let p = translate(&[
            ("url", &format!("http://nomen.test/ConceptMap/{map}")),
            ("system", BODY),
            ("code", code),
        ]);
        (result(&p), matches(&p))
    };
    assert_eq!(
        t("unmapped-provided", "heart"),
        (true, vec![("equivalent".into(), "H".into())]),
        "mapped codes are not unmapped"
    );
    assert_eq!(
        t("unmapped-provided", "lung"),
        (true, vec![("equal".into(), "lung".into())])
    );
    assert_eq!(
        t("unmapped-fixed", "lung"),
        (true, vec![("equivalent".into(), "UNK".into())])
    );
    assert_eq!(
        t("unmapped-other-map", "lung"),
        (true, vec![("narrower".into(), "LL".into())])
    );
    assert_eq!(t("unmapped-other-map", "cardiac-tissue"), (false, vec![]));
}

#[test]
fn inline_maps_dependencies_and_products() {
    let map = json!({"resourceType": "ConceptMap", "url": "http://nomen.test/ConceptMap/inline-dep", "status": "draft",
    "group": [{"source": BODY, "target": "http://nomen.test/CodeSystem/organ-codes", "element": [{"code": "kidney", "target": [
        {"code": "K-L", "equivalence": "equivalent",
         "dependsOn": [{"property": "http://nomen.test/laterality", "value": "left"}],
         "product": [{"property": "http://nomen.test/side", "value": "L", "display": "Left"}]},
        {"code": "K-R", "equivalence": "equivalent", "dependsOn": [{"property": "http://nomen.test/laterality", "value": "right"}]},
        {"code": "K", "equivalence": "wider"}
    ]}]}]});
    let endpoint = format!("{}/ConceptMap/$translate", fixtures().base);
    let base = vec![
        ("conceptMap", "resource", map),
        ("system", "valueUri", json!(BODY)),
        ("code", "valueCode", json!("kidney")),
    ];
    let r = post(&endpoint, "application/fhir+json", &parameters(&base), &[]);
    assert_eq!(
        matches(&r.json()),
        vec![("wider".into(), "K".into())],
        "{}",
        r.body
    );
    let mut with_dependency = base.clone();
    with_dependency.push((
        "dependency",
        "part",
        json!([{"name": "element", "valueUri": "http://nomen.test/laterality"},
               {"name": "concept", "valueCodeableConcept": {"coding": [{"code": "left"}]}}]),
    ));
    let r = post(
        &endpoint,
        "application/fhir+json",
        &parameters(&with_dependency),
        &[],
    );
    let p = r.json();
    assert_eq!(
        matches(&p),
        vec![
            ("equivalent".into(), "K-L".into()),
            ("wider".into(), "K".into())
        ],
        "{}",
        r.body
    );
    let product = params(&p, "match")[0]["part"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "product")
        .unwrap()
        .clone();
    assert_eq!(
        product["part"][1]["valueCoding"],
        json!({"code": "L", "display": "Left"})
    );
    // The inline map was for that request only.
    let r = get(
        &url(
            &fixtures().base,
            "/ConceptMap/$translate",
            &[
                ("url", "http://nomen.test/ConceptMap/inline-dep"),
                ("system", BODY),
                ("code", "kidney"),
            ],
        ),
        &[],
    );
    assert_eq!(r.status, 404);
}
