//! Importers: turn release files into model records and hand them to the store's single
//! write path.
//!
//! Invariants: one `nomen import` (all its paths) is one transaction: a fatal error (an
//! unreadable file, a database failure) leaves the database exactly as it was. A resource
//! that cannot be understood is *rejected* — listed with its origin and reason — and the
//! rest still load; resource types that are not terminology are *skipped* and counted.
//!
//! Besides FHIR resources, a path may be a terminology release in its own format, told
//! apart by its content (see [`detect`]): a LOINC release (directory or `.zip`), a ClaML
//! file (ICD-10 and its national variants), or a national classifier in Nomen's CSV layout.

pub mod claml;
pub mod classifier;
mod closure;
mod codesystem;
mod conceptmap;
mod fhir_json;
pub mod loinc;
pub mod release;
pub mod snomed;
mod source;
mod table;
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
    /// A release file that cannot be read as its format requires, with where it broke.
    #[error("{origin}:{line}: {reason}")]
    Format {
        origin: String,
        line: u64,
        reason: String,
    },
    /// Options that do not fit what is being imported.
    #[error("{0}")]
    Usage(String),
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
    /// The version to give a LOINC or ClaML release, instead of the one it states or
    /// implies (e.g. a national LOINC edition beside the international one).
    pub version: Option<String>,
    /// The code system URL to give a ClaML release (default: WHO ICD-10's).
    pub system: Option<String>,
    /// Mark the code systems of LOINC and ClaML releases as licensed content.
    pub licensed: bool,
    /// Make the SNOMED CT edition of this module the default one (served when a request
    /// names no version).
    pub snomed_default_edition: Option<u64>,
}

/// Imports every path into the store in one transaction, reporting progress on `progress`
/// (use `ProgressBar::hidden()` when nobody watches).
pub fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    options: &ImportOptions,
    progress: &ProgressBar,
) -> Result<ImportReport, ImportError> {
    let started = std::time::Instant::now();
    let outcome = store.write(|txn| {
        let mut report = ImportReport::default();
        for path in paths {
            progress.set_message(path.display().to_string());
            import_path(txn, path, options, &mut report, progress)?;
        }
        if let Some(module) = options.snomed_default_edition {
            txn.set_default_snomed_edition(module)?;
        }
        if options.strict && !report.rejected.is_empty() {
            return Err(ImportError::Strict {
                rejected: report.rejected.len(),
            });
        }
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "import read and written; committing"
        );
        Ok(report)
    });
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "import transaction ended"
    );
    outcome
}

/// What kind of source a path is, told from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// FHIR resources: JSON, Bundle, ndjson, npm package.
    Fhir,
    /// A LOINC release directory or `.zip`.
    Loinc,
    /// A ClaML file.
    Claml,
    /// A national classifier CSV file.
    Classifier,
    /// A SNOMED CT RF2 release (directory or `.zip`), possibly with its extensions.
    Snomed,
    /// A directory of any of these.
    Directory,
}

/// Tells what `path` holds: a LOINC release (a directory or `.zip` with
/// `LoincTable/Loinc.csv`), a ClaML file (`<ClaML` near its start), a classifier CSV (a
/// `# url:` preamble), a directory of sources, or FHIR resources.
pub fn detect(path: &Path) -> Result<SourceFormat, ImportError> {
    let lower = path.to_string_lossy().to_ascii_lowercase();
    if path.is_dir() {
        let files = release::ReleaseFiles::open(path)?;
        return Ok(if loinc::is_release(&files) {
            SourceFormat::Loinc
        } else if snomed::is_release(&files) {
            SourceFormat::Snomed
        } else {
            SourceFormat::Directory
        });
    }
    if lower.ends_with(".zip") {
        let files = release::ReleaseFiles::open(path)?;
        if loinc::is_release(&files) {
            return Ok(SourceFormat::Loinc);
        }
        if snomed::is_release(&files) {
            return Ok(SourceFormat::Snomed);
        }
        return Err(ImportError::Usage(format!(
            "{}: a .zip that is neither a LOINC release (no LoincTable/Loinc.csv) nor a SNOMED CT RF2 release (no sct2_Concept_Snapshot file)",
            path.display()
        )));
    }
    if lower.ends_with(".xml") || lower.ends_with(".csv") {
        let mut head = vec![0u8; 4096];
        let mut file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
        let n = std::io::Read::read(&mut file, &mut head).map_err(|e| ImportError::io(path, e))?;
        head.truncate(n);
        if lower.ends_with(".xml") && claml::is_claml(&head) {
            return Ok(SourceFormat::Claml);
        }
        if lower.ends_with(".csv") && classifier::is_classifier(&head) {
            return Ok(SourceFormat::Classifier);
        }
    }
    Ok(SourceFormat::Fhir)
}

/// Imports one path of any supported format inside an open write transaction.
pub fn import_path(
    txn: &mut WriteTxn,
    path: &Path,
    options: &ImportOptions,
    report: &mut ImportReport,
    progress: &ProgressBar,
) -> Result<(), ImportError> {
    let release_option = |name: &str| {
        ImportError::Usage(format!(
            "{}: {name} applies to LOINC and ClaML releases only",
            path.display()
        ))
    };
    match detect(path)? {
        SourceFormat::Fhir => {
            if options.system.is_some() {
                return Err(release_option("--system"));
            }
            import_into(txn, path, report, progress)
        }
        SourceFormat::Directory => {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| ImportError::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let lower = name.to_ascii_lowercase();
                    !name.starts_with('.')
                        && (p.is_dir()
                            || [".json", ".ndjson", ".tgz", ".tar.gz", ".csv", ".xml"]
                                .iter()
                                .any(|ext| lower.ends_with(ext)))
                })
                .collect();
            entries.sort();
            for entry in entries {
                let lower = entry.to_string_lossy().to_ascii_lowercase();
                let format = detect(&entry)?;
                // A stray CSV or XML file in a directory of resources is not an error.
                if format == SourceFormat::Fhir
                    && (lower.ends_with(".csv") || lower.ends_with(".xml"))
                {
                    *report.skipped.entry("CSV/XML file".into()).or_default() += 1;
                    continue;
                }
                import_path(txn, &entry, options, report, progress)?;
            }
            Ok(())
        }
        SourceFormat::Loinc => {
            if options.system.is_some() {
                return Err(release_option("--system"));
            }
            let files = release::ReleaseFiles::open(path)?;
            let mut rejected = Vec::new();
            let release = loinc::read(&files, options.version.as_deref(), progress, &mut rejected)?;
            report.rejected.extend(rejected);
            let mut code_system = release.code_system;
            code_system.meta.licensed = options.licensed;
            put_release_code_system(txn, &code_system, report)?;
            for vs in &release.value_sets {
                import_resource(txn, &files.describe("AnswerList.csv"), vs, report)?;
            }
            Ok(())
        }
        SourceFormat::Claml => {
            let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
            progress.set_message(path.display().to_string());
            let mut code_system = claml::read(
                path,
                &bytes,
                options.system.as_deref(),
                options.version.as_deref(),
            )?;
            code_system.meta.licensed = options.licensed;
            put_release_code_system(txn, &code_system, report)
        }
        SourceFormat::Snomed => {
            if options.system.is_some() || options.version.is_some() {
                return Err(ImportError::Usage(format!(
                    "{}: a SNOMED CT release names its editions and versions itself",
                    path.display()
                )));
            }
            let files = release::ReleaseFiles::open(path)?;
            progress.set_length(files.matching(|_| true).len() as u64);
            snomed::read_editions(&files, progress, |edition| {
                let started = std::time::Instant::now();
                put_release_code_system(txn, &edition.code_system, report)?;
                tracing::info!(
                    edition = %edition.code_system.meta.version,
                    concepts = edition.code_system.concepts.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "SNOMED CT edition written"
                );
                let started = std::time::Instant::now();
                for map in &edition.concept_maps {
                    import_resource(txn, &files.describe("(implicit ConceptMap)"), map, report)?;
                }
                tracing::debug!(
                    maps = edition.concept_maps.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "SNOMED CT implicit concept maps written"
                );
                Ok(())
            })
        }
        SourceFormat::Classifier => {
            if options.system.is_some() || options.version.is_some() {
                return Err(ImportError::Usage(format!(
                    "{}: a classifier states its url and version in its own preamble",
                    path.display()
                )));
            }
            let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
            let mut rejected = Vec::new();
            let classifier = classifier::read(path, &bytes, &mut rejected)?;
            report.rejected.extend(rejected);
            let mut code_system = classifier.code_system;
            code_system.meta.licensed = classifier.licensed || options.licensed;
            put_release_code_system(txn, &code_system, report)
        }
    }
}

fn put_release_code_system(
    txn: &mut WriteTxn,
    load: &crate::model::CodeSystemLoad,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if txn.put_code_system(load)? == WriteOutcome::Replaced {
        report.replaced += 1;
    }
    report.concepts += load.concepts.len();
    *report.loaded.entry("CodeSystem".into()).or_default() += 1;
    Ok(())
}

/// Imports FHIR resources from one path inside an open write transaction (used by the
/// first-start bootstrap and by [`import_path`]).
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
