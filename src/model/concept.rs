//! Concepts and what hangs off them: designations and property values.

use serde::{Deserialize, Serialize};

/// A concept of a loaded code system version.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// Surrogate key in the store (closure and links use it).
    pub id: i64,
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    /// Derived at import from the `inactive` property or a `status` of retired/inactive.
    pub inactive: bool,
    /// Derived at import from the `notSelectable` property.
    pub abstract_: bool,
}

/// A FHIR Coding as a plain value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coding {
    pub system: Option<String>,
    pub version: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

/// An additional representation of a concept (`concept.designation`).
#[derive(Debug, Clone, PartialEq)]
pub struct Designation {
    pub language: Option<String>,
    pub use_: Option<Coding>,
    pub value: String,
    /// The designation's extensions, as given (repeated in expansions).
    pub extensions: Vec<serde_json::Value>,
}

impl Designation {
    /// A code system's display as a designation in the code system's language, marked
    /// `preferredForLanguage` (how the ecosystem lists it beside the other designations).
    pub fn preferred_for_language(language: &str, value: &str) -> Designation {
        Designation {
            language: Some(language.to_string()),
            use_: Some(Coding {
                system: Some("http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra".into()),
                code: Some("preferredForLanguage".into()),
                display: Some("Preferred For Language".into()),
                ..Default::default()
            }),
            value: value.to_string(),
            extensions: Vec::new(),
        }
    }
}

/// One property value of a concept (`concept.property`).
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyValue {
    pub code: String,
    pub value: Value,
}

/// A typed property value. Decimals and date-times keep their lexical form so nothing
/// is lost between import and rendering.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Code(String),
    Coding(Coding),
    String(String),
    Integer(i64),
    Boolean(bool),
    DateTime(String),
    Decimal(String),
}

impl Value {
    /// The lexical form used for storage and for comparisons in filters.
    pub fn lexical(&self) -> String {
        match self {
            Value::Code(s) | Value::String(s) | Value::DateTime(s) | Value::Decimal(s) => s.clone(),
            Value::Coding(c) => c.code.clone().unwrap_or_default(),
            Value::Integer(i) => i.to_string(),
            Value::Boolean(b) => b.to_string(),
        }
    }
}
