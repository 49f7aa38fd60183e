//! The terminology core: the FHIR terminology operations over the store, as plain Rust
//! functions taking request types and returning result types. It knows nothing of HTTP
//! or FHIR serialisation; the `fhir` module maps Parameters to these types and back.
//!
//! Every operation works on one [`Snapshot`]: a read transaction plus the catalogue that
//! matches it, so a request never sees half of an import.

mod catalog;
mod closure;
pub mod ecl;
mod error;
mod expand;
mod lookup;
mod resources;
mod subsumes;
mod supplements;
mod translate;
mod validate;

use std::sync::{Arc, RwLock};

use crate::store::{ReadTxn, Store};

pub use catalog::{
    compare_versions, split_canonical, Catalog, LicensedSystem, Unresolved, SNOMED_CT,
};
pub use closure::{ClosureEntry, ClosureRequest, ClosureResult, ClosureTables};
pub use error::{CoreError, CoreResult, ErrorKind, TxIssue};
pub use expand::{
    compare, expand, expand_with, validate_in_value_set, CompareRequest, Comparison, ExpandRequest,
    Expansion, ExpansionCache, ExpansionItem, Relationship, ValueSetSource,
    ValueSetValidateRequest, VersionRules,
};
pub use lookup::{lookup, LookupProperty, LookupRequest, LookupResult};
pub use resources::{CanonicalKind, CanonicalQuery, Hit};
pub use subsumes::{subsumes, SubsumesOutcome, SubsumesRequest};
pub use supplements::Supplements;
pub use translate::{translate, Dependency, TranslateMatch, TranslateRequest, TranslateResult};
pub use validate::{
    validate_code, CodingSource, Issue, IssueSeverity, ValidateCodeRequest, ValidateCodeResult,
};

/// The terminology service: the store plus the catalogue cache. Cheap to share.
pub struct Terminology {
    store: Arc<Store>,
    catalog: RwLock<Arc<Catalog>>,
    /// The `$closure` tables clients maintain on this server.
    pub closures: ClosureTables,
    /// Value set selections reused across pages of the same expansion.
    pub expansions: ExpansionCache,
}

/// The store's readiness: each check's value or why it failed.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// The content generation a snapshot read.
    pub database: Result<i64, String>,
    /// The file's schema version.
    pub schema_version: Result<i64, String>,
    /// The schema version this binary writes.
    pub schema_expected: i64,
}

impl Readiness {
    /// Every check passed.
    pub fn ready(&self) -> bool {
        self.database.is_ok() && self.schema_version.as_ref().ok() == Some(&self.schema_expected)
    }
}

/// One consistent view for one request: a read transaction and its catalogue.
pub struct Snapshot<'c> {
    pub txn: ReadTxn<'c>,
    pub catalog: Arc<Catalog>,
}

impl Snapshot<'_> {
    /// A concept's designations as its code system stores them: SNOMED CT's from its
    /// description table, every other code system's from the generic one.
    pub fn designations(
        &self,
        cs: &crate::model::CodeSystemMeta,
        concept_id: i64,
    ) -> crate::store::Result<Vec<crate::model::Designation>> {
        if cs.url == crate::model::snomed::SNOMED {
            self.txn.sct_designations(concept_id)
        } else {
            self.txn.designations(concept_id)
        }
    }
}

impl Terminology {
    /// Wraps an open store; the catalogue loads on first use.
    pub fn new(store: Arc<Store>) -> Self {
        Terminology {
            store,
            catalog: RwLock::new(Arc::new(Catalog::stale())),
            closures: ClosureTables::default(),
            expansions: ExpansionCache::default(),
        }
    }

    /// The underlying store (for imports and administration).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Whether the store can answer: the database opens a snapshot, and its schema is the
    /// one this binary writes (what `/readyz` reports).
    pub fn readiness(&self) -> Readiness {
        let database = self.generation().map_err(|e| e.to_string());
        let schema_version = self.store.file_schema_version().map_err(|e| e.to_string());
        Readiness {
            database,
            schema_version,
            schema_expected: crate::store::schema_version(),
        }
    }

    /// The store's current content generation (one small query).
    pub fn generation(&self) -> CoreResult<i64> {
        Ok(self.store.read()?.generation()?)
    }

    /// The code systems that need a licence, as of the newest catalogue this process
    /// built (no database work: the access policy asks on every request).
    pub fn licensed_systems(&self) -> Arc<Vec<LicensedSystem>> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .licensed
            .clone()
    }

    /// Opens a snapshot, reloading the catalogue if the store changed since it was built
    /// (by this process or by another one importing into the same file).
    pub fn snapshot(&self) -> CoreResult<Snapshot<'static>> {
        let txn = self.store.read()?;
        let generation = txn.generation()?;
        let current = self
            .catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let catalog = if current.generation == generation {
            current
        } else {
            let fresh = Arc::new(Catalog::load(&txn)?);
            *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
            fresh
        };
        Ok(Snapshot { txn, catalog })
    }

    /// Runs `f` on a snapshot that also holds `resources` (the request's `tx-resource`
    /// code systems, value sets and concept maps), visible to this request only. Without
    /// resources this is an ordinary snapshot.
    pub fn with_resources<T>(
        &self,
        resources: &[crate::model::RequestResource],
        f: impl FnOnce(&Snapshot) -> CoreResult<T>,
    ) -> CoreResult<T> {
        if resources.is_empty() {
            return f(&self.snapshot()?);
        }
        self.store.with_scratch(
            |txn| {
                // A resource repeating the url|version of one supplied earlier in the same
                // request is ignored: the first one given is the one used.
                let mut seen = std::collections::HashSet::new();
                for r in resources {
                    let (kind, url, version) = match r {
                        crate::model::RequestResource::CodeSystem(l) => {
                            ("cs", &l.meta.url, &l.meta.version)
                        }
                        crate::model::RequestResource::ValueSet(l) => {
                            ("vs", &l.header.url, &l.header.version)
                        }
                        crate::model::RequestResource::ConceptMap(l) => {
                            ("cm", &l.header.url, &l.header.version)
                        }
                    };
                    if !seen.insert((kind, url.clone(), version.clone())) {
                        continue;
                    }
                    match r {
                        crate::model::RequestResource::CodeSystem(load) => {
                            txn.put_code_system(load)?
                        }
                        crate::model::RequestResource::ValueSet(load) => txn.put_value_set(load)?,
                        crate::model::RequestResource::ConceptMap(load) => {
                            txn.put_concept_map(load)?
                        }
                    };
                }
                txn.mark_changed()?;
                Ok::<(), CoreError>(())
            },
            |txn| {
                let catalog = Arc::new(Catalog::load(&txn)?);
                f(&Snapshot { txn, catalog })
            },
        )
    }
}
