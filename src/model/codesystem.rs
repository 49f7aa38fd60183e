//! Code system metadata: what the catalogue knows about a loaded code system version
//! without touching its concepts.

use serde::{Deserialize, Serialize};

/// A loaded code system version: its identity, the header fields the operations need,
/// and the property definitions that say how concept properties are typed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeSystemMeta {
    /// Surrogate key in the store; concepts refer to it.
    pub id: i64,
    /// The FHIR logical id (`CodeSystem/{id}`), unique across loaded code systems.
    pub resource_id: String,
    /// Canonical URL (`CodeSystem.url`), the `system` of codings.
    pub url: String,
    /// Business version; empty when the resource has none.
    pub version: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    /// `complete`, `fragment`, `example`, `not-present` or `supplement`.
    pub content: Option<String>,
    pub hierarchy_meaning: Option<String>,
    /// `CodeSystem.caseSensitive`; absent means case-sensitive, as FHIR recommends.
    pub case_sensitive: Option<bool>,
    /// `CodeSystem.valueSet`: the value set of all codes, if declared.
    pub value_set: Option<String>,
    /// The language of the resource's displays (`CodeSystem.language`).
    pub language: Option<String>,
    /// For supplements, the canonical of the code system supplemented.
    pub supplements: Option<String>,
    /// `CodeSystem.date`: when this version was published.
    pub date: Option<String>,
    /// `CodeSystem.experimental`.
    pub experimental: Option<bool>,
    /// The `structuredefinition-standards-status` extension (deprecated, withdrawn, ...).
    pub standards_status: Option<String>,
    /// Whether the content may only be served to institutions holding a licence that
    /// covers it (SNOMED CT always; national classifiers by their publisher's say).
    #[serde(default)]
    pub licensed: bool,
    pub concept_count: i64,
    pub properties: Vec<PropertyDef>,
}

impl CodeSystemMeta {
    /// `url|version`, or just the url when the code system has no version: how answers
    /// name a code system version.
    pub fn canonical(&self) -> String {
        match self.version_opt() {
            Some(v) => format!("{}|{v}", self.url),
            None => self.url.clone(),
        }
    }

    /// The version, or `None` when the code system has no version.
    pub fn version_opt(&self) -> Option<&str> {
        (!self.version.is_empty()).then_some(self.version.as_str())
    }

    /// Whether codes compare case-sensitively (FHIR's default when unstated).
    pub fn is_case_sensitive(&self) -> bool {
        self.case_sensitive.unwrap_or(true)
    }

    /// What the concept hierarchy means; subsumption is only defined for `is-a`.
    pub fn hierarchy(&self) -> HierarchyMeaning {
        HierarchyMeaning::parse(self.hierarchy_meaning.as_deref())
    }

    /// The declared property definition with this code, if any.
    pub fn property(&self, code: &str) -> Option<&PropertyDef> {
        self.properties.iter().find(|p| p.code == code)
    }
}

/// `CodeSystem.hierarchyMeaning`. An absent value is read as `is-a`, the way FHIR
/// terminology servers commonly treat nested concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HierarchyMeaning {
    IsA,
    GroupedBy,
    PartOf,
    ClassifiedWith,
}

impl HierarchyMeaning {
    /// Reads the FHIR code; unknown or absent values mean `is-a`.
    pub fn parse(code: Option<&str>) -> Self {
        match code {
            Some("grouped-by") => Self::GroupedBy,
            Some("part-of") => Self::PartOf,
            Some("classified-with") => Self::ClassifiedWith,
            _ => Self::IsA,
        }
    }

    /// The FHIR code for this meaning.
    pub fn code(self) -> &'static str {
        match self {
            Self::IsA => "is-a",
            Self::GroupedBy => "grouped-by",
            Self::PartOf => "part-of",
            Self::ClassifiedWith => "classified-with",
        }
    }
}

/// A property declared by a code system (`CodeSystem.property`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PropertyDef {
    pub code: String,
    pub uri: Option<String>,
    pub type_: PropertyType,
    pub description: Option<String>,
}

/// The value type of a code system property, as in FHIR's `PropertyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropertyType {
    Code,
    Coding,
    String,
    Integer,
    Boolean,
    DateTime,
    Decimal,
}

impl PropertyType {
    /// Reads the FHIR code (`code`, `Coding`, `string`, ...).
    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "code" => Self::Code,
            "Coding" => Self::Coding,
            "string" => Self::String,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "dateTime" => Self::DateTime,
            "decimal" => Self::Decimal,
            _ => return None,
        })
    }

    /// The FHIR code of this type.
    pub fn code(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Coding => "Coding",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::DateTime => "dateTime",
            Self::Decimal => "decimal",
        }
    }
}
