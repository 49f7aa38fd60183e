//! Value set definitions: the `compose` of a FHIR ValueSet as plain values, which the
//! expansion engine evaluates.

use serde::{Deserialize, Serialize};

/// A value set's identity and logical definition.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ValueSetDef {
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub compose: Option<Compose>,
    /// The resource's descriptive elements an expansion repeats (`id`, `language`, `url`,
    /// `version`, `name`, `title`, `status`, `experimental`, `date`), as given.
    #[serde(default)]
    pub envelope: serde_json::Map<String, serde_json::Value>,
    /// The `structuredefinition-standards-status` extension (deprecated, withdrawn, ...).
    #[serde(default)]
    pub standards_status: Option<String>,
    /// Default expansion parameters the value set declares (`valueset-expansion-parameter`
    /// extensions on `compose`), as `Parameters.parameter` elements.
    #[serde(default)]
    pub parameters: Vec<serde_json::Value>,
    /// Value sets contained in this one, which its compose may import as `#id`.
    #[serde(default)]
    pub contained: Vec<ValueSetDef>,
    /// Code system supplements the value set requires (`valueset-supplement`).
    #[serde(default)]
    pub supplements: Vec<String>,
    /// Where the definition was read from, so that an expansion asked to include the
    /// definition (`includeDefinition`) can repeat the resource as it was given. Known
    /// only while a request runs: it is not stored with the definition.
    #[serde(skip)]
    pub origin: DefinitionOrigin,
}

/// The resource a [`ValueSetDef`] was read from. Its `Debug` leaves out an inline
/// resource's text: expansion cache keys are the request's `Debug`, and the selection
/// does not depend on it.
#[derive(Clone, Default)]
pub enum DefinitionOrigin {
    /// Built by the server (an implicit value set) or contained in another one.
    #[default]
    Derived,
    /// The `value_set` row with this id, whose `resource` is the stored ValueSet.
    Stored(i64),
    /// Sent with the request (the `valueSet` parameter).
    Inline(std::sync::Arc<serde_json::Value>),
}

impl std::fmt::Debug for DefinitionOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DefinitionOrigin::Derived => f.write_str("Derived"),
            DefinitionOrigin::Stored(id) => write!(f, "Stored({id})"),
            DefinitionOrigin::Inline(_) => f.write_str("Inline"),
        }
    }
}

impl ValueSetDef {
    /// `url|version` (or the url alone), how answers name the value set; `None` for a
    /// value set without a url.
    pub fn canonical(&self) -> Option<String> {
        let url = self.url.as_ref()?;
        Some(match &self.version {
            Some(v) => format!("{url}|{v}"),
            None => url.clone(),
        })
    }

    /// A default expansion parameter the value set declares, as text.
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.parameters
            .iter()
            .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
            .and_then(|p| {
                p.as_object()?
                    .iter()
                    .find(|(k, _)| k.starts_with("value"))
                    .map(|(_, v)| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
            })
    }
}

/// `ValueSet.compose`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Compose {
    /// `compose.inactive`: whether inactive concepts are included (default true).
    pub inactive: Option<bool>,
    pub locked_date: Option<String>,
    pub include: Vec<ConceptSet>,
    pub exclude: Vec<ConceptSet>,
}

/// One `compose.include` or `compose.exclude`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConceptSet {
    pub system: Option<String>,
    pub version: Option<String>,
    /// Explicitly listed concepts (`concept`), with the display the value set gives them.
    pub concepts: Vec<ListedConcept>,
    pub filters: Vec<FilterDef>,
    /// Canonicals of imported value sets (`valueSet`).
    pub value_sets: Vec<String>,
}

/// A concept listed in a concept set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListedConcept {
    pub code: String,
    pub display: Option<String>,
    /// The extensions the value set puts on the concept (deprecation, label, order...),
    /// which its expansions repeat.
    #[serde(default)]
    pub extensions: Vec<serde_json::Value>,
    /// Designations the value set gives the concept (`concept.designation`), as given.
    #[serde(default)]
    pub designations: Vec<serde_json::Value>,
}

/// A `compose.include.filter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FilterDef {
    pub property: String,
    pub op: String,
    pub value: String,
}
