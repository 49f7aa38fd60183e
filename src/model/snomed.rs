//! What SNOMED CT has beyond the generic concept graph: attribute relationships in role
//! groups, concrete values, reference set members and descriptions with their dialect
//! acceptability. ECL evaluates over these; the generic tables (concepts, designations,
//! properties, parent links, closure) still carry everything the other operations need.
//!
//! Concepts are addressed by their index in [`super::CodeSystemLoad::concepts`], as the
//! parent links are, until the store gives them ids.

/// SNOMED CT's canonical URL.
pub const SNOMED: &str = "http://snomed.info/sct";
/// The International Edition's core module: the edition module of International releases
/// and the default edition until another is chosen.
pub const CORE_MODULE: u64 = 900000000000207008;

/// Description types (RF2 `typeId`).
pub const FSN: u64 = 900000000000003001;
pub const SYNONYM: u64 = 900000000000013009;
pub const DEFINITION: u64 = 900000000000550004;
/// The US and GB English language reference sets.
pub const US_ENGLISH: u64 = 900000000000509007;
pub const GB_ENGLISH: u64 = 900000000000508004;

/// Where an active description stands when a concept's descriptions are listed as
/// designations (lowest first); the first also gives the concept its display. The US
/// English preferred synonym, else the GB one, else another dialect's preferred synonym,
/// else the FSN. `acceptability` lists `(language refset, preferred)`. The importer
/// (display) and the store's reader (designation order) both rank with this.
pub fn designation_rank(type_id: u64, acceptability: &[(u64, bool)]) -> u8 {
    let preferred_in = |refset: u64| acceptability.iter().any(|&(r, p)| r == refset && p);
    match type_id {
        SYNONYM if preferred_in(US_ENGLISH) => 0,
        SYNONYM if preferred_in(GB_ENGLISH) => 1,
        SYNONYM if acceptability.iter().any(|&(_, p)| p) => 2,
        FSN => 3,
        _ => 9,
    }
}

/// The designation use of a description type: the type concept with its name.
pub fn description_use(type_id: u64) -> super::Coding {
    super::Coding {
        system: Some(SNOMED.into()),
        code: Some(type_id.to_string()),
        display: Some(
            match type_id {
                FSN => "Fully specified name",
                DEFINITION => "Definition",
                _ => "Synonym",
            }
            .into(),
        ),
        version: None,
    }
}

/// `(refset, preferred)` memberships as stored: `refset:P refset:A ...`.
pub fn format_acceptability(memberships: &[(u64, bool)]) -> String {
    memberships
        .iter()
        .map(|(refset, p)| format!("{refset}:{}", if *p { 'P' } else { 'A' }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses stored acceptability (see [`format_acceptability`]) into `(refset, preferred)`.
pub fn parse_acceptability(stored: &str) -> Vec<(u64, bool)> {
    stored
        .split_whitespace()
        .filter_map(|pair| {
            let (refset, flag) = pair.split_once(':')?;
            Some((refset.parse().ok()?, flag == "P"))
        })
        .collect()
}

/// The SNOMED CT tables of one edition version, written beside its concepts.
#[derive(Debug, Clone, Default)]
pub struct SnomedTables {
    /// Module, effective time and definition status of every concept, by index.
    pub concepts: Vec<SctConcept>,
    /// Active inferred attribute relationships (everything but is-a, which is the
    /// hierarchy).
    pub relationships: Vec<Relationship>,
    /// Active inferred relationships to concrete values (`#250`, `"text"`, `true`).
    pub concrete: Vec<ConcreteValue>,
    /// Active members of every reference set except the language reference sets (whose
    /// content is in [`SctDescription::acceptability`]).
    pub members: Vec<RefsetMember>,
    /// Every description, active or not (ECL's description filters can ask for either).
    pub descriptions: Vec<SctDescription>,
}

/// What RF2 says of a concept beyond code, terms and activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctConcept {
    pub module: String,
    pub effective_time: String,
    /// `definitionStatusId` is 900000000000073002 |Defined|.
    pub defined: bool,
}

/// An attribute relationship: `source —type→ destination`, in role group `group` (0:
/// ungrouped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    pub source: u32,
    pub type_: u32,
    pub destination: u32,
    pub group: u32,
}

/// A relationship to a concrete value. `value` is the RF2 lexical form: `#` and a number,
/// a quoted string, or `true`/`false`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcreteValue {
    pub source: u32,
    pub type_: u32,
    pub value: String,
    pub group: u32,
}

/// One active reference set member. `referenced` is the concept index when the
/// referenced component is a concept of the edition (descriptions and relationships can
/// be members too, and are kept by id only).
#[derive(Debug, Clone, PartialEq)]
pub struct RefsetMember {
    pub refset: u32,
    pub referenced: Option<u32>,
    pub component: String,
    /// The member's additional fields (`mapTarget`, `targetComponentId`, ...) by their
    /// RF2 column names, as a JSON object.
    pub fields: String,
}

/// A description as RF2 has it, for ECL's description filters.
#[derive(Debug, Clone, PartialEq)]
pub struct SctDescription {
    pub concept: u32,
    pub id: String,
    pub term: String,
    pub language: String,
    pub type_id: String,
    pub active: bool,
    pub module: String,
    pub effective_time: String,
    /// `refsetId:P` or `refsetId:A` for each language reference set that holds it,
    /// space-separated (P: preferred, A: acceptable).
    pub acceptability: String,
}

/// An RF2 concrete value as a typed property value.
pub fn concrete_value(value: &str) -> super::Value {
    if let Some(n) = value.strip_prefix('#') {
        match n.parse::<i64>() {
            Ok(i) => super::Value::Integer(i),
            Err(_) => super::Value::Decimal(n.to_string()),
        }
    } else if let Some(s) = value.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        super::Value::String(s.to_string())
    } else {
        super::Value::Boolean(value == "true")
    }
}
