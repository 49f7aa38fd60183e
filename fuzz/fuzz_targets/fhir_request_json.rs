//! A POST body as the server reads it: JSON → Parameters → every operation's request.
//! Anything may be refused with an error; nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nomen::fhir::{conceptmap, operations, valueset, OperationInput};

fuzz_target!(|data: &[u8]| {
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
});
