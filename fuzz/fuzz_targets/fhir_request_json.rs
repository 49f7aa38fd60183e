//! A POST body as the server reads it: JSON → Parameters → every operation's request.
//! Anything may be refused with an error; nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::fhir_request_json(data));
