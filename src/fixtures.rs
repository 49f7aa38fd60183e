//! The bundled fixtures: a small, real, licence-clean set of code systems, value sets and
//! concept maps (see `fixtures/README.md`), compiled into the binary so that a newcomer's
//! first `nomen serve` answers real queries from any working directory.

use include_dir::{include_dir, Dir};
use serde_json::Value;

use crate::import::{self, ImportError, ImportReport};
use crate::store::Store;

static FHIR_FIXTURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/fhir");

/// The bundled resources, parsed, with their file names as origins.
pub fn resources() -> Vec<(String, Value)> {
    let mut files: Vec<_> = FHIR_FIXTURES.files().collect();
    files.sort_by_key(|f| f.path());
    files
        .into_iter()
        .filter_map(|f| {
            let value = serde_json::from_slice(f.contents()).ok()?;
            Some((format!("fixtures/fhir/{}", f.path().display()), value))
        })
        .collect()
}

/// Loads the fixtures if the store holds no content at all; `None` when it already did.
/// Checking and loading happen in one write transaction, so two servers starting on the
/// same new file cannot both load.
pub fn load_if_empty(store: &Store) -> Result<Option<ImportReport>, ImportError> {
    store.write(|txn| {
        if !txn.is_empty()? {
            return Ok(None);
        }
        let mut report = ImportReport::default();
        import::import_values(txn, resources(), &mut report)?;
        Ok(Some(report))
    })
}
