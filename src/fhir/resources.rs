//! Resources a request brings with it: the `tx-resource` parameter (CodeSystem, ValueSet
//! or ConceptMap), used for that request only — how the FHIR validator and the
//! conformance suite send content the server does not hold.

use super::outcome::FhirError;
use super::params::OperationInput;
use crate::model::RequestResource;

/// The request's `tx-resource` resources, converted for the store. A resource that cannot
/// be understood is a client error naming it.
pub fn request_resources(input: &OperationInput) -> Result<Vec<RequestResource>, FhirError> {
    let mut resources = input.resources("tx-resource")?;
    // An inline ConceptMap for $translate is used the same way.
    resources.extend(input.resource("conceptMap")?);
    resources
        .into_iter()
        .map(|resource| {
            crate::import::request_resource(resource).map_err(|reason| {
                FhirError::invalid(format!("A tx-resource could not be used: {reason}"))
            })
        })
        .collect()
}
