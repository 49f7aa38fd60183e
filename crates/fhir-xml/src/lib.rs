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
