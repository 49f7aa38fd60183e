//! The whole `hl7.terminology.r4` 7.0.1 package: every resource loads, every concept of
//! every complete code system answers `$lookup`, and `$subsumes` agrees with the
//! package's own hierarchy for every parent/child pair. The expectations are computed
//! here from the package JSON, independently of the importer.
//!
//! The package is fetched by `scripts/fetch-packages.sh` (run by `.ci/run` and
//! `scripts/test.sh`); without it these tests fail and say so.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use indicatif::ProgressBar;
use nomen::http::HttpSettings;
use nomen::import::{import_paths, ImportOptions};
use serde_json::Value;

use crate::support::*;

fn package_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/packages/hl7.terminology.r4-7.0.1.tgz");
    assert!(
        path.exists(),
        "{} is missing: run scripts/fetch-packages.sh (the README's test command does)",
        path.display()
    );
    path
}

/// The package's top-level JSON resources, read with tar and serde only.
fn package_resources() -> &'static Vec<Value> {
    static RESOURCES: OnceLock<Vec<Value>> = OnceLock::new();
    RESOURCES.get_or_init(|| {
        let file = std::fs::File::open(package_path()).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut out = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let Some(name) = path.strip_prefix("package/") else {
                continue;
            };
            if name.contains('/')
                || !name.ends_with(".json")
                || name == "package.json"
                || name.starts_with('.')
            {
                continue;
            }
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            out.push(serde_json::from_str(&text).unwrap());
        }
        out
    })
}

fn package_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start(
            &HttpSettings {
                max_body_bytes: 1 << 20,
                workers: 2,
                ..HttpSettings::default()
            },
            |store| {
                Some(
                    import_paths(
                        store,
                        &[package_path()],
                        &ImportOptions::default(),
                        &ProgressBar::hidden(),
                    )
                    .unwrap(),
                )
            },
        )
    })
}

#[test]
fn every_code_system_and_value_set_loads_with_nothing_rejected() {
    let s = package_server();
    let report = s.report.as_ref().unwrap();
    let mut expected: BTreeMap<&str, usize> = BTreeMap::new();
    for r in package_resources() {
        *expected
            .entry(r["resourceType"].as_str().unwrap_or(""))
            .or_default() += 1;
    }
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.loaded["CodeSystem"], expected["CodeSystem"]);
    assert_eq!(report.loaded["ValueSet"], expected["ValueSet"]);
    assert!(
        expected["CodeSystem"] > 850 && expected["ValueSet"] > 2400,
        "{expected:?}"
    );
    assert_eq!(report.skipped["NamingSystem"], expected["NamingSystem"]);
    let r = get(&url(&s.base, "/CodeSystem", &[("_summary", "count")]), &[]);
    assert_eq!(r.json()["total"], expected["CodeSystem"]);
    let r = get(&url(&s.base, "/ValueSet", &[("_summary", "count")]), &[]);
    assert_eq!(r.json()["total"], expected["ValueSet"]);
}

struct Concept {
    code: String,
    display: Option<String>,
}

/// Flattened concepts and `(parent, child)` code pairs of one CodeSystem, from nesting
/// and from properties that denote parents or children.
fn hierarchy(cs: &Value) -> (Vec<Concept>, Vec<(String, String)>) {
    let props = cs["property"].as_array().cloned().unwrap_or_default();
    let role = |code: &str| -> Option<&'static str> {
        let uri = props
            .iter()
            .find(|p| p["code"] == code)
            .and_then(|p| p["uri"].as_str());
        match uri
            .and_then(|u| u.strip_prefix("http://hl7.org/fhir/concept-properties#"))
            .unwrap_or(code)
        {
            "parent" => Some("parent"),
            "child" => Some("child"),
            _ => None,
        }
    };
    let mut concepts = Vec::new();
    let mut pairs = Vec::new();
    let mut stack: Vec<(Value, Option<String>)> = cs["concept"]
        .as_array()
        .map(|a| a.iter().map(|c| (c.clone(), None)).collect())
        .unwrap_or_default();
    while let Some((c, parent)) = stack.pop() {
        let code = c["code"].as_str().unwrap().to_string();
        if let Some(p) = parent {
            pairs.push((p, code.clone()));
        }
        for p in c["property"].as_array().into_iter().flatten() {
            let Some(value) = p["valueCode"]
                .as_str()
                .or(p["valueCoding"]["code"].as_str())
            else {
                continue;
            };
            match role(p["code"].as_str().unwrap_or("")) {
                Some("parent") => pairs.push((value.to_string(), code.clone())),
                Some("child") => pairs.push((code.clone(), value.to_string())),
                _ => {}
            }
        }
        for child in c["concept"].as_array().into_iter().flatten() {
            stack.push((child.clone(), Some(code.clone())));
        }
        concepts.push(Concept {
            code,
            display: c["display"].as_str().map(str::to_owned),
        });
    }
    (concepts, pairs)
}

/// Runs `check` over `items` on four client threads; returns the failures.
fn in_parallel<T: Sync>(items: &[T], check: impl Fn(&T) -> Option<String> + Sync) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if let Some(f) = check(item) {
                    failures.lock().unwrap().push(f);
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
fn every_concept_answers_lookup_and_every_parent_subsumes_its_child() {
    let s = package_server();
    let mut lookups = Vec::new();
    let mut subsumptions = Vec::new();
    for cs in package_resources()
        .iter()
        .filter(|r| r["resourceType"] == "CodeSystem" && r["content"] == "complete")
    {
        let url_ = cs["url"].as_str().unwrap().to_string();
        let version = cs["version"].as_str().unwrap_or("").to_string();
        let (concepts, pairs) = hierarchy(cs);
        let codes: HashSet<&str> = concepts.iter().map(|c| c.code.as_str()).collect();
        for (parent, child) in pairs {
            if codes.contains(parent.as_str()) && codes.contains(child.as_str()) {
                subsumptions.push((url_.clone(), version.clone(), parent, child));
            }
        }
        for c in concepts {
            lookups.push((url_.clone(), version.clone(), c));
        }
    }
    assert!(lookups.len() > 15_000, "{}", lookups.len());
    assert!(subsumptions.len() > 3_000, "{}", subsumptions.len());

    let failures = in_parallel(&lookups, |(system, version, c)| {
        let r = get(
            &url(
                &s.base,
                "/CodeSystem/$lookup",
                &[("system", system), ("version", version), ("code", &c.code)],
            ),
            &[],
        );
        if r.status != 200 {
            return Some(format!(
                "{system}|{version}#{}: {} {}",
                c.code, r.status, r.body
            ));
        }
        let p = r.json();
        let display = param(&p, "display")
            .and_then(|d| d["valueString"].as_str())
            .map(str::to_owned);
        (display != c.display).then(|| {
            format!(
                "{system}#{}: display {display:?}, package says {:?}",
                c.code, c.display
            )
        })
    });
    assert!(
        failures.is_empty(),
        "{} lookups failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );

    let failures = in_parallel(&subsumptions, |(system, version, parent, child)| {
        let r = get(
            &url(
                &s.base,
                "/CodeSystem/$subsumes",
                &[
                    ("system", system),
                    ("version", version),
                    ("codeA", parent),
                    ("codeB", child),
                ],
            ),
            &[],
        );
        let outcome = param(&r.json(), "outcome")
            .and_then(|o| o["valueCode"].as_str())
            .map(str::to_owned);
        let ok = outcome.as_deref() == Some("subsumes")
            || (parent == child && outcome.as_deref() == Some("equivalent"));
        (!ok).then(|| format!("{system}: {parent} vs {child}: {outcome:?} {}", r.status))
    });
    assert!(
        failures.is_empty(),
        "{} subsumptions failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}

#[test]
fn reads_never_fail_while_a_release_is_imported_into_the_running_server() {
    let s = start(
        &HttpSettings {
            max_body_bytes: 1 << 20,
            workers: 2,
            ..HttpSettings::default()
        },
        |store| nomen::fixtures::load_if_empty(store).unwrap(),
    );
    let db = s.db.clone();
    let importing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = importing.clone();
    let importer = std::thread::spawn(move || {
        // A separate connection, as `nomen import` in another process would have.
        let store = nomen::store::Store::open(&db).unwrap();
        let report = import_paths(
            &store,
            &[package_path()],
            &ImportOptions::default(),
            &ProgressBar::hidden(),
        );
        flag.store(false, Ordering::SeqCst);
        report.unwrap()
    });
    let lookup = url(
        &s.base,
        "/CodeSystem/$lookup",
        &[
            ("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"),
            ("code", "AMB"),
        ],
    );
    let mut served = 0;
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    while importing.load(Ordering::SeqCst) {
        let r = get(&lookup, &[]);
        *statuses.entry(r.status).or_default() += 1;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            param(&r.json(), "display").unwrap()["valueString"],
            "ambulatory"
        );
        served += 1;
    }
    let report = importer.join().unwrap();
    assert!(
        served > 10,
        "the import was too quick to overlap reads ({served})"
    );
    assert!(report.rejected.is_empty());
    // The new content is visible without a restart.
    let r = get(
        &url(
            &s.base,
            "/CodeSystem/$lookup",
            &[
                ("system", "http://terminology.hl7.org/CodeSystem/v2-0001"),
                ("code", "F"),
            ],
        ),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn every_value_set_expands_or_says_why() {
    let s = package_server();
    let value_sets: Vec<&Value> = package_resources()
        .iter()
        .filter(|r| r["resourceType"] == "ValueSet")
        .collect();
    let outcomes = std::sync::Mutex::new(BTreeMap::<String, usize>::new());
    let failures = in_parallel(&value_sets, |vs| {
        let url_ = vs["url"].as_str().unwrap();
        let version = vs["version"].as_str().unwrap_or("");
        let r = get(
            &url(
                &s.base,
                "/ValueSet/$expand",
                &[
                    ("url", url_),
                    ("valueSetVersion", version),
                    ("count", "10000"),
                ],
            ),
            &[],
        );
        let kind = if r.status == 200 {
            "expanded".to_string()
        } else {
            let text = r.json()["issue"][0]["details"]["text"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if std::env::var("NOMEN_SHOW_REASONS").is_ok() {
                eprintln!("{url_}: {text}");
            }
            let what = if text.starts_with("A definition for CodeSystem") {
                "code system not loaded"
            } else if text.starts_with("A definition for the value Set") {
                "imported value set not loaded"
            } else {
                "other"
            };
            format!("{} {}: {what}", r.status, r.issue_code())
        };
        *outcomes.lock().unwrap().entry(kind).or_default() += 1;
        if r.status >= 500 {
            return Some(format!("{url_}: {} {}", r.status, r.body));
        }
        // A compose that only lists concepts of one loaded code system expands to that list.
        let include = vs["compose"]["include"].as_array()?;
        let enumerated = include.len() == 1
            && vs["compose"].get("exclude").is_none()
            && include[0].get("filter").is_none()
            && include[0].get("valueSet").is_none()
            && include[0]["concept"].is_array();
        if enumerated && r.status == 200 {
            let listed: Vec<&str> = include[0]["concept"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap())
                .collect();
            let got = crate::support::expansion_codes(&r.json());
            if got != listed {
                return Some(format!("{url_}: listed {listed:?}, expanded {got:?}"));
            }
        }
        None
    });
    let outcomes = outcomes.into_inner().unwrap();
    eprintln!("hl7.terminology.r4 value sets: {outcomes:?}");
    assert!(
        failures.is_empty(),
        "{} failures, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    // At 7.0.1: 1,992 expand; the rest name a code system the package does not hold
    // (SNOMED CT, LOINC, UCUM, ...) or a version of one it does not hold (most v2 value
    // sets pin their code system at 2.0.0 while the package carries 3.0.0).
    assert!(outcomes["expanded"] > 1900, "{outcomes:?}");
    assert!(
        outcomes.keys().all(|k| !k.ends_with("other")),
        "{outcomes:?}"
    );
}
