//! SNOMED CT RF2 Snapshot files as `nomen import` reads them: the input is split at NUL
//! bytes into a concept file, a relationship file, a description file and a language
//! refset file of one International release, so rows, headers and the cross-references
//! between files (unknown concepts, cycles, bad ids) are all exercised, through to the
//! edition the importer would write.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::rf2(data));
