//! Read and search of the stored canonical resources (CodeSystem, ValueSet,
//! ConceptMap), answered from the catalogue; only the matching resources' JSON is read.

use super::error::{CoreError, CoreResult};
use super::Snapshot;

/// Which kind of canonical resource a read or search is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalKind {
    CodeSystem,
    ValueSet,
    ConceptMap,
}

impl CanonicalKind {
    /// The FHIR resource type name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CodeSystem => "CodeSystem",
            Self::ValueSet => "ValueSet",
            Self::ConceptMap => "ConceptMap",
        }
    }
}

/// Search criteria common to canonical resources. `name` and `title` match as FHIR
/// string parameters (case-insensitive prefix); the others exactly.
#[derive(Debug, Clone, Default)]
pub struct CanonicalQuery {
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub id: Option<String>,
    /// ValueSet only: value sets whose compose names this code system (or value set).
    pub reference: Option<String>,
}

/// A search hit: the store id and the logical id.
#[derive(Debug, Clone)]
pub struct Hit {
    pub store_id: i64,
    pub resource_id: String,
}

struct Fields<'a> {
    resource_id: &'a str,
    url: &'a str,
    version: &'a str,
    name: Option<&'a str>,
    title: Option<&'a str>,
    status: Option<&'a str>,
}

impl CanonicalQuery {
    fn matches(&self, f: &Fields) -> bool {
        let exact = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        let prefix = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| {
                have.is_some_and(|h| h.to_lowercase().starts_with(&w.to_lowercase()))
            })
        };
        exact(&self.url, Some(f.url))
            && exact(&self.version, Some(f.version))
            && exact(&self.status, f.status)
            && exact(&self.id, Some(f.resource_id))
            && prefix(&self.name, f.name)
            && prefix(&self.title, f.title)
    }
}

impl Snapshot<'_> {
    /// The resources of `kind` matching `query`, in url and version order.
    pub fn search(&self, kind: CanonicalKind, query: &CanonicalQuery) -> CoreResult<Vec<Hit>> {
        let mut hits = self.search_headers(kind, query);
        if let Some(reference) = &query.reference {
            let referencing: std::collections::HashSet<i64> = self
                .txn
                .value_sets_referencing(reference)?
                .into_iter()
                .collect();
            hits.retain(|h| referencing.contains(&h.store_id));
        }
        Ok(hits)
    }

    fn search_headers(&self, kind: CanonicalKind, query: &CanonicalQuery) -> Vec<Hit> {
        match kind {
            CanonicalKind::CodeSystem => self
                .catalog
                .code_systems
                .iter()
                .filter(|cs| {
                    query.matches(&Fields {
                        resource_id: &cs.resource_id,
                        url: &cs.url,
                        version: &cs.version,
                        name: cs.name.as_deref(),
                        title: cs.title.as_deref(),
                        status: cs.status.as_deref(),
                    })
                })
                .map(|cs| Hit {
                    store_id: cs.id,
                    resource_id: cs.resource_id.clone(),
                })
                .collect(),
            CanonicalKind::ValueSet | CanonicalKind::ConceptMap => {
                let headers = if kind == CanonicalKind::ValueSet {
                    &self.catalog.value_sets
                } else {
                    &self.catalog.concept_maps
                };
                headers
                    .iter()
                    .filter(|(_, h)| {
                        query.matches(&Fields {
                            resource_id: &h.resource_id,
                            url: &h.url,
                            version: &h.version,
                            name: h.name.as_deref(),
                            title: h.title.as_deref(),
                            status: h.status.as_deref(),
                        })
                    })
                    .map(|(id, h)| Hit {
                        store_id: *id,
                        resource_id: h.resource_id.clone(),
                    })
                    .collect()
            }
        }
    }

    /// The stored JSON of a search hit.
    pub fn resource_json(&self, kind: CanonicalKind, hit: &Hit) -> CoreResult<String> {
        let json = match kind {
            CanonicalKind::CodeSystem => self.txn.code_system_resource(hit.store_id)?,
            CanonicalKind::ValueSet => self.txn.value_set_resource(hit.store_id)?,
            CanonicalKind::ConceptMap => self.txn.concept_map_resource(hit.store_id)?,
        };
        json.ok_or_else(|| {
            CoreError::not_found(format!("{}/{} is gone", kind.name(), hit.resource_id))
        })
    }

    /// Reads one resource by logical id.
    pub fn read(&self, kind: CanonicalKind, id: &str) -> CoreResult<(Hit, String)> {
        let query = CanonicalQuery {
            id: Some(id.to_string()),
            ..CanonicalQuery::default()
        };
        let hit = self
            .search(kind, &query)?
            .into_iter()
            .next()
            .ok_or_else(|| CoreError::not_found(format!("{}/{id} is not known", kind.name())))?;
        let json = self.resource_json(kind, &hit)?;
        Ok((hit, json))
    }
}
