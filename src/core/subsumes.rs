//! `CodeSystem/$subsumes`: answered from the precomputed closure, one indexed lookup per
//! direction, never a walk of the hierarchy.

use crate::model::HierarchyMeaning;

use super::error::{CoreError, CoreResult};
use super::validate::unknown_code_text;
use super::Snapshot;

/// The inputs of `$subsumes`, with codings already reduced to codes of one system.
#[derive(Debug, Clone)]
pub struct SubsumesRequest {
    pub system: String,
    pub version: Option<String>,
    pub code_a: String,
    pub code_b: String,
}

/// The relationship between code A and code B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubsumesOutcome {
    Equivalent,
    Subsumes,
    SubsumedBy,
    NotSubsumed,
}

impl SubsumesOutcome {
    /// The FHIR `concept-subsumption-outcome` code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Equivalent => "equivalent",
            Self::Subsumes => "subsumes",
            Self::SubsumedBy => "subsumed-by",
            Self::NotSubsumed => "not-subsumed",
        }
    }
}

/// Tests whether code A subsumes code B.
pub fn subsumes(snap: &Snapshot, req: &SubsumesRequest) -> CoreResult<SubsumesOutcome> {
    let cs = snap
        .catalog
        .resolve(&req.system, req.version.as_deref())
        .map_err(|e| {
            e.into_error(&req.system, req.version.as_deref())
                .at("system")
        })?;
    if cs.hierarchy() != HierarchyMeaning::IsA {
        return Err(CoreError::not_supported(format!(
            "The CodeSystem '{}' has hierarchyMeaning '{}', which does not define subsumption",
            cs.url,
            cs.hierarchy().code()
        )));
    }
    let find = |code: &str, param: &str| -> CoreResult<i64> {
        let concept = if cs.is_case_sensitive() {
            snap.txn.concept(cs.id, code)?
        } else {
            snap.txn.concept_ignoring_case(cs.id, code)?
        };
        concept
            .map(|c| c.id)
            .ok_or_else(|| CoreError::not_found(unknown_code_text(code, &cs)).at(param))
    };
    let a = find(&req.code_a, "codeA")?;
    let b = find(&req.code_b, "codeB")?;
    Ok(if a == b {
        SubsumesOutcome::Equivalent
    } else if snap.txn.is_ancestor(a, b)? {
        SubsumesOutcome::Subsumes
    } else if snap.txn.is_ancestor(b, a)? {
        SubsumesOutcome::SubsumedBy
    } else {
        SubsumesOutcome::NotSubsumed
    })
}
