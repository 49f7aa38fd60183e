//! A national classifier CSV file (preamble, header, rows) as `nomen import` reads it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::classifier_csv(data));
