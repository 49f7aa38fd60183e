//! The FHIR layer: the only module that knows fhirbolt and FHIR's JSON shapes. It maps
//! operation parameters to core requests, core results to Parameters, errors to
//! OperationOutcome (one table, in [`outcome`]), and converts between JSON and XML
//! (through fhirbolt, in the `nomen-fhir-xml` crate).

pub mod bundle;
pub mod capability;
pub mod conceptmap;
pub mod format;
pub mod operation_definitions;
pub mod operations;
pub mod outcome;
pub mod params;
pub mod resources;
pub mod valueset;

pub use format::Format;
pub use outcome::{FhirError, Problem};
pub use params::OperationInput;
