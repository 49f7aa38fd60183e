//! LOINC release files as `nomen import` reads them: the input is split at the first
//! NUL byte into `LoincTable/Loinc.csv` and `ComponentHierarchyBySystem.csv`, so both the
//! term rows and the hierarchy (and their cross-references) are exercised.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::loinc_table(data));
