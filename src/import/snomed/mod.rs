//! SNOMED CT RF2 Snapshot import: each edition (the International Edition, or it plus a
//! national extension) becomes one code system version addressed by its SNOMED version
//! URI (`http://snomed.info/sct/{module}/version/{yyyymmdd}`), with its descriptions as
//! designations in every language reference set's dialect, its attribute relationships
//! as properties, the closure over inferred is-a, and the SNOMED tables ECL needs; each
//! map reference set and historical association reference set becomes an implicit
//! ConceptMap (`http://snomed.info/sct?fhir_cm={refset}`).
//!
//! An extension needs the International release it depends on (its module dependency
//! reference set says which) in the same import: an edition is one consistent snapshot.

mod edition;
pub mod rf2;

use indicatif::ProgressBar;

use crate::import::release::ReleaseFiles;
use crate::import::ImportError;
use crate::model::CodeSystemLoad;

pub use edition::{Tables, CORE_MODULE, SNOMED};
pub use rf2::is_release;

/// One edition read from a release: its code system version and its implicit maps (as
/// FHIR ConceptMap resources, converted by the ConceptMap importer).
pub struct EditionLoad {
    pub code_system: CodeSystemLoad,
    pub concept_maps: Vec<serde_json::Value>,
}

/// Reads every edition the release files hold, one at a time: `each` gets an edition
/// while the next is still unread, so memory holds one edition's content.
pub fn read_editions(
    files: &ReleaseFiles,
    progress: &ProgressBar,
    mut each: impl FnMut(EditionLoad) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let releases = rf2::releases(files)?;
    let (international, extensions): (Vec<_>, Vec<_>) =
        releases.iter().partition(|r| r.is_international());
    if international.is_empty() {
        return Err(ImportError::Usage(format!(
            "{}: an RF2 extension ({}) needs the International Edition release it depends on in the same import",
            files.origin().display(),
            extensions
                .iter()
                .map(|r| format!("{} {}", r.code, r.date))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Which International release each extension was built on, from its module
    // dependency members alone.
    let mut built_on: Vec<(&rf2::Release, u64, String)> = Vec::new();
    for extension in &extensions {
        let mut own = Tables::default();
        own.read_module_dependencies(files, extension)?;
        let (module, base_date) = own.extension_module(files, extension)?;
        if !international.iter().any(|r| r.date == base_date) {
            return Err(ImportError::Usage(format!(
                "{}: the extension {} {} depends on the International Edition of {base_date}, which this import does not hold (it has {})",
                files.origin().display(),
                extension.code,
                extension.date,
                international
                    .iter()
                    .map(|r| r.date.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        built_on.push((extension, module, base_date));
    }
    for base in &international {
        // The International release is read once; its extensions are read on top of it
        // (the last one in place, any others over a fresh copy).
        let mut tables = Tables::default();
        let started = std::time::Instant::now();
        tables.read(files, base, progress)?;
        tracing::info!(release = %base.folder, seconds = started.elapsed().as_secs_f64(), "RF2 release read");
        each(tables.edition(files, base, None)?)?;
        let mine: Vec<&(&rf2::Release, u64, String)> = built_on
            .iter()
            .filter(|(_, _, date)| *date == base.date)
            .collect();
        for (i, (extension, module, _)) in mine.iter().enumerate() {
            if i + 1 == mine.len() {
                let started = std::time::Instant::now();
                tables.read(files, extension, progress)?;
                tracing::info!(release = %extension.folder, seconds = started.elapsed().as_secs_f64(), "RF2 release read");
                each(tables.edition(files, extension, Some(*module))?)?;
                break;
            }
            let mut copy = Tables::default();
            copy.read(files, base, progress)?;
            copy.read(files, extension, progress)?;
            each(copy.edition(files, extension, Some(*module))?)?;
        }
    }
    Ok(())
}
