//! Read and search of CodeSystem, ValueSet and ConceptMap; the capability statements.

use crate::support::*;

const ACT: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

#[test]
fn capability_statement_lists_what_is_implemented() {
    let s = fixtures();
    let r = get(&format!("{}/metadata", s.base), &[]);
    assert_eq!(r.status, 200);
    let cs = r.json();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let resources = cs["rest"][0]["resource"].as_array().unwrap();
    let code_system = resources
        .iter()
        .find(|r| r["type"] == "CodeSystem")
        .unwrap();
    let ops: Vec<&str> = code_system["operation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(ops, vec!["lookup", "validate-code", "subsumes"]);
    let value_set = resources.iter().find(|r| r["type"] == "ValueSet").unwrap();
    let vs_ops: Vec<&str> = value_set["operation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        vs_ops,
        vec!["expand", "validate-code", "batch-validate-code", "compare"]
    );
    let concept_map = resources
        .iter()
        .find(|r| r["type"] == "ConceptMap")
        .unwrap();
    assert_eq!(concept_map["operation"][0]["name"], "translate");
    // Every listed operation answers (not 501).
    let listed = ops
        .iter()
        .map(|o| ("CodeSystem", o))
        .chain(vs_ops.iter().map(|o| ("ValueSet", o)))
        .chain([("ConceptMap", &"translate")]);
    let system_ops: Vec<&str> = cs["rest"][0]["operation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(system_ops, vec!["closure", "versions"]);
    let versions = get(&format!("{}/$versions", s.base), &[]).json();
    assert_eq!(versions["parameter"][1]["valueString"], "4.0");
    for (kind, op) in listed {
        let r = get(&format!("{}/{kind}/${op}", s.base), &[]);
        assert_ne!(r.status, 501, "{kind} {op}");
    }
    let xml = get(&format!("{}/metadata?_format=xml", s.base), &[]);
    assert!(xml.body.contains("<CapabilityStatement"), "{}", xml.body);
}

#[test]
fn terminology_capabilities_lists_every_code_system_version() {
    let s = fixtures();
    let r = get(&format!("{}/metadata?mode=terminology", s.base), &[]);
    let tc = r.json();
    assert_eq!(tc["resourceType"], "TerminologyCapabilities");
    let systems = tc["codeSystem"].as_array().unwrap();
    let act = systems
        .iter()
        .find(|c| c["uri"] == ACT)
        .expect("ActCode listed");
    assert_eq!(act["version"][0]["code"], "9.0.0");
    let body = systems
        .iter()
        .find(|c| c["uri"] == "http://nomen.test/CodeSystem/body")
        .unwrap();
    let versions: Vec<&str> = body["version"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(versions, vec!["2.0.0", "1.0.0"]);
    assert_eq!(body["version"][0]["isDefault"], true);
    let count = s.report.as_ref().unwrap().loaded["CodeSystem"]
        + nomen::fixtures::resources()
            .iter()
            .filter(|(_, r)| r["resourceType"] == "CodeSystem")
            .count();
    // Two of the test files are versions of one url.
    assert_eq!(systems.len(), count - 1);
}

#[test]
fn read_code_system_in_json_and_xml() {
    let s = fixtures();
    let r = get(&format!("{}/CodeSystem/v3-ActCode", s.base), &[]);
    assert_eq!(r.status, 200);
    let cs = r.json();
    assert_eq!(cs["url"], ACT);
    assert!(cs["concept"].as_array().unwrap().len() > 1000);
    let r = get(
        &format!("{}/CodeSystem/nomen-test-body", s.base),
        &[("Accept", "application/fhir+xml")],
    );
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("<CodeSystem xmlns=\"http://hl7.org/fhir\">"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Širdis"));
}

#[test]
fn search_code_systems_by_every_parameter() {
    let s = fixtures();
    let search = |q: &[(&str, &str)]| {
        let r = get(&url(&s.base, "/CodeSystem", q), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        let b = r.json();
        assert_eq!(b["type"], "searchset");
        b
    };
    let ids = |b: &serde_json::Value| -> Vec<String> {
        b["entry"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|x| x["resource"]["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(&search(&[("url", ACT)])), vec!["v3-ActCode"]);
    assert_eq!(ids(&search(&[("system", ACT)])), vec!["v3-ActCode"]);
    let by_url = search(&[("url", "http://nomen.test/CodeSystem/body")]);
    assert_eq!(by_url["total"], 2);
    assert_eq!(
        ids(&search(&[
            ("url", "http://nomen.test/CodeSystem/body"),
            ("version", "1.0.0")
        ])),
        vec!["nomen-test-body-v1"]
    );
    assert_eq!(
        ids(&search(&[("name", "nomentestb"), ("status", "active")])),
        vec!["nomen-test-body"]
    );
    assert_eq!(
        ids(&search(&[("title", "Nomen test body")])),
        vec!["nomen-test-body"]
    );
    let count = search(&[("_summary", "count")]);
    assert!(count["total"].as_u64().unwrap() >= 20);
    assert!(count.get("entry").is_none());
    let summary = search(&[("url", ACT), ("_summary", "true")]);
    let resource = &summary["entry"][0]["resource"];
    assert!(resource.get("concept").is_none());
    assert_eq!(resource["meta"]["tag"][0]["code"], "SUBSETTED");
    let elements = search(&[("url", ACT), ("_elements", "url,version")]);
    let keys: Vec<&String> = elements["entry"][0]["resource"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, vec!["resourceType", "id", "url", "version", "meta"]);
    let page = search(&[("_count", "2"), ("_offset", "1")]);
    assert_eq!(page["entry"].as_array().unwrap().len(), 2);
    let r = get(&url(&s.base, "/CodeSystem", &[("colour", "red")]), &[]);
    assert_eq!(r.status, 400);
}

#[test]
fn value_sets_and_concept_maps_are_stored_whole_and_searchable() {
    let s = fixtures();
    let r = get(&format!("{}/ValueSet/encounter-class", s.base), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["resourceType"], "ValueSet");
    let r = get(
        &url(
            &s.base,
            "/ValueSet",
            &[(
                "url",
                "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode",
            )],
        ),
        &[],
    );
    assert_eq!(r.json()["total"], 1);
    let r = get(&url(&s.base, "/ConceptMap", &[("name", "v3.Admin")]), &[]);
    assert_eq!(r.status, 200);
    let maps = r.json();
    assert_eq!(maps["total"], 1, "{}", r.body);
    let r = get(
        &format!(
            "{}/ConceptMap/cm-administrative-gender-v3?_format=xml",
            s.base
        ),
        &[],
    );
    assert!(
        r.body.contains("<ConceptMap"),
        "{}",
        &r.body[..r.body.len().min(500)]
    );
}

/// `fhir-profiles/CapabilityStatement-nomen.json` is the CapabilityStatement the server
/// serves (with its base URL as `{base}`); this fails when the code and the committed
/// file differ. `NOMEN_UPDATE_PROFILES=1` rewrites the file.
#[test]
fn published_capability_statement_matches_the_server() {
    let s = fixtures();
    let served = get(&format!("{}/metadata", s.base), &[])
        .body
        .replace(&s.base, "{base}");
    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fhir-profiles/CapabilityStatement-nomen.json");
    if std::env::var("NOMEN_UPDATE_PROFILES").is_ok() {
        std::fs::write(&path, serde_json::to_string_pretty(&served).unwrap() + "\n").unwrap();
    }
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("fhir-profiles/CapabilityStatement-nomen.json"),
    )
    .unwrap();
    assert_eq!(
        served, committed,
        "the served CapabilityStatement changed: run with NOMEN_UPDATE_PROFILES=1 and commit"
    );
}

#[test]
fn value_sets_can_be_found_by_the_code_systems_they_use() {
    let s = fixtures();
    let ids = |reference: &str| -> Vec<String> {
        let r = get(&url(&s.base, "/ValueSet", &[("reference", reference)]), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        let mut ids: Vec<String> = r.json()["entry"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|x| x["resource"]["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let act = ids(ACT);
    assert!(
        act.contains(&"v3-ActEncounterCode".to_string())
            && act.contains(&"encounter-class".to_string()),
        "{act:?}"
    );
    assert!(!act.contains(&"administrative-gender".to_string()));
    // Imported value sets count as references too; a value set does not reference itself.
    assert_eq!(
        ids("http://nomen.test/ValueSet/isa-organ"),
        vec!["nested".to_string()]
    );
    assert_eq!(
        ids("http://nowhere.test/cs"),
        vec!["unknown-system".to_string()]
    );
    assert!(ids("http://nowhere.test/elsewhere").is_empty());
    let r = get(&url(&s.base, "/CodeSystem", &[("reference", ACT)]), &[]);
    assert_eq!(r.status, 400, "reference is a ValueSet search parameter");
}
