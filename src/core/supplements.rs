//! Code system supplements: code systems with `content = supplement` that add
//! designations and properties to the concepts of another code system. A supplement
//! applies only when asked for, by a request's `useSupplement` or a value set's
//! `valueset-supplement` extension; one asked for that is not loaded is an error, since
//! the answer would silently lack what the caller relies on.

use std::sync::Arc;

use super::catalog::split_canonical;
use super::error::{CoreError, CoreResult};
use super::Snapshot;
use crate::model::{CodeSystemMeta, Designation, PropertyValue};

/// The supplements in force for one request.
#[derive(Debug, Default, Clone)]
pub struct Supplements {
    list: Vec<Arc<CodeSystemMeta>>,
}

/// The properties every supplement may set from concept extensions, which expansions
/// always report (see the importer).
pub const DISPLAY_PROPERTIES: &[&str] = &["label", "order", "weight"];

impl Supplements {
    /// Resolves the supplements named (`url` or `url|version`); one that is not loaded as
    /// a supplement is `VALUESET_SUPPLEMENT_MISSING`.
    pub fn resolve(snap: &Snapshot, canonicals: &[String]) -> CoreResult<Supplements> {
        let mut list: Vec<Arc<CodeSystemMeta>> = Vec::new();
        for canonical in canonicals {
            let (url, version) = split_canonical(canonical);
            let found = snap
                .catalog
                .resolve(url, version)
                .ok()
                .filter(|cs| cs.content.as_deref() == Some("supplement"));
            let Some(cs) = found else {
                return Err(CoreError::not_found(format!(
                    "Required supplement not found: {canonical}"
                ))
                .with_tx("not-found", "not-found", "VALUESET_SUPPLEMENT_MISSING"));
            };
            if !list.iter().any(|s| s.id == cs.id) {
                list.push(cs);
            }
        }
        Ok(Supplements { list })
    }

    /// Whether no supplement is in force.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The supplements of `cs` in force.
    fn of<'a>(&'a self, cs: &'a CodeSystemMeta) -> impl Iterator<Item = &'a Arc<CodeSystemMeta>> {
        self.list.iter().filter(move |s| {
            s.supplements
                .as_deref()
                .is_some_and(|target| split_canonical(target).0 == cs.url)
        })
    }

    /// `url|version` of the supplements of `cs` in force: what an answer reports as
    /// `used-supplement`.
    pub fn used_for(&self, cs: &CodeSystemMeta) -> Vec<String> {
        self.of(cs).map(|s| s.canonical()).collect()
    }

    /// The designations the supplements give `code` of `cs`, each with the supplement it
    /// came from.
    pub fn designations(
        &self,
        snap: &Snapshot,
        cs: &CodeSystemMeta,
        code: &str,
    ) -> CoreResult<Vec<(Designation, String)>> {
        let mut out = Vec::new();
        for s in self.of(cs) {
            if let Some(c) = snap.txn.concept(s.id, code)? {
                for d in snap.txn.designations(c.id)? {
                    out.push((d, s.canonical()));
                }
            }
        }
        Ok(out)
    }

    /// The properties the supplements give `code` of `cs`.
    pub fn properties(
        &self,
        snap: &Snapshot,
        cs: &CodeSystemMeta,
        code: &str,
    ) -> CoreResult<Vec<PropertyValue>> {
        let mut out = Vec::new();
        for s in self.of(cs) {
            if let Some(c) = snap.txn.concept(s.id, code)? {
                out.extend(snap.txn.properties(c.id)?);
            }
        }
        Ok(out)
    }

    /// The rendering extensions the supplements give `code` of `cs`.
    pub fn concept_extensions(
        &self,
        snap: &Snapshot,
        cs: &CodeSystemMeta,
        code: &str,
    ) -> CoreResult<Vec<serde_json::Value>> {
        let mut out = Vec::new();
        for s in self.of(cs) {
            if let Some(c) = snap.txn.concept(s.id, code)? {
                out.extend(snap.txn.concept_extensions(c.id)?);
            }
        }
        Ok(out)
    }

    /// The URI a supplement declares for a property code.
    pub fn property_uri(&self, cs: &CodeSystemMeta, code: &str) -> Option<String> {
        self.of(cs)
            .find_map(|s| s.property(code).and_then(|p| p.uri.clone()))
    }
}
