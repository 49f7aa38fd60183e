//! RF2 release files: finding the Snapshot files of each release in a directory or
//! `.zip`, and reading their tab-separated rows with the header checked and every error
//! naming the file and line.
//!
//! A path may hold one release (the International Edition) or several side by side (the
//! International Edition and a national extension); each is told apart by the folder
//! around its `Snapshot/` directory and by the `_{country or namespace}_{date}` suffix
//! RF2 gives every file name.

use std::collections::BTreeMap;

use crate::import::release::ReleaseFiles;
use crate::import::ImportError;

/// What one RF2 file holds, told by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Concept,
    Description,
    TextDefinition,
    Relationship,
    ConcreteValues,
    /// Any `der2_*Refset_*` file: members with the six common columns, then its own.
    Refset,
}

impl FileKind {
    /// The kind of a Snapshot file from its name; `None` for files the importer does not
    /// read (stated relationships, OWL axioms, Full and Delta files, documentation).
    fn of(file_name: &str) -> Option<FileKind> {
        let name = file_name.to_ascii_lowercase();
        if !name.ends_with(".txt") || !name.contains("snapshot") {
            return None;
        }
        if name.starts_with("sct2_concept_snapshot") {
            Some(FileKind::Concept)
        } else if name.starts_with("sct2_description_snapshot") {
            Some(FileKind::Description)
        } else if name.starts_with("sct2_textdefinition_snapshot") {
            Some(FileKind::TextDefinition)
        } else if name.starts_with("sct2_relationshipconcretevalues_snapshot") {
            Some(FileKind::ConcreteValues)
        } else if name.starts_with("sct2_relationship_snapshot") {
            Some(FileKind::Relationship)
        } else if name.starts_with("der2_") && name.contains("refset_") {
            Some(FileKind::Refset)
        } else {
            None
        }
    }

    /// The columns the file must start with, exactly as RF2 names them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            FileKind::Concept => &[
                "id",
                "effectiveTime",
                "active",
                "moduleId",
                "definitionStatusId",
            ],
            FileKind::Description | FileKind::TextDefinition => &[
                "id",
                "effectiveTime",
                "active",
                "moduleId",
                "conceptId",
                "languageCode",
                "typeId",
                "term",
                "caseSignificanceId",
            ],
            FileKind::Relationship => &[
                "id",
                "effectiveTime",
                "active",
                "moduleId",
                "sourceId",
                "destinationId",
                "relationshipGroup",
                "typeId",
                "characteristicTypeId",
                "modifierId",
            ],
            FileKind::ConcreteValues => &[
                "id",
                "effectiveTime",
                "active",
                "moduleId",
                "sourceId",
                "value",
                "relationshipGroup",
                "typeId",
                "characteristicTypeId",
                "modifierId",
            ],
            FileKind::Refset => &[
                "id",
                "effectiveTime",
                "active",
                "moduleId",
                "refsetId",
                "referencedComponentId",
            ],
        }
    }
}

/// One release (International Edition or an extension) found in the path.
#[derive(Debug, Clone)]
pub struct Release {
    /// The folder around `Snapshot/` (empty when the path is the release folder itself).
    pub folder: String,
    /// The file-name code: `INT` for the International Edition, else the extension's
    /// country and namespace (e.g. `LT1000247`).
    pub code: String,
    /// The release date (`YYYYMMDD`), from the file names.
    pub date: String,
    /// Its Snapshot files by kind, in path order.
    pub files: BTreeMap<FileKind, Vec<String>>,
}

impl Release {
    /// Whether this is the International Edition.
    pub fn is_international(&self) -> bool {
        self.code == "INT"
    }
}

/// Whether the release files hold any RF2 Snapshot concept file.
pub fn is_release(files: &ReleaseFiles) -> bool {
    !files
        .matching(|n| file_name(n).map(FileKind::of) == Some(Some(FileKind::Concept)))
        .is_empty()
}

fn file_name(path: &str) -> Option<&str> {
    path.rsplit('/').next()
}

/// The releases in `files`, the International Edition first, then extensions by date.
pub fn releases(files: &ReleaseFiles) -> Result<Vec<Release>, ImportError> {
    let mut by_folder: BTreeMap<String, Release> = BTreeMap::new();
    for path in files.matching(|_| true) {
        let Some(name) = file_name(path) else {
            continue;
        };
        let Some(kind) = FileKind::of(name) else {
            continue;
        };
        let lower = path.to_ascii_lowercase();
        let folder = match lower.find("snapshot/") {
            Some(at) => path[..at].trim_end_matches('/').to_string(),
            None => continue,
        };
        let (code, date) = suffix(name).ok_or_else(|| ImportError::Format {
            origin: files.describe(path),
            line: 0,
            reason: "an RF2 file name must end with _{country or namespace}_{YYYYMMDD}.txt".into(),
        })?;
        let release = by_folder.entry(folder.clone()).or_insert_with(|| Release {
            folder,
            code: code.clone(),
            date: date.clone(),
            files: BTreeMap::new(),
        });
        if release.code != code || release.date != date {
            return Err(ImportError::Format {
                origin: files.describe(path),
                line: 0,
                reason: format!(
                    "the file is named for {code} {date}, but the other files of its release for {} {}",
                    release.code, release.date
                ),
            });
        }
        release
            .files
            .entry(kind)
            .or_default()
            .push(path.to_string());
    }
    let mut releases: Vec<Release> = by_folder
        .into_values()
        .filter(|r| r.files.contains_key(&FileKind::Concept))
        .collect();
    releases.sort_by(|a, b| {
        (!a.is_international(), &a.date, &a.code).cmp(&(!b.is_international(), &b.date, &b.code))
    });
    Ok(releases)
}

/// `sct2_Concept_Snapshot_INT_20250101.txt` → (`INT`, `20250101`).
fn suffix(name: &str) -> Option<(String, String)> {
    let stem = name
        .strip_suffix(".txt")
        .or_else(|| name.strip_suffix(".TXT"))?;
    let mut parts = stem.rsplit('_');
    let date = parts.next()?;
    let code = parts.next()?;
    let date = date
        .get(..8)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    (!code.is_empty()).then(|| (code.to_string(), date.to_string()))
}

/// The rows of one RF2 file, split on tabs, with the header checked.
pub struct Rows {
    origin: String,
    text: String,
    /// Column names of the header line.
    pub header: Vec<String>,
}

impl Rows {
    /// Reads `path` of `files` and checks that its header starts with `kind`'s columns.
    pub fn open(files: &ReleaseFiles, path: &str, kind: FileKind) -> Result<Rows, ImportError> {
        let origin = files.describe(path);
        let bytes = files.read(path)?;
        let text = String::from_utf8(bytes).map_err(|e| ImportError::Format {
            origin: origin.clone(),
            line: 0,
            reason: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let first = text.lines().next().unwrap_or("");
        let header: Vec<String> = first
            .trim_start_matches('\u{feff}')
            .trim_end_matches('\r')
            .split('\t')
            .map(str::to_owned)
            .collect();
        let expected = kind.columns();
        if header.len() < expected.len()
            || header.iter().zip(expected).any(|(h, e)| h != e)
            || (kind != FileKind::Refset && header.len() != expected.len())
        {
            return Err(ImportError::Format {
                origin,
                line: 1,
                reason: format!(
                    "the header is '{}', but this file must have the columns {}",
                    header.join(" "),
                    expected.join(" ")
                ),
            });
        }
        Ok(Rows {
            origin,
            text,
            header,
        })
    }

    /// How the file is named in messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Calls `each` with the line number and fields of every data row. A row with the
    /// wrong number of fields stops the import with its line.
    pub fn for_each(
        &self,
        mut each: impl FnMut(u64, &[&str]) -> Result<(), String>,
    ) -> Result<(), ImportError> {
        let columns = self.header.len();
        let mut fields: Vec<&str> = Vec::with_capacity(columns);
        for (index, line) in self.text.split('\n').enumerate().skip(1) {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let number = index as u64 + 1;
            fields.clear();
            fields.extend(line.split('\t'));
            if fields.len() != columns {
                return Err(self.error(
                    number,
                    format!("{} fields where the header has {columns}", fields.len()),
                ));
            }
            each(number, &fields).map_err(|reason| self.error(number, reason))?;
        }
        Ok(())
    }

    fn error(&self, line: u64, reason: String) -> ImportError {
        ImportError::Format {
            origin: self.origin.clone(),
            line,
            reason,
        }
    }
}

/// An SCTID field: 6 to 18 digits.
pub fn sctid(field: &str, name: &str) -> Result<u64, String> {
    if (6..=18).contains(&field.len()) && field.bytes().all(|b| b.is_ascii_digit()) {
        field
            .parse()
            .map_err(|_| format!("{name} '{field}' is not an SCTID"))
    } else {
        Err(format!("{name} '{field}' is not an SCTID (6 to 18 digits)"))
    }
}

/// The `active` field: `1` or `0`.
pub fn active(field: &str) -> Result<bool, String> {
    match field {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(format!("active must be 1 or 0, not '{other}'")),
    }
}

/// An `effectiveTime` field: `YYYYMMDD`.
pub fn effective_time(field: &str) -> Result<&str, String> {
    if field.len() == 8 && field.bytes().all(|b| b.is_ascii_digit()) {
        Ok(field)
    } else {
        Err(format!("effectiveTime '{field}' is not YYYYMMDD"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_kind_code_and_date() {
        assert_eq!(
            FileKind::of("sct2_RelationshipConcreteValues_Snapshot_INT_20250101.txt"),
            Some(FileKind::ConcreteValues)
        );
        assert_eq!(
            FileKind::of("sct2_Relationship_Snapshot_INT_20250101.txt"),
            Some(FileKind::Relationship)
        );
        assert_eq!(
            FileKind::of("sct2_StatedRelationship_Snapshot_INT_20250101.txt"),
            None
        );
        assert_eq!(FileKind::of("sct2_Concept_Full_INT_20250101.txt"), None);
        assert_eq!(
            suffix("sct2_Description_Snapshot-lt_LT1000247_20250315.txt"),
            Some(("LT1000247".into(), "20250315".into()))
        );
        assert_eq!(suffix("readme.txt"), None);
    }
}
