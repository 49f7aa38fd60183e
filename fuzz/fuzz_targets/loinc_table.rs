//! LOINC release files as `nomen import` reads them: the input is split at the first
//! NUL byte into `LoincTable/Loinc.csv` and `ComponentHierarchyBySystem.csv`, so both the
//! term rows and the hierarchy (and their cross-references) are exercised.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nomen::import::loinc;
use nomen::import::release::ReleaseFiles;

fuzz_target!(|data: &[u8]| {
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
    let _ = loinc::read(
        &files,
        None,
        &indicatif::ProgressBar::hidden(),
        &mut rejected,
    );
});
