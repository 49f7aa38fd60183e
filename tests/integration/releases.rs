//! Terminology releases in their own formats, over HTTP: LOINC (with its Lithuanian
//! linguistic variant, a national edition beside the international one), ICD-10 from
//! ClaML (English and a Lithuanian translation) and a national CSV classifier in two
//! versions. Expected answers are read from the fixture files themselves where they can
//! be, so the tests check the importer against its input rather than against itself.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use indicatif::ProgressBar;
use nomen::http::HttpSettings;
use nomen::import::{import_paths, ImportOptions};
use serde_json::{json, Value};

use crate::support::{
    expansion_codes, get, lookup_properties, param, parameters, post, start, url, Reply, Server,
};

const LOINC: &str = "http://loinc.org";
const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
const SPECIMEN: &str = "https://fhir.example.lt/CodeSystem/specimen-type";
/// The version the national LOINC edition is imported under in these tests.
const NATIONAL: &str = "2.76-lt";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// One server with every release fixture: LOINC twice (as released, and as the national
/// edition with its own version), both ICD-10 files, both classifier versions.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start(&HttpSettings::default(), |store| {
            let progress = ProgressBar::hidden();
            let report = import_paths(
                store,
                &[fixture("loinc"), fixture("icd10"), fixture("classifiers")],
                &ImportOptions::default(),
                &progress,
            )
            .expect("release fixtures import");
            assert!(report.rejected.is_empty(), "{:?}", report.rejected);
            import_paths(
                store,
                &[fixture("loinc")],
                &ImportOptions {
                    version: Some(NATIONAL.into()),
                    ..ImportOptions::default()
                },
                &progress,
            )
            .expect("national LOINC import");
            Some(report)
        })
    })
}

/// `Loinc.csv` of the fixture as rows of column → value.
fn loinc_rows() -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(fixture("loinc/LoincTable/Loinc.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn lookup(params: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    get(&url(&server().base, "/CodeSystem/$lookup", params), headers)
}

fn ok_json(reply: Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn display(v: &Value) -> String {
    param(v, "display").expect("display")["valueString"]
        .as_str()
        .unwrap()
        .to_string()
}

fn property(v: &Value, code: &str) -> Vec<String> {
    lookup_properties(v)
        .into_iter()
        .filter(|(c, _)| c == code)
        .map(|(_, v)| v)
        .collect()
}

/// Codes of an expansion (all pages: the fixtures are small).
fn expand(body: Value) -> Vec<String> {
    let mut body = body;
    body["parameter"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "count", "valueInteger": 1000}));
    let reply = post(
        &format!("{}/ValueSet/$expand", server().base),
        "application/fhir+json",
        &body.to_string(),
        &[],
    );
    expansion_codes(&ok_json(reply))
}

fn expand_url(vs: &str) -> Vec<String> {
    expand(json!({"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": vs}]}))
}

fn expand_compose(include: Value) -> Vec<String> {
    expand(
        json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": {
        "resourceType": "ValueSet", "url": "http://example.org/vs/test", "status": "active",
        "compose": {"include": [include]}}}]}),
    )
}

fn subsumes(system: &str, a: &str, b: &str, version: Option<&str>) -> String {
    let mut params = vec![("system", system), ("codeA", a), ("codeB", b)];
    if let Some(v) = version {
        params.push(("version", v));
    }
    let v = ok_json(get(
        &url(&server().base, "/CodeSystem/$subsumes", &params),
        &[],
    ));
    param(&v, "outcome").unwrap()["valueCode"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn loinc_lookup_has_the_rows_properties_and_the_lithuanian_display() {
    let rows = loinc_rows();
    let row = rows.iter().find(|r| r["LOINC_NUM"] == "26636-1").unwrap();
    let v = ok_json(lookup(
        &[("system", LOINC), ("code", "26636-1"), ("version", "2.76")],
        &[],
    ));
    assert_eq!(display(&v), row["LONG_COMMON_NAME"]);
    assert_eq!(param(&v, "version").unwrap()["valueString"], "2.76");
    // Every non-empty column of the row is a property of that name.
    for (column, value) in row {
        if column == "LOINC_NUM" || value.is_empty() {
            continue;
        }
        let got = property(&v, column);
        assert!(!got.is_empty(), "no property {column}");
        if ![
            "COMPONENT",
            "PROPERTY",
            "TIME_ASPCT",
            "SYSTEM",
            "SCALE_TYP",
            "METHOD_TYP",
        ]
        .contains(&column.as_str())
        {
            assert_eq!(got, vec![value.clone()], "{column}");
        }
    }
    // The axes are Codings to the parts the primary part links name.
    let links = std::fs::read_to_string(fixture(
        "loinc/AccessoryFiles/PartFile/LoincPartLink_Primary.csv",
    ))
    .unwrap();
    let component_part = links
        .lines()
        .find(|l| l.starts_with("\"26636-1\"") && l.contains("/property/COMPONENT"))
        .and_then(|l| l.split(',').nth(2))
        .unwrap()
        .trim_matches('"')
        .to_string();
    assert_eq!(property(&v, "COMPONENT"), vec![component_part]);
    assert_eq!(property(&v, "copyright"), vec!["LOINC"]);
    assert!(property(&v, "parent").contains(&"LP20310-9".to_string()));

    // The Lithuanian linguistic variant gives the display in lt, by parameter or header.
    let lt = std::fs::read_to_string(fixture(
        "loinc/AccessoryFiles/LinguisticVariants/ltLT99LinguisticVariant.csv",
    ))
    .unwrap();
    let mut reader = csv::Reader::from_reader(lt.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let long = headers
        .iter()
        .position(|h| h == "LONG_COMMON_NAME")
        .unwrap();
    let lt_name = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "26636-1")
        .unwrap()[long]
        .to_string();
    assert_eq!(lt_name, "Gliukozė [Masė/tūris] serume arba plazmoje");
    let v = ok_json(lookup(
        &[
            ("system", LOINC),
            ("code", "26636-1"),
            ("displayLanguage", "lt"),
        ],
        &[],
    ));
    assert_eq!(display(&v), lt_name);
    let v = ok_json(lookup(
        &[("system", LOINC), ("code", "26636-1")],
        &[("Accept-Language", "lt-LT")],
    ));
    assert_eq!(display(&v), lt_name);
    // Text search reaches every language.
    let codes = expand(json!({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "http://loinc.org/vs"},
        {"name": "filter", "valueString": "gliukoze serume"}]}));
    assert!(codes.contains(&"26636-1".to_string()), "{codes:?}");
}

#[test]
fn loinc_deprecated_terms_are_inactive_and_bad_codes_unknown() {
    let v = ok_json(lookup(&[("system", LOINC), ("code", "34273-3")], &[]));
    assert_eq!(property(&v, "inactive"), vec!["true"]);
    assert_eq!(property(&v, "STATUS"), vec!["DEPRECATED"]);
    let v = ok_json(get(
        &url(
            &server().base,
            "/CodeSystem/$validate-code",
            &[("url", LOINC), ("code", "34273-3")],
        ),
        &[],
    ));
    assert_eq!(param(&v, "inactive").unwrap()["valueBoolean"], true);
    let reply = lookup(&[("system", LOINC), ("code", "26636-2")], &[]);
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[test]
fn loinc_answer_list_expands_in_answer_order_and_is_linked_from_its_terms() {
    let text =
        std::fs::read_to_string(fixture("loinc/AccessoryFiles/AnswerFile/AnswerList.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (list, seq, answer) = (
        col("AnswerListId"),
        col("SequenceNumber"),
        col("AnswerStringId"),
    );
    let mut expected: Vec<(i64, String)> = reader
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[list] == "LL2693-0")
        .map(|r| (r[seq].parse().unwrap(), r[answer].to_string()))
        .collect();
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, c)| c).collect();
    assert_eq!(expected.len(), 4);
    assert_eq!(expand_url("http://loinc.org/vs/LL2693-0"), expected);

    let v = ok_json(lookup(&[("system", LOINC), ("code", "82498-7")], &[]));
    assert_eq!(property(&v, "answer-list"), vec!["LL2693-0"]);
    let v = ok_json(lookup(&[("system", LOINC), ("code", "LA20445-3")], &[]));
    assert_eq!(display(&v), "Positive");
    // The answer list is a value set resource too.
    let reply = get(
        &url(
            &server().base,
            "/ValueSet",
            &[("url", "http://loinc.org/vs/LL2693-0")],
        ),
        &[],
    );
    let bundle = ok_json(reply);
    assert_eq!(bundle["entry"][0]["resource"]["title"], "Presence");
}

#[test]
fn loinc_property_filters_select_what_the_release_says() {
    let rows = loinc_rows();
    let codes_where = |column: &str, value: &str| -> BTreeSet<String> {
        rows.iter()
            .filter(|r| r[column] == value)
            .map(|r| r["LOINC_NUM"].clone())
            .collect()
    };
    let filtered = |property: &str, value: &str| -> BTreeSet<String> {
        expand_compose(json!({"system": LOINC, "filter": [
            {"property": property, "op": "=", "value": value}]}))
        .into_iter()
        .collect()
    };
    let qn = codes_where("SCALE_TYP", "Qn");
    assert!(qn.len() > 10);
    assert_eq!(filtered("SCALE_TYP", "Qn"), qn);
    // The same filter by the part code of Qn.
    let v = ok_json(lookup(&[("system", LOINC), ("code", "26636-1")], &[]));
    let qn_part = property(&v, "SCALE_TYP").pop().unwrap();
    assert!(qn_part.starts_with("LP"));
    assert_eq!(filtered("SCALE_TYP", &qn_part), qn);

    let chem = codes_where("CLASS", "CHEM");
    assert!(!chem.is_empty());
    assert_eq!(filtered("CLASS", "CHEM"), chem);
    assert_eq!(
        filtered("COMPONENT", "Glucose"),
        codes_where("COMPONENT", "Glucose")
    );
    // Parts have a status too.
    let mut deprecated = codes_where("STATUS", "DEPRECATED");
    let parts = std::fs::read_to_string(fixture("loinc/AccessoryFiles/PartFile/Part.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(parts.as_bytes());
    for r in reader.records() {
        let r = r.unwrap();
        if &r[4] == "DEPRECATED" {
            deprecated.insert(r[0].to_string());
        }
    }
    assert!(deprecated.iter().any(|c| c.starts_with("LP")));
    assert_eq!(filtered("STATUS", "DEPRECATED"), deprecated);
    let third_party: BTreeSet<String> = rows
        .iter()
        .filter(|r| !r["EXTERNAL_COPYRIGHT_NOTICE"].is_empty())
        .map(|r| r["LOINC_NUM"].clone())
        .collect();
    assert!(!third_party.is_empty());
    assert_eq!(filtered("copyright", "3rdParty"), third_party);

    // Membership agrees with the expansion.
    let vs = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/qn", "status": "active",
        "compose": {"include": [{"system": LOINC, "filter": [
            {"property": "SCALE_TYP", "op": "=", "value": "Qn"}]}]}});
    for (code, member) in [("26636-1", true), ("48032-7", false)] {
        assert_eq!(qn.contains(code), member);
        let body = parameters(&[
            ("valueSet", "resource", vs.clone()),
            (
                "coding",
                "valueCoding",
                json!({"system": LOINC, "code": code}),
            ),
        ]);
        let v = ok_json(post(
            &format!("{}/ValueSet/$validate-code", server().base),
            "application/fhir+json",
            &body,
            &[],
        ));
        assert_eq!(
            param(&v, "result").unwrap()["valueBoolean"],
            member,
            "{code}"
        );
    }
}

#[test]
fn loinc_multiaxial_hierarchy_gives_subsumption_and_part_value_sets() {
    // Walk the hierarchy file: every code's ancestors from PATH_TO_ROOT.
    let text = std::fs::read_to_string(fixture(
        "loinc/AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv",
    ))
    .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut ancestors: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in reader.records() {
        let r = r.unwrap();
        let entry = ancestors.entry(r[3].to_string()).or_default();
        entry.extend(r[0].split('.').filter(|s| !s.is_empty()).map(str::to_owned));
    }
    assert!(ancestors["26636-1"].contains("LP24484-8"));
    assert_eq!(subsumes(LOINC, "LP24484-8", "26636-1", None), "subsumes");
    assert_eq!(subsumes(LOINC, "26636-1", "LP24484-8", None), "subsumed-by");
    assert!(!ancestors["26636-1"].contains("LP30064-0"));
    assert_eq!(
        subsumes(LOINC, "LP30064-0", "26636-1", None),
        "not-subsumed"
    );
    assert_eq!(subsumes(LOINC, "26636-1", "26636-1", None), "equivalent");

    // http://loinc.org/vs/{LP}: exactly the terms under the part.
    let expected: BTreeSet<String> = ancestors
        .iter()
        .filter(|(code, up)| !code.starts_with("LP") && up.contains("LP24484-8"))
        .map(|(code, _)| code.clone())
        .collect();
    let got: BTreeSet<String> = expand_url("http://loinc.org/vs/LP24484-8")
        .into_iter()
        .collect();
    assert_eq!(got, expected);
    // An ancestor filter through the closure, parts included.
    let under: BTreeSet<String> = expand_compose(json!({"system": LOINC, "filter": [
        {"property": "concept", "op": "is-a", "value": "LP24484-8"}]}))
    .into_iter()
    .collect();
    assert!(under.is_superset(&expected));
    assert!(under.contains("LP61930-4"));
}

#[test]
fn loinc_national_edition_sits_beside_the_international_one() {
    for version in ["2.76", NATIONAL] {
        let v = ok_json(lookup(
            &[("system", LOINC), ("code", "72616-6"), ("version", version)],
            &[],
        ));
        assert_eq!(param(&v, "version").unwrap()["valueString"], version);
    }
    let reply = lookup(
        &[("system", LOINC), ("code", "72616-6"), ("version", "2.99")],
        &[],
    );
    assert_eq!(reply.status, 404, "{}", reply.body);
    let caps = ok_json(get(
        &format!("{}/metadata?mode=terminology", server().base),
        &[],
    ));
    let loinc = caps["codeSystem"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["uri"] == LOINC)
        .expect("LOINC in TerminologyCapabilities");
    let versions: BTreeSet<&str> = loinc["version"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(versions, BTreeSet::from(["2.76", NATIONAL]));
}

#[test]
fn icd10_category_and_subcategory_with_their_chapter() {
    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "A00"), ("version", "2019")],
        &[],
    ));
    assert_eq!(display(&v), "Cholera");
    assert_eq!(property(&v, "kind"), vec!["category"]);
    assert_eq!(property(&v, "parent"), vec!["A00-A09"]);
    let children = property(&v, "child");
    assert!(children.contains(&"A00.0".to_string()), "{children:?}");

    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "A00.0"), ("version", "2019")],
        &[],
    ));
    assert_eq!(
        display(&v),
        "Cholera due to Vibrio cholerae 01, biovar cholerae"
    );
    assert_eq!(property(&v, "parent"), vec!["A00"]);
    // The ancestry up to the chapter: block, then chapter.
    let ancestry: BTreeSet<String> = expand_compose(json!({"system": ICD10, "version": "2019",
        "filter": [{"property": "concept", "op": "generalizes", "value": "A00.0"}]}))
    .into_iter()
    .collect();
    assert_eq!(
        ancestry,
        BTreeSet::from(["A00.0", "A00", "A00-A09", "I"].map(String::from))
    );
    assert_eq!(subsumes(ICD10, "I", "A00.0", Some("2019")), "subsumes");
    assert_eq!(subsumes(ICD10, "VI", "A00.0", Some("2019")), "not-subsumed");
    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "I"), ("version", "2019")],
        &[],
    ));
    assert_eq!(property(&v, "kind"), vec!["chapter"]);
}

#[test]
fn icd10_is_a_expansion_of_a_block() {
    let text = std::fs::read_to_string(fixture("icd10/icd10-mini.claml.xml")).unwrap();
    // Classes whose code starts with A00..A09 by the file (categories and subcategories).
    let in_block: BTreeSet<String> = text
        .match_indices("<Class code=\"")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .filter(|c| c.len() >= 3 && c.as_str() >= "A00" && c.as_str() < "A10" && !c.contains('-'))
        .collect();
    assert!(in_block.len() >= 5, "{in_block:?}");
    let mut expected = in_block.clone();
    expected.insert("A00-A09".into());
    let got: BTreeSet<String> = expand_compose(json!({"system": ICD10, "version": "2019",
        "filter": [{"property": "concept", "op": "is-a", "value": "A00-A09"}]}))
    .into_iter()
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn icd10_dagger_asterisk_modifiers_and_the_lithuanian_translation() {
    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "A17.0"), ("version", "2019")],
        &[],
    ));
    assert_eq!(property(&v, "usage"), vec!["dagger"]);
    assert_eq!(display(&v), "Tuberculous meningitis (G01*)");
    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "G01"), ("version", "2019")],
        &[],
    ));
    assert_eq!(property(&v, "usage"), vec!["aster"]);
    assert!(
        !property(&v, "inclusion").is_empty()
            || !property(&v, "exclusion").is_empty()
            || v.to_string().contains("A17.0")
    );

    // The modifier on A15 gives each of its subcategories a fifth character.
    for (code, parent) in [
        ("A15.00", "A15.0"),
        ("A15.01", "A15.0"),
        ("A15.11", "A15.1"),
    ] {
        let v = ok_json(lookup(
            &[("system", ICD10), ("code", code), ("version", "2019")],
            &[],
        ));
        assert_eq!(property(&v, "parent"), vec![parent], "{code}");
        assert_eq!(property(&v, "modifier"), vec!["A15_5"], "{code}");
    }
    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "A15.01"), ("version", "2019")],
        &[],
    ));
    assert!(
        display(&v).ends_with(", histologically confirmed"),
        "{}",
        display(&v)
    );

    // The translation is its own version, in Lithuanian.
    let v = ok_json(lookup(
        &[("system", ICD10), ("code", "A01"), ("version", "2019-lt")],
        &[],
    ));
    assert_eq!(display(&v), "Vidurių šiltinė ir paratifai");
    // Unversioned questions go to the newest version by version order.
    let v = ok_json(lookup(&[("system", ICD10), ("code", "A01")], &[]));
    assert!(param(&v, "version").is_some());
}

#[test]
fn classifier_versions_answer_differently() {
    let read = |version: &str, code: &str, extra: &[(&str, &str)]| {
        let mut params = vec![("system", SPECIMEN), ("code", code), ("version", version)];
        params.extend_from_slice(extra);
        lookup(&params, &[])
    };
    let v1 = ok_json(read("1.0.0", "SERPL", &[]));
    let v2 = ok_json(read("2.0.0", "SERPL", &[]));
    assert_eq!(display(&v1), "Serum or plasma");
    assert_eq!(display(&v2), "Serum/Plasma");
    // Two parents in the parent column.
    let mut parents = property(&v1, "parent");
    parents.sort();
    assert_eq!(parents, vec!["PLAS", "SER"]);

    let lt1 = ok_json(read("1.0.0", "UR24", &[("displayLanguage", "lt")]));
    let lt2 = ok_json(read("2.0.0", "UR24", &[("displayLanguage", "lt")]));
    assert_eq!(display(&lt1), "Paros šlapimas");
    assert_eq!(display(&lt2), "24 valandų šlapimas");

    assert_eq!(read("1.0.0", "SALIVA", &[]).status, 404);
    assert_eq!(
        ok_json(read("2.0.0", "SALIVA", &[])).pipe(|v| display(&v)),
        "Saliva"
    );
    assert_eq!(
        property(&ok_json(read("1.0.0", "SWAB", &[])), "inactive"),
        vec!["false"]
    );
    let swab = ok_json(read("2.0.0", "SWAB", &[]));
    assert_eq!(property(&swab, "inactive"), vec!["true"]);
    assert_eq!(property(&swab, "status"), vec!["retired"]);
    // A declared boolean column is typed.
    assert!(lookup_properties(&v2)
        .iter()
        .any(|(c, v)| c == "sterile" && (v == "true" || v == "false")));
    // The newest version answers when none is named.
    let v = ok_json(lookup(&[("system", SPECIMEN), ("code", "SERPL")], &[]));
    assert_eq!(param(&v, "version").unwrap()["valueString"], "2.0.0");
    // validate-code per version.
    for (version, result) in [("1.0.0", false), ("2.0.0", true)] {
        let v = ok_json(get(
            &url(
                &server().base,
                "/CodeSystem/$validate-code",
                &[("url", SPECIMEN), ("code", "SALIVA"), ("version", version)],
            ),
            &[],
        ));
        assert_eq!(
            param(&v, "result").unwrap()["valueBoolean"],
            result,
            "{version}"
        );
    }
}

/// Value → closure, to keep assertions on one line.
trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl Pipe for Value {}

#[test]
fn release_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("errors.db");
    let run = |path: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
            .args(["import", "--db"])
            .arg(&db)
            .arg(path)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // A classifier row with a bad status is rejected with its line; the rest loads.
    let csv = dir.path().join("bad-status.csv");
    std::fs::write(
        &csv,
        "# url: https://example.org/cs/x\n# version: 1\ncode,display,status\nA,Alpha,active\nB,Beta,sideways\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = run(&csv);
    assert!(ok, "{stdout} {stderr}");
    assert!(
        stdout.contains("loaded:   1 CodeSystem (1 concepts"),
        "{stdout}"
    );
    assert!(
        stdout.contains("bad-status.csv:5: the status 'sideways'"),
        "{stdout}"
    );

    // A classifier without its display column stops the import, naming the header line.
    let csv = dir.path().join("no-display.csv");
    std::fs::write(
        &csv,
        "# url: https://example.org/cs/y\n# version: 1\ncode\nA\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(&csv);
    assert!(!ok);
    assert!(
        stderr.contains("no-display.csv:3: the header row has no column 'display'"),
        "{stderr}"
    );
    // An undeclared extra column, and a missing version, stop it too.
    std::fs::write(
        &csv,
        "# url: https://example.org/cs/y\n# version: 1\ncode,display,colour\nA,Alpha,red\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(&csv);
    assert!(!ok);
    assert!(
        stderr.contains("no-display.csv:3: the column 'colour' is not declared"),
        "{stderr}"
    );
    std::fs::write(
        &csv,
        "# url: https://example.org/cs/y\ncode,display\nA,Alpha\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(&csv);
    assert!(!ok);
    assert!(stderr.contains("no '# version:' line"), "{stderr}");

    // A LOINC release whose term has a wrong check digit: that row is rejected.
    let release = dir.path().join("Loinc_9.99");
    std::fs::create_dir_all(release.join("LoincTable")).unwrap();
    std::fs::write(
        release.join("LoincTable/Loinc.csv"),
        "\"LOINC_NUM\",\"COMPONENT\",\"LONG_COMMON_NAME\"\n\"2345-7\",\"Glucose\",\"Glucose [Mass/volume] in Serum or Plasma\"\n\"2345-6\",\"Glucose\",\"Bad check digit\"\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = run(&release);
    assert!(ok, "{stdout} {stderr}");
    assert!(
        stdout.contains("Loinc.csv:3: '2345-6' is not a LOINC number"),
        "{stdout}"
    );
    assert!(stdout.contains("(1 concepts"), "{stdout}");

    // A ClaML file that is not well-formed.
    let xml = dir.path().join("broken.xml");
    std::fs::write(
        &xml,
        "<?xml version=\"1.0\"?>\n<ClaML version=\"2.0.0\">\n<Class code=\"A\">\n</ClaML>\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(&xml);
    assert!(!ok);
    assert!(
        stderr.contains("broken.xml:4: not well-formed XML"),
        "{stderr}"
    );
}
