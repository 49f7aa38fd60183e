//! A national classifier CSV file (preamble, header, rows) as `nomen import` reads it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rejected = Vec::new();
    let _ = nomen::import::classifier::read(std::path::Path::new("fuzz.csv"), data, &mut rejected);
});
