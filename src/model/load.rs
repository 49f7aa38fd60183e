//! What importers hand to the store: a code system, value set or concept map ready to be
//! written, with its hierarchy and transitive closure already computed.
//!
//! Importers produce these records; only the store writes them. Concepts are addressed by
//! their index in [`CodeSystemLoad::concepts`] until the store gives them ids.

use super::{CodeSystemMeta, Designation, PropertyValue};

/// A code system version to be written, concepts included.
#[derive(Debug, Clone)]
pub struct CodeSystemLoad {
    /// Header fields; `id` and `concept_count` are assigned by the store.
    pub meta: CodeSystemMeta,
    /// The resource as received, served back by `read`.
    pub resource_json: String,
    pub concepts: Vec<ConceptLoad>,
    /// Direct parent links as `(child index, parent index)`.
    pub links: Vec<(u32, u32)>,
    /// The transitive closure as `(ancestor index, descendant index)`, sorted, without
    /// self pairs.
    pub closure: Vec<(u32, u32)>,
    /// SNOMED CT's relationships, reference sets and descriptions (SNOMED editions only).
    pub snomed: Option<Box<super::snomed::SnomedTables>>,
}

/// A concept to be written.
#[derive(Debug, Clone)]
pub struct ConceptLoad {
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub inactive: bool,
    pub abstract_: bool,
    pub designations: Vec<Designation>,
    pub properties: Vec<PropertyValue>,
    /// Rendering extensions of the concept, which expansions repeat.
    pub extensions: Vec<serde_json::Value>,
}

/// The indexed header of a stored canonical resource (ValueSet or ConceptMap).
#[derive(Debug, Clone)]
pub struct CanonicalHeader {
    pub resource_id: String,
    pub url: String,
    /// Empty when the resource has no version.
    pub version: String,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
}

/// A value set to be written: stored whole, with its header indexed.
#[derive(Debug, Clone)]
pub struct ValueSetLoad {
    pub header: CanonicalHeader,
    pub resource_json: String,
    /// The parsed definition the expansion engine evaluates.
    pub definition: super::ValueSetDef,
}

/// A concept map to be written: stored whole, and flattened into elements keyed both ways
/// for `$translate`.
#[derive(Debug, Clone)]
pub struct ConceptMapLoad {
    pub header: CanonicalHeader,
    pub source: Option<String>,
    pub target: Option<String>,
    pub resource_json: String,
    pub elements: Vec<MapElement>,
    /// `group.unmapped` of each group that has one.
    pub unmapped: Vec<UnmappedRule>,
}

/// What a concept map group says about source codes it has no element for.
#[derive(Debug, Clone, Default)]
pub struct UnmappedRule {
    pub source_system: Option<String>,
    pub target_system: Option<String>,
    /// `provided` (the code itself), `fixed` (`code`) or `other-map` (`url`).
    pub mode: String,
    pub code: Option<String>,
    pub display: Option<String>,
    pub url: Option<String>,
}

/// One source → target mapping of a concept map (a `group.element.target`, or an element
/// without targets, which records an unmatched source).
#[derive(Debug, Clone, Default)]
pub struct MapElement {
    pub source_system: Option<String>,
    pub source_version: Option<String>,
    pub source_code: String,
    pub source_display: Option<String>,
    pub target_system: Option<String>,
    pub target_version: Option<String>,
    pub target_code: Option<String>,
    pub target_display: Option<String>,
    pub equivalence: String,
    pub comment: Option<String>,
    /// `dependsOn` as JSON, kept verbatim.
    pub depends_on: Option<String>,
    /// `product` as JSON, kept verbatim.
    pub product: Option<String>,
}

/// A resource sent with one request (`tx-resource`), converted for the store.
#[derive(Debug, Clone)]
pub enum RequestResource {
    CodeSystem(CodeSystemLoad),
    ValueSet(ValueSetLoad),
    ConceptMap(ConceptMapLoad),
}
