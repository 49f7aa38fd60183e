//! Plain domain types shared by the store, the importers and the terminology core.
//!
//! Nothing here knows SQL, HTTP or FHIR serialisation: these are the nouns of terminology
//! (code systems, concepts, designations, properties) as Rust values, so every layer can
//! speak about them without depending on the layer that stores or renders them.

mod codesystem;
mod concept;
mod load;
pub mod register;
pub mod snomed;
mod valueset;

pub use codesystem::{CodeSystemMeta, HierarchyMeaning, PropertyDef, PropertyType};
pub use concept::{Coding, Concept, Designation, PropertyValue, Value};
pub use load::{
    CanonicalHeader, CodeSystemLoad, ConceptLoad, ConceptMapLoad, MapElement, RequestResource,
    UnmappedRule, ValueSetLoad,
};
pub use valueset::{Compose, ConceptSet, DefinitionOrigin, FilterDef, ListedConcept, ValueSetDef};
