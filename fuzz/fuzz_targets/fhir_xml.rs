//! A FHIR XML body: XML → JSON through fhirbolt's R4 model, and back when it parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::fhir_xml(data));
