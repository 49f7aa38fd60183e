//! A GET query string (or form body) as the server reads it, into every operation's
//! request. Anything may be refused with an error; nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nomen::fhir::{conceptmap, operations, valueset, OperationInput};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let input = OperationInput::from_query(query);
    let _ = operations::lookup_request(&input, None, None);
    let _ = operations::validate_request(&input, None, Some(query));
    let _ = operations::subsumes_request(&input, None);
    let _ = valueset::expand_request(&input, None, None, 1000);
    let _ = valueset::validate_request(&input, None, None);
    let _ = conceptmap::translate_request(&input, None);
});
