//! An ECL expression constraint as `nomen-ecl` parses it; what parses must print as ECL
//! that parses back to the same tree.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::ecl(data));
