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
    for base in &international {
        let mut tables = Tables::default();
        tables.read(files, base, progress)?;
        each(tables.edition(files, base, None)?)?;
    }
    for extension in &extensions {
        // Which International release the extension was built on.
        let mut own = Tables::default();
        own.read(files, extension, progress)?;
        let (module, base_date) = own.extension_module(files, extension)?;
        let Some(base) = international.iter().find(|r| r.date == base_date) else {
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
        };
        let mut tables = Tables::default();
        tables.read(files, base, progress)?;
        tables.read(files, extension, progress)?;
        drop(own);
        each(tables.edition(files, extension, Some(module))?)?;
    }
    Ok(())
}
