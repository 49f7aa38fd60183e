//! SNOMED CT over HTTP, on the small synthetic RF2 release (`fixtures/snomed/small`: the
//! International Edition and a Lithuanian extension): lookups in English and Lithuanian,
//! every ECL construct the evaluator supports, implicit value sets and maps, inactive
//! concepts, editions side by side, and import errors.
//!
//! Every expected answer is computed here from the RF2 files (`snomed_rf2`), by walking
//! them directly: none comes from the server's closure, relationship tables or ECL code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use indicatif::ProgressBar;
use nomen::http::HttpSettings;
use nomen::import::{import_paths, ImportOptions};
use serde_json::{json, Value};

use crate::snomed_rf2::{Rf2, DEFINED, FSN, GB, US};
use crate::support::{
    expansion_codes, get, lookup_properties, param, parameters, params, post, start, url, Reply,
    Server,
};

const SCT: &str = "http://snomed.info/sct";
const CORE: &str = "900000000000207008";
const CLINICAL_FINDING: &str = "404684003";
const BODY_STRUCTURE: &str = "123037004";
const FINDING_SITE: &str = "363698007";
const ICD10_MAP: &str = "447562003";
const REPLACED_BY: &str = "900000000000526001";
const SAME_AS: &str = "900000000000527005";

fn release_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/snomed/small")
}

/// The folder of a release in the fixture whose name contains `marker`.
fn folder(marker: &str) -> String {
    std::fs::read_dir(release_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .find(|n| n.contains(marker))
        .unwrap_or_else(|| panic!("no release folder with {marker}"))
}

/// The International Edition as read from the files.
fn int() -> &'static Rf2 {
    static RF2: OnceLock<Rf2> = OnceLock::new();
    RF2.get_or_init(|| Rf2::read(&release_dir(), &[&folder("International")]))
}

/// The national edition (International + extension) as read from the files.
fn national() -> &'static Rf2 {
    static RF2: OnceLock<Rf2> = OnceLock::new();
    RF2.get_or_init(|| {
        Rf2::read(
            &release_dir(),
            &[&folder("International"), &folder("Extension")],
        )
    })
}

/// The date of a release folder (`..._PRODUCTION_20250101T120000Z`).
fn date_of(folder: &str) -> String {
    let stamp = folder.rsplit('_').next().unwrap();
    stamp[..8].to_string()
}

/// The extension's module: the module of its concepts that depends on the core module.
fn extension_module() -> String {
    let rf2 = national();
    rf2.members
        .iter()
        .find(|m| {
            m["refsetId"] == "900000000000534007"
                && m["referencedComponentId"] == CORE
                && m["moduleId"] != CORE
                && m["moduleId"] != "900000000000012004"
        })
        .map(|m| m["moduleId"].clone())
        .expect("module dependency of the extension")
}

fn int_version() -> String {
    format!("{SCT}/{CORE}/version/{}", date_of(&folder("International")))
}

fn national_version() -> String {
    format!(
        "{SCT}/{}/version/{}",
        extension_module(),
        date_of(&folder("Extension"))
    )
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start(&HttpSettings::default(), |store| {
            let report = import_paths(
                store,
                &[release_dir()],
                &ImportOptions::default(),
                &ProgressBar::hidden(),
            )
            .expect("RF2 import");
            assert!(report.rejected.is_empty(), "{:?}", report.rejected);
            Some(report)
        })
    })
}

fn fhir(path: &str, query: &[(&str, &str)]) -> Reply {
    get(&url(&server().base, path, query), &[])
}

/// The codes of an expansion of `vs_url` in `version` (all of them: count is raised).
fn expand(vs_url: &str, version: &str) -> BTreeSet<String> {
    let reply = fhir(
        "/ValueSet/$expand",
        &[
            ("url", vs_url),
            ("system-version", &format!("{SCT}|{version}")),
            ("count", "10000"),
        ],
    );
    assert_eq!(reply.status, 200, "{vs_url}: {}", reply.body);
    codes(&reply.json())
}

fn codes(expansion: &Value) -> BTreeSet<String> {
    expansion_codes(expansion).into_iter().collect()
}

/// The codes of an inline ValueSet with one compose filter `property = value` on `version`.
fn expand_filter(version: &str, property: &str, value: &str) -> BTreeSet<String> {
    let vs = json!({
        "resourceType": "ValueSet",
        "status": "active",
        "compose": {"include": [{"system": SCT, "version": version, "filter": [
            {"property": property, "op": "=", "value": value}
        ]}]}
    });
    let body = parameters(&[
        ("valueSet", "resource", vs),
        ("count", "valueInteger", json!(10000)),
    ]);
    let reply = post(
        &format!("{}/ValueSet/$expand", server().base),
        "application/fhir+json",
        &body,
        &[],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    codes(&reply.json())
}

/// The codes an ECL expression selects in an edition, through the implicit value set.
/// Every expression these tests use selects something, so an empty answer (which would
/// make an equality with an independently computed empty set meaningless) fails.
fn ecl(expression: &str, version: &str) -> BTreeSet<String> {
    let codes = expand(&format!("{SCT}?fhir_vs=ecl/{expression}"), version);
    assert!(!codes.is_empty(), "{expression} selected nothing");
    codes
}

fn with_self(mut set: BTreeSet<String>, id: &str) -> BTreeSet<String> {
    set.insert(id.to_string());
    set
}

/// An active concept under Clinical finding with at least two parents.
fn polyhierarchy_concept(rf2: &Rf2) -> (String, BTreeSet<String>) {
    let findings = rf2.descendants(CLINICAL_FINDING);
    rf2.parents()
        .into_iter()
        .filter(|(c, p)| p.len() >= 2 && findings.contains(c) && rf2.is_active(c))
        .min()
        .expect("a finding with two parents")
}

#[test]
fn rf2_import_writes_both_editions_and_their_maps() {
    let report = server().report.as_ref().unwrap();
    assert_eq!(report.loaded["CodeSystem"], 2, "{}", report.summary());
    let expected_concepts = int().concepts.len() + national().concepts.len();
    assert_eq!(report.concepts, expected_concepts);
    assert!(report.loaded["ConceptMap"] >= 2, "{}", report.summary());
    let bundle = fhir("/CodeSystem", &[("url", SCT)]).json();
    let versions: BTreeSet<String> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["version"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        versions,
        BTreeSet::from([int_version(), national_version()])
    );
}

#[test]
fn lookup_in_english_gives_terms_properties_and_hierarchy_from_the_release() {
    let rf2 = int();
    let (code, parents) = polyhierarchy_concept(rf2);
    let reply = fhir("/CodeSystem/$lookup", &[("system", SCT), ("code", &code)]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(
        param(&body, "version").unwrap()["valueString"],
        int_version()
    );
    assert_eq!(
        param(&body, "display").unwrap()["valueString"],
        rf2.preferred_term(&code, US).unwrap()
    );
    // The FSN is a designation with use FSN.
    let fsn = rf2.fsn(&code).unwrap();
    let designations = params(&body, "designation");
    assert!(designations.iter().any(|d| {
        let parts = d["part"].as_array().unwrap();
        parts
            .iter()
            .any(|p| p["name"] == "value" && p["valueString"] == fsn.as_str())
            && parts
                .iter()
                .any(|p| p["name"] == "use" && p["valueCoding"]["code"] == FSN)
    }));
    let props = lookup_properties(&body);
    let got_parents: BTreeSet<String> = props
        .iter()
        .filter(|(c, _)| c == "parent")
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(got_parents, parents);
    let row = &rf2.concepts[&code];
    let prop = |name: &str| {
        props
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {props:?}"))
    };
    assert_eq!(prop("moduleId"), row["moduleId"]);
    assert_eq!(prop("effectiveTime"), row["effectiveTime"]);
    assert_eq!(
        prop("sufficientlyDefined"),
        (row["definitionStatusId"] == DEFINED).to_string()
    );
    assert_eq!(prop("inactive"), "false");
    // Attribute relationships are properties named by the attribute's id.
    let expected: BTreeSet<(String, String)> = rf2
        .attributes()
        .into_iter()
        .filter(|(s, ..)| *s == code)
        .map(|(_, t, d, _)| (t, d))
        .collect();
    let got: BTreeSet<(String, String)> = props
        .iter()
        .filter(|(c, _)| expected.iter().any(|(t, _)| t == c))
        .cloned()
        .collect();
    assert_eq!(got, expected);
    // Children come from the release's inferred is-a rows.
    let children = rf2.children().remove(CLINICAL_FINDING).unwrap();
    let top = fhir(
        "/CodeSystem/$lookup",
        &[
            ("system", SCT),
            ("code", CLINICAL_FINDING),
            ("property", "child"),
        ],
    )
    .json();
    let got_children: BTreeSet<String> = lookup_properties(&top)
        .into_iter()
        .filter(|(c, _)| c == "child")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got_children, children);
}

#[test]
fn lookup_in_lithuanian_and_british_english_selects_the_language_refset() {
    let rf2 = national();
    let lt_refset = rf2
        .members
        .iter()
        .filter(|m| m.contains_key("acceptabilityId"))
        .map(|m| m["refsetId"].clone())
        .find(|r| r != US && r != GB)
        .expect("a Lithuanian language refset");
    // A concept with a Lithuanian preferred term containing a diacritic.
    let (code, lt_term) = rf2
        .active()
        .into_iter()
        .filter_map(|c| rf2.preferred_term(&c, &lt_refset).map(|t| (c, t)))
        .find(|(_, t)| {
            t.chars()
                .any(|ch| "ąčęėįšųūž".contains(ch.to_ascii_lowercase()))
        })
        .expect("a Lithuanian term with diacritics");
    let version = national_version();
    for (query, headers) in [
        (vec![("displayLanguage", "lt")], vec![]),
        (vec![], vec![("Accept-Language", "lt")]),
    ] {
        let mut q = vec![
            ("system", SCT),
            ("code", code.as_str()),
            ("version", version.as_str()),
        ];
        q.extend(query);
        let reply = get(&url(&server().base, "/CodeSystem/$lookup", &q), &headers);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            param(&reply.json(), "display").unwrap()["valueString"],
            lt_term.as_str()
        );
    }
    // A Lithuanian text filter finds the concept by its Lithuanian term, accents and all.
    let word = lt_term.split_whitespace().next().unwrap();
    // (A word with a diacritic, found accent-insensitively too, would need FTS; ECL term
    // filters compare the words as written, case-insensitively.)
    let found = ecl(
        &format!("* {{{{ term = \"{word}\", language = lt }}}}"),
        &version,
    );
    assert!(found.contains(&code), "{code} {lt_term}: {found:?}");
    // GB and US English preferred terms that differ.
    let int = int();
    let (code, us, gb) = int
        .active()
        .into_iter()
        .filter_map(|c| {
            let us = int.preferred_term(&c, US)?;
            let gb = int.preferred_term(&c, GB)?;
            (us != gb).then_some((c, us, gb))
        })
        .next()
        .expect("a concept whose GB and US terms differ");
    for (language, expected) in [("en-GB", gb), ("en-US", us)] {
        let reply = fhir(
            "/CodeSystem/$lookup",
            &[
                ("system", SCT),
                ("code", &code),
                ("displayLanguage", language),
            ],
        );
        assert_eq!(
            param(&reply.json(), "display").unwrap()["valueString"],
            expected.as_str(),
            "{language}"
        );
    }
}

/// Concepts of `rf2` with an attribute (type, destination ∈ values) in any group.
fn with_attribute(rf2: &Rf2, type_: &str, values: &BTreeSet<String>) -> BTreeSet<String> {
    rf2.attributes()
        .into_iter()
        .filter(|(_, t, d, _)| t == type_ && values.contains(d))
        .map(|(s, ..)| s)
        .collect()
}

#[test]
fn ecl_hierarchy_and_set_operators_match_the_release() {
    let rf2 = int();
    let v = int_version();
    let active = rf2.active();
    let only_active = |s: BTreeSet<String>| -> BTreeSet<String> {
        s.into_iter().filter(|c| active.contains(c)).collect()
    };
    let (poly, parents) = polyhierarchy_concept(rf2);
    let descendants = rf2.descendants(CLINICAL_FINDING);
    assert_eq!(ecl(&format!("< {CLINICAL_FINDING}"), &v), descendants);
    assert_eq!(
        ecl(&format!("<< {CLINICAL_FINDING}"), &v),
        with_self(descendants.clone(), CLINICAL_FINDING)
    );
    let children = rf2.children().remove(CLINICAL_FINDING).unwrap();
    assert_eq!(ecl(&format!("<! {CLINICAL_FINDING}"), &v), children);
    assert_eq!(
        ecl(&format!("<<! {CLINICAL_FINDING}"), &v),
        with_self(children.clone(), CLINICAL_FINDING)
    );
    assert_eq!(ecl(&format!("> {poly}"), &v), rf2.ancestors(&poly));
    assert_eq!(
        ecl(&format!(">> {poly}"), &v),
        with_self(rf2.ancestors(&poly), &poly)
    );
    assert_eq!(ecl(&format!(">! {poly}"), &v), parents);
    assert_eq!(
        ecl(&format!(">>! {poly}"), &v),
        with_self(parents.clone(), &poly)
    );
    // Long syntax, terms and comments.
    assert_eq!(
        ecl(
            &format!("descendantOf {CLINICAL_FINDING} |Clinical finding| /* all */"),
            &v
        ),
        descendants
    );
    // Conjunction, disjunction, exclusion, parentheses.
    // The child with the largest subtree.
    let first: String = children
        .iter()
        .max_by_key(|c| rf2.descendants(c).len())
        .unwrap()
        .clone();
    let under_first = rf2.descendants(&first);
    assert_eq!(
        ecl(&format!("<< {CLINICAL_FINDING} MINUS << {first}"), &v),
        with_self(descendants.clone(), CLINICAL_FINDING)
            .difference(&with_self(under_first.clone(), &first))
            .cloned()
            .collect()
    );
    let body = rf2.descendants(BODY_STRUCTURE);
    assert_eq!(
        ecl(&format!("< {first} OR < {BODY_STRUCTURE}"), &v),
        under_first.union(&body).cloned().collect()
    );
    assert_eq!(
        ecl(
            &format!("(< {CLINICAL_FINDING} AND << {first}) MINUS {first}"),
            &v
        ),
        under_first
    );
    // Top and bottom of a set.
    let set = with_self(under_first.clone(), &first);
    let bottom: BTreeSet<String> = set
        .iter()
        .filter(|c| rf2.descendants(c).is_disjoint(&set))
        .cloned()
        .collect();
    assert_eq!(ecl(&format!("!!< (<< {first})"), &v), bottom);
    assert_eq!(
        ecl(&format!("!!> (<< {first})"), &v),
        BTreeSet::from([first.clone()])
    );
    // The wildcard is every active concept.
    assert_eq!(
        ecl("*", &v),
        only_active(rf2.concepts.keys().cloned().collect())
    );
}

#[test]
fn ecl_refinements_groups_cardinality_reverse_and_dotted_match_the_release() {
    let rf2 = int();
    let v = int_version();
    let findings = with_self(rf2.descendants(CLINICAL_FINDING), CLINICAL_FINDING);
    let body = with_self(rf2.descendants(BODY_STRUCTURE), BODY_STRUCTURE);
    let attrs = rf2.attributes();
    // Simple refinement.
    let expected: BTreeSet<String> = with_attribute(rf2, FINDING_SITE, &body)
        .intersection(&findings)
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} : {FINDING_SITE} = << {BODY_STRUCTURE}"),
            &v
        ),
        expected
    );
    // A narrower value: the finding sites under one body structure.
    let some_site = attrs
        .iter()
        .find(|(_, t, ..)| t == FINDING_SITE)
        .map(|(_, _, d, _)| d.clone())
        .unwrap();
    let under_site = with_self(rf2.descendants(&some_site), &some_site);
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} : {FINDING_SITE} = << {some_site}"),
            &v
        ),
        with_attribute(rf2, FINDING_SITE, &under_site)
            .intersection(&findings)
            .cloned()
            .collect()
    );
    // Cardinality: [2..*] finding sites, and [0..0] (no finding site at all).
    let count = |c: &str| {
        attrs
            .iter()
            .filter(|(s, t, ..)| s == c && t == FINDING_SITE)
            .count()
    };
    let two_or_more: BTreeSet<String> =
        findings.iter().filter(|c| count(c) >= 2).cloned().collect();
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} : [2..*] {FINDING_SITE} = *"),
            &v
        ),
        two_or_more
    );
    let active = rf2.active();
    let none: BTreeSet<String> = findings
        .iter()
        .filter(|c| count(c) == 0 && active.contains(*c))
        .cloned()
        .collect();
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} : [0..0] {FINDING_SITE} = *"),
            &v
        ),
        none
    );
    // Attribute group: two attributes in the same role group.
    let (other_type, _) = attrs
        .iter()
        .filter(|(_, t, _, g)| t != FINDING_SITE && *g > 0)
        .map(|(_, t, _, g)| (t.clone(), *g))
        .next()
        .expect("a grouped attribute other than finding site");
    let grouped: BTreeSet<String> = findings
        .iter()
        .filter(|c| {
            attrs.iter().any(|(s, t, _, g)| {
                s == *c
                    && t == FINDING_SITE
                    && *g > 0
                    && attrs
                        .iter()
                        .any(|(s2, t2, _, g2)| s2 == *c && *t2 == other_type && g2 == g)
            })
        })
        .cloned()
        .collect();
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} : {{ {FINDING_SITE} = *, {other_type} = * }}"),
            &v
        ),
        grouped
    );
    // Reverse: body structures that are some finding's finding site.
    let sites: BTreeSet<String> = attrs
        .iter()
        .filter(|(s, t, ..)| t == FINDING_SITE && findings.contains(s))
        .map(|(_, _, d, _)| d.clone())
        .filter(|d| body.contains(d))
        .collect();
    assert_eq!(
        ecl(
            &format!("<< {BODY_STRUCTURE} : R {FINDING_SITE} = << {CLINICAL_FINDING}"),
            &v
        ),
        sites
    );
    // Dotted: the finding sites of findings.
    assert_eq!(
        ecl(&format!("<< {CLINICAL_FINDING} . {FINDING_SITE}"), &v),
        sites
    );
    // Concrete values: products whose numerator value is at least the smallest one.
    let numeric: Vec<(String, String, f64)> = rf2
        .concrete
        .iter()
        .filter_map(|r| {
            let n = r["value"].strip_prefix('#')?.parse::<f64>().ok()?;
            Some((r["sourceId"].clone(), r["typeId"].clone(), n))
        })
        .collect();
    let (_, type_, _) = numeric.first().expect("a numeric concrete value").clone();
    let mut values: Vec<f64> = numeric
        .iter()
        .filter(|(_, t, _)| *t == type_)
        .map(|x| x.2)
        .collect();
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let threshold = values[values.len() / 2];
    let expected: BTreeSet<String> = numeric
        .iter()
        .filter(|(s, t, n)| *t == type_ && *n >= threshold && active.contains(s))
        .map(|(s, ..)| s.clone())
        .collect();
    assert_eq!(ecl(&format!("* : {type_} >= #{threshold}"), &v), expected);
}

#[test]
fn ecl_member_of_filters_and_history_match_the_release() {
    let rf2 = int();
    let v = int_version();
    let active = rf2.active();
    // Member-of a simple refset (the one with the most members that is not a map).
    let simple: String = {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for m in rf2.members.iter().filter(|m| m.len() == 6) {
            *counts.entry(m["refsetId"].clone()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .expect("a simple refset")
            .0
    };
    let members: BTreeSet<String> = rf2
        .members_of(&simple)
        .iter()
        .map(|m| m["referencedComponentId"].clone())
        .filter(|c| active.contains(c))
        .collect();
    assert_eq!(ecl(&format!("^ {simple}"), &v), members);
    assert_eq!(
        ecl(&format!("^ [referencedComponentId] {simple}"), &v),
        members
    );
    assert_eq!(
        expand(&format!("{SCT}?fhir_vs=refset/{simple}"), &v),
        members
    );
    let findings = with_self(rf2.descendants(CLINICAL_FINDING), CLINICAL_FINDING);
    assert_eq!(
        ecl(&format!("<< {CLINICAL_FINDING} AND ^ {simple}"), &v),
        members.intersection(&findings).cloned().collect()
    );
    // Member filter on a map target.
    let map = rf2.members_of(ICD10_MAP);
    let target = map
        .iter()
        .map(|m| m["mapTarget"].clone())
        .find(|t| !t.is_empty())
        .unwrap();
    let mapped: BTreeSet<String> = map
        .iter()
        .filter(|m| m["mapTarget"] == target)
        .map(|m| m["referencedComponentId"].clone())
        .collect();
    assert_eq!(
        ecl(
            &format!("^ {ICD10_MAP} {{{{ M mapTarget = \"{target}\" }}}}"),
            &v
        ),
        mapped
    );
    // Description filters: a word of some FSN, and a wild pattern.
    let (code, fsn) = findings
        .iter()
        .filter_map(|c| rf2.fsn(c).map(|f| (c.clone(), f)))
        .find(|(_, f)| f.split_whitespace().count() >= 3)
        .unwrap();
    let word = fsn.split_whitespace().nth(1).unwrap().to_lowercase();
    let term_match = |c: &str| {
        rf2.descriptions.values().any(|d| {
            d["conceptId"] == c
                && d["active"] == "1"
                && d["term"]
                    .to_lowercase()
                    .split(|ch: char| !ch.is_alphanumeric())
                    .any(|w| w.starts_with(&word))
        })
    };
    let expected: BTreeSet<String> = findings
        .iter()
        .filter(|c| term_match(c) && active.contains(*c))
        .cloned()
        .collect();
    let got = ecl(
        &format!("<< {CLINICAL_FINDING} {{{{ term = \"{word}\" }}}}"),
        &v,
    );
    assert!(got.contains(&code));
    assert_eq!(got, expected);
    let fsn_only: BTreeSet<String> = findings
        .iter()
        .filter(|c| {
            rf2.descriptions.values().any(|d| {
                d["conceptId"] == **c
                    && d["active"] == "1"
                    && d["typeId"] == FSN
                    && d["term"].to_lowercase().contains(&word)
            }) && active.contains(*c)
        })
        .cloned()
        .collect();
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} {{{{ term = wild:\"*{word}*\", type = fsn }}}}"),
            &v
        ),
        fsn_only
    );
    // Synonyms preferred in GB English.
    let gb_preferred: BTreeSet<String> = findings
        .iter()
        .filter(|c| rf2.preferred_term(c, GB).is_some() && active.contains(*c))
        .cloned()
        .collect();
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} {{{{ type = syn, dialect = en-gb (prefer) }}}}"),
            &v
        ),
        gb_preferred
    );
    // Concept filters.
    let defined: BTreeSet<String> = findings
        .iter()
        .filter(|c| rf2.concepts[*c]["definitionStatusId"] == DEFINED && active.contains(*c))
        .cloned()
        .collect();
    assert_eq!(
        ecl(
            &format!("<< {CLINICAL_FINDING} {{{{ C definitionStatus = defined }}}}"),
            &v
        ),
        defined
    );
    let inactive: BTreeSet<String> = rf2
        .concepts
        .iter()
        .filter(|(_, r)| r["active"] == "0")
        .map(|(c, _)| c.clone())
        .collect();
    assert!(!inactive.is_empty());
    assert_eq!(ecl("* {{ C active = false }}", &v), inactive);
    let latest = rf2
        .concepts
        .values()
        .map(|r| r["effectiveTime"].clone())
        .max()
        .unwrap();
    let newest: BTreeSet<String> = rf2
        .concepts
        .iter()
        .filter(|(c, r)| r["effectiveTime"] == latest && active.contains(*c))
        .map(|(c, _)| c.clone())
        .collect();
    assert_eq!(
        ecl(&format!("* {{{{ C effectiveTime >= \"{latest}\" }}}}"), &v),
        newest
    );
    // History supplement: inactive concepts SAME AS a member of the set.
    let same_as = rf2.members_of(SAME_AS);
    let target = same_as[0]["targetComponentId"].clone();
    let sources: BTreeSet<String> = same_as
        .iter()
        .filter(|m| m["targetComponentId"] == target)
        .map(|m| m["referencedComponentId"].clone())
        .collect();
    assert_eq!(
        ecl(&format!("{target} {{{{ +HISTORY-MIN }}}}"), &v),
        with_self(sources, &target)
    );
}

#[test]
fn ecl_errors_name_the_position_and_unsupported_parts_say_so() {
    let v = int_version();
    let reply = fhir(
        "/ValueSet/$expand",
        &[
            (
                "url",
                &format!("{SCT}?fhir_vs=ecl/<< {CLINICAL_FINDING} AND"),
            ),
            ("system-version", &format!("{SCT}|{v}")),
        ],
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("expected"), "{}", reply.body);
    let reply = fhir(
        "/ValueSet/$expand",
        &[
            ("url", &format!("{SCT}?fhir_vs=ecl/LOINC#1234-5")),
            ("system-version", &format!("{SCT}|{v}")),
        ],
    );
    assert_eq!(reply.issue_code(), "not-supported", "{}", reply.body);
}

#[test]
fn implicit_value_sets_and_compose_filters_expand_from_the_release() {
    let rf2 = int();
    let v = int_version();
    let expected = with_self(rf2.descendants(CLINICAL_FINDING), CLINICAL_FINDING);
    assert_eq!(
        expand(&format!("{SCT}?fhir_vs=isa/{CLINICAL_FINDING}"), &v),
        expected
    );
    // Every refset with members.
    let refsets: BTreeSet<String> = rf2
        .members
        .iter()
        .filter(|m| !m.contains_key("acceptabilityId"))
        .map(|m| m["refsetId"].clone())
        .collect();
    let got = expand(&format!("{SCT}?fhir_vs=refset"), &v);
    assert!(refsets.is_subset(&got), "{refsets:?} not in {got:?}");
    // A ValueSet with ECL in compose (constraint and expression filters).
    for property in ["constraint", "expression"] {
        let got = expand_filter(&v, property, &format!("<< {CLINICAL_FINDING}"));
        assert_eq!(got, expected, "{property}");
    }
    // Property filters on an attribute and on the module mean what ECL says.
    let (_, _, site, _) = rf2
        .attributes()
        .into_iter()
        .find(|(_, t, ..)| t == FINDING_SITE)
        .unwrap();
    let active = rf2.active();
    let with_site: BTreeSet<String> = rf2
        .attributes()
        .into_iter()
        .filter(|(s, t, d, _)| t == FINDING_SITE && *d == site && active.contains(s))
        .map(|(s, ..)| s)
        .collect();
    for (property, value, expected) in [
        (FINDING_SITE.to_string(), site.clone(), with_site),
        ("moduleId".to_string(), CORE.to_string(), {
            rf2.concepts
                .iter()
                .filter(|(c, r)| r["moduleId"] == CORE && active.contains(*c))
                .map(|(c, _)| c.clone())
                .collect()
        }),
    ] {
        assert!(!expected.is_empty());
        assert_eq!(expand_filter(&v, &property, &value), expected, "{property}");
    }
    // Validate-code against an ECL value set answers from the same evaluation.
    let inside = expected.iter().next().unwrap();
    let reply = fhir(
        "/ValueSet/$validate-code",
        &[
            ("url", &format!("{SCT}?fhir_vs=ecl/<< {CLINICAL_FINDING}")),
            ("system", SCT),
            ("code", inside),
        ],
    );
    assert_eq!(
        param(&reply.json(), "result").unwrap()["valueBoolean"],
        true,
        "{}",
        reply.body
    );
    let reply = fhir(
        "/ValueSet/$validate-code",
        &[
            ("url", &format!("{SCT}?fhir_vs=ecl/<< {CLINICAL_FINDING}")),
            ("system", SCT),
            ("code", BODY_STRUCTURE),
        ],
    );
    assert_eq!(
        param(&reply.json(), "result").unwrap()["valueBoolean"],
        false,
        "{}",
        reply.body
    );
}

#[test]
fn translate_through_the_icd10_map_and_historical_associations() {
    let rf2 = int();
    let map = rf2.members_of(ICD10_MAP);
    // A concept with map rows in two groups.
    let concept = map
        .iter()
        .map(|m| m["referencedComponentId"].clone())
        .find(|c| {
            map.iter()
                .filter(|m| m["referencedComponentId"] == *c)
                .map(|m| m["mapGroup"].clone())
                .collect::<BTreeSet<_>>()
                .len()
                >= 2
        })
        .expect("a concept mapped in two groups");
    let expected: BTreeSet<String> = map
        .iter()
        .filter(|m| m["referencedComponentId"] == concept && !m["mapTarget"].is_empty())
        .map(|m| m["mapTarget"].clone())
        .collect();
    let reply = fhir(
        "/ConceptMap/$translate",
        &[
            ("url", &format!("{SCT}?fhir_cm={ICD10_MAP}")),
            ("system", SCT),
            ("code", &concept),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(param(&body, "result").unwrap()["valueBoolean"], true);
    let got: BTreeSet<String> = params(&body, "match")
        .iter()
        .filter_map(|m| {
            m["part"]
                .as_array()?
                .iter()
                .find(|p| p["name"] == "concept")
                .map(|p| p["valueCoding"]["code"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(got, expected);
    // REPLACED BY as a map from the inactive concept to its replacement.
    let replaced = &rf2.members_of(REPLACED_BY)[0];
    let reply = fhir(
        "/ConceptMap/$translate",
        &[
            ("url", &format!("{SCT}?fhir_cm={REPLACED_BY}")),
            ("system", SCT),
            ("code", &replaced["referencedComponentId"]),
        ],
    );
    assert!(
        reply.body.contains(&replaced["targetComponentId"]),
        "{}",
        reply.body
    );
}

#[test]
fn inactive_concepts_warn_and_suggest_their_replacement() {
    let rf2 = int();
    let replaced = &rf2.members_of(REPLACED_BY)[0];
    let code = &replaced["referencedComponentId"];
    let reply = fhir(
        "/CodeSystem/$validate-code",
        &[("url", SCT), ("code", code)],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(
        param(&body, "inactive").unwrap()["valueBoolean"],
        true,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("INACTIVE_CONCEPT_FOUND") || reply.body.contains("inactive"));
    assert!(
        reply.body.contains(&replaced["targetComponentId"]),
        "{}",
        reply.body
    );
    // And $lookup lists the association as a property.
    let lookup = fhir("/CodeSystem/$lookup", &[("system", SCT), ("code", code)]).json();
    assert!(lookup_properties(&lookup).contains(&(
        REPLACED_BY.to_string(),
        replaced["targetComponentId"].clone()
    )));
}

#[test]
fn editions_are_addressed_by_version_uri_and_module() {
    let rf2 = national();
    let module = extension_module();
    // An extension concept: only in the national edition.
    let own = rf2
        .concepts
        .iter()
        .find(|(_, r)| r["moduleId"] == module && r["active"] == "1")
        .map(|(c, _)| c.clone())
        .expect("an extension concept");
    let default = fhir("/CodeSystem/$lookup", &[("system", SCT), ("code", &own)]);
    assert_eq!(
        default.status, 404,
        "the International Edition is the default: {}",
        default.body
    );
    for version in [national_version(), format!("{SCT}/{module}")] {
        let reply = fhir(
            "/CodeSystem/$lookup",
            &[("system", SCT), ("code", &own), ("version", &version)],
        );
        assert_eq!(reply.status, 200, "{version}: {}", reply.body);
        assert_eq!(
            param(&reply.json(), "version").unwrap()["valueString"],
            national_version()
        );
    }
    // Subsumption inside the extension: its concept under an International one.
    let parent = rf2.parents()[&own].iter().next().unwrap().clone();
    let reply = fhir(
        "/CodeSystem/$subsumes",
        &[
            ("system", SCT),
            ("version", &national_version()),
            ("codeA", &parent),
            ("codeB", &own),
        ],
    );
    assert_eq!(
        param(&reply.json(), "outcome").unwrap()["valueCode"],
        "subsumes",
        "{}",
        reply.body
    );
    // Module filter in the national edition.
    let own_concepts: BTreeSet<String> = rf2
        .concepts
        .iter()
        .filter(|(_, r)| r["moduleId"] == module && r["active"] == "1")
        .map(|(c, _)| c.clone())
        .collect();
    assert_eq!(
        ecl(
            &format!("* {{{{ C moduleId = {module} }}}}"),
            &national_version()
        ),
        own_concepts
    );
}

#[test]
fn the_default_edition_is_configurable() {
    let module = extension_module();
    let server = start(&HttpSettings::default(), |store| {
        Some(
            import_paths(
                store,
                &[release_dir()],
                &ImportOptions {
                    snomed_default_edition: Some(module.parse().unwrap()),
                    ..ImportOptions::default()
                },
                &ProgressBar::hidden(),
            )
            .expect("RF2 import"),
        )
    });
    let reply = get(
        &url(
            &server.base,
            "/CodeSystem/$lookup",
            &[("system", SCT), ("code", CLINICAL_FINDING)],
        ),
        &[],
    );
    assert_eq!(
        param(&reply.json(), "version").unwrap()["valueString"],
        national_version()
    );
}

#[test]
fn import_errors_name_the_file_and_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&release_dir(), dir.path());
    // Break the third data row of the International concept file.
    let mut files = Vec::new();
    collect(dir.path(), &mut files);
    let concepts = files
        .iter()
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("sct2_Concept_Snapshot_INT")
        })
        .unwrap()
        .clone();
    let text = std::fs::read_to_string(&concepts).unwrap();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[3].split('\t').map(str::to_owned).collect();
    fields[1] = "2025-01-01".into();
    lines[3] = fields.join("\t");
    std::fs::write(&concepts, lines.join("\r\n")).unwrap();
    let db = dir.path().join("t.db");
    let store = nomen::store::Store::open(&db).unwrap();
    let err = import_paths(
        &store,
        &[dir.path().to_path_buf()],
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .expect_err("the import fails");
    let message = err.to_string();
    assert!(message.contains("sct2_Concept_Snapshot_INT"), "{message}");
    assert!(message.contains(":4:"), "{message}");
    assert!(message.contains("effectiveTime"), "{message}");
    let count: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM code_system", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out)
        } else {
            out.push(p)
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// A SNOMED CT property filter whose value cannot be what the property holds is a 400
/// `invalid` that says what was expected, not an empty expansion.
#[test]
fn bad_snomed_property_filter_values_are_refused_with_what_was_expected() {
    let v = int_version();
    for (property, value, expected) in [
        ("effectiveTime", "2025", "date (YYYYMMDD)"),
        ("moduleId", "core", "concept id"),
        ("sufficientlyDefined", "maybe", "true or false"),
        ("363698007", "lung", "concept id"),
    ] {
        let vs = json!({
            "resourceType": "ValueSet",
            "status": "active",
            "compose": {"include": [{"system": SCT, "version": v, "filter": [
                {"property": property, "op": "=", "value": value}
            ]}]}
        });
        let reply = post(
            &format!("{}/ValueSet/$expand", server().base),
            "application/fhir+json",
            &parameters(&[("valueSet", "resource", vs)]),
            &[],
        );
        assert_eq!(reply.status, 400, "{property} = {value}: {}", reply.body);
        assert_eq!(reply.issue_code(), "invalid", "{property}: {}", reply.body);
        assert!(
            reply.body.contains(expected),
            "{property} = {value}: {}",
            reply.body
        );
    }
}
