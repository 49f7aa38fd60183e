//! A GET query string (or form body) as the server reads it, into every operation's
//! request. Anything may be refused with an error; nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nomen::fuzzing::fhir_request_query(data));
