//! FHIR R4 XML ⇄ JSON conversion through fhirbolt's typed R4 model.
//!
//! This is its own crate for build time alone: fhirbolt's generic (de)serialisers are
//! instantiated for every R4 resource type, which takes minutes of optimised compilation.
//! Behind two non-generic functions that cost is paid once, not on every edit of the
//! server. The conversion also checks structure: what does not fit the R4 model is an
//! error, not silently passed on.

use fhirbolt::model::r4::Resource;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode};
use serde_json::Value;

/// Parses a FHIR R4 XML resource into its JSON form. The error text is fit for a client.
pub fn xml_to_json(bytes: &[u8]) -> Result<Value, String> {
    // FHIR XML is UTF-8, and fhirbolt's reader panics on other bytes in names and
    // attributes (found by the fhir_xml fuzz target), so check before parsing.
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(format!(
            "The request body is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ));
    }
    let resource: Resource = fhirbolt::xml::from_slice(bytes, Some(lenient()))
        .map_err(|e| format!("The request body is not a valid FHIR R4 XML resource: {e}"))?;
    fhirbolt::json::to_json_value(resource, None)
        .map_err(|e| format!("The request body could not be converted: {e}"))
}

/// Serialises a FHIR R4 resource held as JSON into XML.
pub fn json_to_xml(value: &Value) -> Result<Vec<u8>, String> {
    let resource: Resource = fhirbolt::json::from_json_value(value.clone(), Some(lenient()))
        .map_err(|e| format!("response is not valid FHIR R4: {e}"))?;
    fhirbolt::xml::to_vec(&resource, None).map_err(|e| e.to_string())
}

/// Stored resources may carry elements of later FHIR versions (the conformance suite's
/// are R5); compatibility mode keeps what R4 knows instead of refusing the whole.
fn lenient() -> DeserializationConfig {
    DeserializationConfig {
        mode: DeserializationMode::Compatibility,
    }
}

#[cfg(test)]
mod tests {
    /// The fuzz target's first finding: a non-UTF-8 byte inside the namespace made
    /// fhirbolt panic; it must be a plain error.
    #[test]
    fn non_utf8_xml_is_an_error_not_a_panic() {
        let body = b"<Parameters xmlns=\"http\xf1//hl7.org/fhir\"><parameter/></Parameters>";
        let err = super::xml_to_json(body).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }
}
