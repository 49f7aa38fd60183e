//! Where resources come from: a JSON resource, a Bundle, an ndjson file, a directory of
//! these, or a FHIR npm package (`.tgz`). Each resource is handed on with an origin that
//! names its file (and line or package entry), so errors can say where.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::ImportError;

/// Walks `path` and calls `each(origin, resource)` for every resource found. Bundles are
/// opened and their entries handed on one by one. Returns the number of entries that
/// could not be parsed as JSON, each reported through `reject`.
pub fn for_each_resource(
    path: &Path,
    each: &mut dyn FnMut(&str, Value) -> Result<(), ImportError>,
    reject: &mut dyn FnMut(&str, String),
) -> Result<(), ImportError> {
    if path.is_dir() {
        for file in directory_files(path)? {
            for_each_resource(&file, each, reject)?;
        }
        return Ok(());
    }
    let name = path.display().to_string();
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") {
        read_package(path, each, reject)
    } else if lower.ends_with(".ndjson") {
        let file = File::open(path).map_err(|e| ImportError::io(path, e))?;
        for (number, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| ImportError::io(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let origin = format!("{name}:{}", number + 1);
            match serde_json::from_str::<Value>(&line) {
                Ok(value) => unbundle(&origin, value, each)?,
                Err(e) => reject(&origin, format!("not valid JSON: {e}")),
            }
        }
        Ok(())
    } else {
        let mut text = String::new();
        File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| ImportError::io(path, e))?;
        match serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
            Ok(value) => unbundle(&name, value, each),
            Err(e) => {
                reject(&name, format!("not valid JSON: {e}"));
                Ok(())
            }
        }
    }
}

/// The importable files of a directory tree, sorted so imports are reproducible.
fn directory_files(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| ImportError::io(&dir, e))? {
            let path = entry.map_err(|e| ImportError::io(&dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if [".json", ".ndjson", ".tgz", ".tar.gz"]
                .iter()
                .any(|ext| name.to_ascii_lowercase().ends_with(ext))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Reads the resources of a FHIR npm package: the JSON files directly under `package/`
/// (the package's own manifest and index excluded; `other/`, `xml/` and examples are not
/// part of the package's canonical content).
fn read_package(
    path: &Path,
    each: &mut dyn FnMut(&str, Value) -> Result<(), ImportError>,
    reject: &mut dyn FnMut(&str, String),
) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|e| ImportError::io(path, e))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    let entries = archive.entries().map_err(|e| ImportError::io(path, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ImportError::io(path, e))?;
        let entry_path = entry
            .path()
            .map_err(|e| ImportError::io(path, e))?
            .to_string_lossy()
            .into_owned();
        let Some(file_name) = entry_path.strip_prefix("package/") else {
            continue;
        };
        if file_name.contains('/')
            || !file_name.ends_with(".json")
            || file_name == "package.json"
            || file_name.starts_with('.')
        {
            continue;
        }
        let mut text = String::new();
        let origin = format!("{}:{entry_path}", path.display());
        if let Err(e) = entry.read_to_string(&mut text) {
            reject(&origin, format!("unreadable entry: {e}"));
            continue;
        }
        match serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
            Ok(value) => unbundle(&origin, value, each)?,
            Err(e) => reject(&origin, format!("not valid JSON: {e}")),
        }
    }
    Ok(())
}

/// Hands on a resource, or each entry of a Bundle (recursively).
fn unbundle(
    origin: &str,
    value: Value,
    each: &mut dyn FnMut(&str, Value) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    if value.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
        let entries = match value {
            Value::Object(mut map) => map.remove("entry"),
            _ => None,
        };
        if let Some(Value::Array(entries)) = entries {
            for (index, mut entry) in entries.into_iter().enumerate() {
                if let Some(resource) = entry.get_mut("resource").map(Value::take) {
                    unbundle(&format!("{origin}#entry[{index}]"), resource, each)?;
                }
            }
        }
        return Ok(());
    }
    each(origin, value)
}
