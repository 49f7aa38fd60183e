//! FHIR wire formats. JSON is handled with serde_json; XML is converted to and from JSON
//! through fhirbolt's R4 model (in the `nomen-fhir-xml` crate), so the rest of the server
//! works on one representation and every XML response is checked against the R4
//! structure on the way out.

use serde_json::Value;

/// A FHIR serialisation format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The media type answered for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json; charset=utf-8",
            Format::Xml => "application/fhir+xml; charset=utf-8",
        }
    }

    /// Reads a `_format` value or a media type (`json`, `xml`, `application/fhir+xml`,
    /// `text/xml`, ...). `None` for anything that is not a FHIR format.
    pub fn from_mime(value: &str) -> Option<Format> {
        let essence = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "json"
            | "application/fhir+json"
            | "application/json"
            | "application/json+fhir"
            | "text/json" => Some(Format::Json),
            "xml"
            | "application/fhir+xml"
            | "application/xml"
            | "application/xml+fhir"
            | "text/xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

/// Parses a request body in `format` into JSON. The error text is fit for a client.
pub fn parse_body(bytes: &[u8], format: Format) -> Result<Value, String> {
    match format {
        Format::Json => {
            let value: Value = serde_json::from_slice(bytes)
                .map_err(|e| format!("The request body is not valid JSON: {e}"))?;
            if !value.is_object() {
                return Err("The request body is not a FHIR resource (a JSON object)".into());
            }
            Ok(value)
        }
        Format::Xml => nomen_fhir_xml::xml_to_json(bytes),
    }
}

/// Serialises a resource held as JSON into `format`.
pub fn render(value: &Value, format: Format, pretty: bool) -> Result<Vec<u8>, String> {
    match format {
        Format::Json if pretty => serde_json::to_vec_pretty(value).map_err(|e| e.to_string()),
        Format::Json => serde_json::to_vec(value).map_err(|e| e.to_string()),
        Format::Xml => nomen_fhir_xml::json_to_xml(value),
    }
}
