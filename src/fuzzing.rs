//! The fuzz targets' bodies, one function per target, shared by `fuzz/` (cargo-fuzz
//! mutates inputs for them) and by the test suite, which replays every seed in
//! `fuzz/seeds/` through them on each run — the inputs that once crashed among them — so
//! a regression shows in CI without the fuzzers' own 11-minute instrumented build.
//!
//! Each function must never panic, whatever the bytes: errors are the expected outcome.

use indicatif::ProgressBar;

use crate::fhir::{conceptmap, operations, valueset, OperationInput};
use crate::import::release::ReleaseFiles;

/// A fuzz target's body: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// The targets by name, as `fuzz/Cargo.toml` names them.
pub const TARGETS: &[(&str, Target)] = &[
    ("claml", claml),
    ("classifier_csv", classifier_csv),
    ("ecl", ecl),
    ("fhir_request_json", fhir_request_json),
    ("fhir_request_query", fhir_request_query),
    ("fhir_xml", fhir_xml),
    ("loinc_table", loinc_table),
    ("rf2", rf2),
];

/// A ClaML file (ICD-10 and its national variants).
pub fn claml(data: &[u8]) {
    let _ = crate::import::claml::read(std::path::Path::new("fuzz.xml"), data, None, None);
}

/// A national classifier in Nomen's CSV layout.
pub fn classifier_csv(data: &[u8]) {
    let mut rejected = Vec::new();
    let _ = crate::import::classifier::read(std::path::Path::new("fuzz.csv"), data, &mut rejected);
}

/// ECL text; what parses must print as canonical text that parses back to the same tree.
pub fn ecl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expression) = nomen_ecl::parse(text) {
        let shown = expression.to_string();
        let again = nomen_ecl::parse(&shown)
            .unwrap_or_else(|e| panic!("display of {text:?} is {shown:?}, which fails: {e}"));
        assert_eq!(again, expression, "display of {text:?} is {shown:?}");
    }
}

/// A JSON Parameters body, into every operation's request.
pub fn fhir_request_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(input) = OperationInput::from_parameters(value) else {
        return;
    };
    let _ = operations::lookup_request(&input, None, Some("lt, en;q=0.5"));
    let _ = operations::validate_request(&input, None, None);
    let _ = operations::subsumes_request(&input, None);
    let _ = valueset::expand_request(&input, None, None, 1000);
    let _ = valueset::validate_request(&input, None, None);
    let _ = conceptmap::translate_request(&input, None);
    let _ = conceptmap::closure_request(&input);
}

/// A query string, into every operation's request.
pub fn fhir_request_query(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let input = OperationInput::from_query(query);
    let _ = operations::lookup_request(&input, None, None);
    let _ = operations::validate_request(&input, None, Some(query));
    let _ = operations::subsumes_request(&input, None);
    let _ = valueset::expand_request(&input, None, None, 1000);
    let _ = valueset::validate_request(&input, None, None);
    let _ = conceptmap::translate_request(&input, None);
}

/// A FHIR XML body: XML → JSON through fhirbolt's R4 model, and back when it parsed.
pub fn fhir_xml(data: &[u8]) {
    if let Ok(json) = nomen_fhir_xml::xml_to_json(data) {
        let _ = nomen_fhir_xml::json_to_xml(&json);
    }
}

/// LOINC release files: split at the first NUL byte into `Loinc.csv` and the component
/// hierarchy, so the term rows and their cross-references are both exercised.
pub fn loinc_table(data: &[u8]) {
    let (table, hierarchy) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let files = ReleaseFiles::in_memory(
        "fuzz",
        vec![
            ("LoincTable/Loinc.csv".into(), table.to_vec()),
            (
                "AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv".into(),
                hierarchy.to_vec(),
            ),
        ],
    );
    let mut rejected = Vec::new();
    let _ = crate::import::loinc::read(&files, None, &ProgressBar::hidden(), &mut rejected);
}

/// SNOMED CT RF2 Snapshot files: split at NUL bytes into a concept, relationship,
/// description and language refset file of one International release, read through to
/// the edition the importer would write.
pub fn rf2(data: &[u8]) {
    const NAMES: [&str; 4] = [
        "R/Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt",
        "R/Snapshot/Terminology/sct2_Relationship_Snapshot_INT_20250101.txt",
        "R/Snapshot/Terminology/sct2_Description_Snapshot-en_INT_20250101.txt",
        "R/Snapshot/Refset/Language/der2_cRefset_LanguageSnapshot-en_INT_20250101.txt",
    ];
    let files: Vec<(String, Vec<u8>)> = data
        .split(|&b| b == 0)
        .zip(NAMES)
        .map(|(bytes, name)| (name.to_string(), bytes.to_vec()))
        .collect();
    let files = ReleaseFiles::in_memory("fuzz", files);
    let _ = crate::import::snomed::read_editions(&files, &ProgressBar::hidden(), |_| Ok(()));
}
