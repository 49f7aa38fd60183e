//! A FHIR XML body: XML → JSON through fhirbolt's R4 model, and back when it parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = nomen_fhir_xml::xml_to_json(data) {
        let _ = nomen_fhir_xml::json_to_xml(&json);
    }
});
