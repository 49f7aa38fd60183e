//! Importers: turn release files into model records and hand them to the store's single
//! write path.
//!
//! Invariants: one `nomen import` (all its paths) is one transaction: a fatal error (an
//! unreadable file, a database failure) leaves the database exactly as it was. A resource
//! that cannot be understood is *rejected* — listed with its origin and reason — and the
//! rest still load; resource types that are not terminology are *skipped* and counted.

mod closure;
mod codesystem;
mod conceptmap;
mod fhir_json;
mod source;
pub mod valueset;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use serde_json::Value;

use crate::model::ValueSetLoad;
use crate::store::{Store, StoreError, WriteOutcome, WriteTxn};

pub use closure::transitive_closure;

/// Why an import stopped as a whole (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{rejected} resource(s) rejected and --strict given; nothing was imported")]
    Strict { rejected: usize },
}

impl ImportError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What an import did, for the summary printed at the end.
#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    /// Resources written, by resource type.
    pub loaded: BTreeMap<String, usize>,
    /// How many of the loaded ones replaced a stored resource with the same url|version.
    pub replaced: usize,
    /// Concepts written across all code systems.
    pub concepts: usize,
    /// Resources of types that are not imported, by resource type.
    pub skipped: BTreeMap<String, usize>,
    /// Resources that could not be loaded: origin and reason.
    pub rejected: Vec<(String, String)>,
}

impl ImportReport {
    /// Number of resources written.
    pub fn loaded_total(&self) -> usize {
        self.loaded.values().sum()
    }

    /// A human summary, one line per fact.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let list = |m: &BTreeMap<String, usize>| {
            if m.is_empty() {
                "none".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{v} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        out.push_str(&format!(
            "loaded:   {} ({} concepts; {} replaced an existing url|version)\n",
            list(&self.loaded),
            self.concepts,
            self.replaced
        ));
        out.push_str(&format!("skipped:  {}\n", list(&self.skipped)));
        out.push_str(&format!("rejected: {}\n", self.rejected.len()));
        for (origin, reason) in &self.rejected {
            out.push_str(&format!("  {origin}: {reason}\n"));
        }
        out
    }
}

/// Options of one import run.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Refuse the whole import (write nothing) if any resource is rejected.
    pub strict: bool,
}

/// Imports every path into the store in one transaction, reporting progress on `progress`
/// (use `ProgressBar::hidden()` when nobody watches).
pub fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: &ProgressBar,
) -> Result<ImportReport, ImportError> {
    store.write(|txn| {
        let mut report = ImportReport::default();
        for path in paths {
            progress.set_message(path.display().to_string());
            import_into(txn, path, &mut report, progress)?;
        }
        if options.strict && !report.rejected.is_empty() {
            return Err(ImportError::Strict {
                rejected: report.rejected.len(),
            });
        }
        Ok(report)
    })
}

/// Imports one path inside an open write transaction (used by the first-start bootstrap
/// and by [`import_paths`]).
pub fn import_into(
    txn: &mut WriteTxn,
    path: &Path,
    report: &mut ImportReport,
    progress: &ProgressBar,
) -> Result<(), ImportError> {
    let mut rejects = Vec::new();
    source::for_each_resource(
        path,
        &mut |origin, resource| {
            progress.inc(1);
            import_resource(txn, origin, &resource, report)
        },
        &mut |origin, reason| rejects.push((origin.to_string(), reason)),
    )?;
    report.rejected.extend(rejects);
    Ok(())
}

/// Imports resources that are already parsed (the bundled fixtures), by origin name.
pub fn import_values(
    txn: &mut WriteTxn,
    resources: impl IntoIterator<Item = (String, Value)>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    for (origin, resource) in resources {
        import_resource(txn, &origin, &resource, report)?;
    }
    Ok(())
}

/// Converts one resource sent with a request (`tx-resource`) for the store; `Err` says
/// why it cannot be used.
pub fn request_resource(resource: &Value) -> Result<crate::model::RequestResource, String> {
    use crate::model::RequestResource;
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("CodeSystem") => codesystem::convert(resource).map(RequestResource::CodeSystem),
        Some("ValueSet") => fhir_json::canonical_header(resource).map(|header| {
            RequestResource::ValueSet(ValueSetLoad {
                header,
                resource_json: resource.to_string(),
                definition: valueset::definition(resource),
            })
        }),
        Some("ConceptMap") => conceptmap::convert(resource).map(RequestResource::ConceptMap),
        Some(other) => Err(format!(
            "{other} is not a CodeSystem, ValueSet or ConceptMap"
        )),
        None => Err("it has no resourceType".into()),
    }
}

fn import_resource(
    txn: &mut WriteTxn,
    origin: &str,
    resource: &Value,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let resource_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("(no resourceType)");
    let written = match resource_type {
        "CodeSystem" => codesystem::convert(resource).map(|load| {
            report.concepts += load.concepts.len();
            txn.put_code_system(&load)
        }),
        "ValueSet" => fhir_json::canonical_header(resource).map(|header| {
            txn.put_value_set(&ValueSetLoad {
                header,
                resource_json: resource.to_string(),
                definition: valueset::definition(resource),
            })
        }),
        "ConceptMap" => conceptmap::convert(resource).map(|load| txn.put_concept_map(&load)),
        other => {
            *report.skipped.entry(other.to_string()).or_default() += 1;
            return Ok(());
        }
    };
    match written {
        Ok(outcome) => {
            if outcome? == WriteOutcome::Replaced {
                report.replaced += 1;
            }
            *report.loaded.entry(resource_type.to_string()).or_default() += 1;
        }
        Err(reason) => report.rejected.push((
            origin.to_string(),
            format!("{resource_type} rejected: {reason}"),
        )),
    }
    Ok(())
}
