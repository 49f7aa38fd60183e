//! A terminology release as a set of named files, whether it was unpacked into a directory
//! or is still a `.zip`: importers ask for a file by the tail of its path (e.g.
//! `LoincTable/Loinc.csv`), so the folder the distributor put around it does not matter.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::ImportError;

/// The files of one release, listed once when it is opened.
pub struct ReleaseFiles {
    origin: PathBuf,
    kind: Kind,
    /// Every file, as a `/`-separated path relative to the release root.
    names: Vec<String>,
}

enum Kind {
    Directory,
    Zip,
    /// Files held in memory (the fuzz targets feed the importers this way).
    Memory(std::collections::HashMap<String, Vec<u8>>),
}

impl ReleaseFiles {
    /// Lists a release directory (recursively) or a `.zip` archive.
    pub fn open(path: &Path) -> Result<ReleaseFiles, ImportError> {
        if path.is_dir() {
            let mut names = Vec::new();
            let mut pending = vec![path.to_path_buf()];
            while let Some(dir) = pending.pop() {
                for entry in std::fs::read_dir(&dir).map_err(|e| ImportError::io(&dir, e))? {
                    let entry_path = entry.map_err(|e| ImportError::io(&dir, e))?.path();
                    if entry_path.is_dir() {
                        pending.push(entry_path);
                    } else if let Ok(relative) = entry_path.strip_prefix(path) {
                        names.push(relative.to_string_lossy().replace('\\', "/"));
                    }
                }
            }
            names.sort();
            return Ok(ReleaseFiles {
                origin: path.to_path_buf(),
                kind: Kind::Directory,
                names,
            });
        }
        let archive = open_zip(path)?;
        let mut names: Vec<String> = archive
            .file_names()
            .filter(|n| !n.ends_with('/'))
            .map(str::to_owned)
            .collect();
        names.sort();
        Ok(ReleaseFiles {
            origin: path.to_path_buf(),
            kind: Kind::Zip,
            names,
        })
    }

    /// A release whose files are held in memory, named `origin` in messages.
    pub fn in_memory(origin: &str, files: Vec<(String, Vec<u8>)>) -> ReleaseFiles {
        let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
        names.sort();
        ReleaseFiles {
            origin: PathBuf::from(origin),
            kind: Kind::Memory(files.into_iter().collect()),
            names,
        }
    }

    /// The directory or archive this release was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// The file whose path ends with `tail` (compared case-insensitively, on whole path
    /// segments); the shortest such path when several do.
    pub fn find(&self, tail: &str) -> Option<&str> {
        let tail = tail.to_ascii_lowercase();
        self.names
            .iter()
            .filter(|n| {
                let lower = n.to_ascii_lowercase();
                lower == tail || lower.ends_with(&format!("/{tail}"))
            })
            .min_by_key(|n| n.len())
            .map(String::as_str)
    }

    /// Every file whose name satisfies `keep`, in path order.
    pub fn matching(&self, keep: impl Fn(&str) -> bool) -> Vec<&str> {
        self.names
            .iter()
            .filter(|n| keep(n))
            .map(String::as_str)
            .collect()
    }

    /// How the file is named in messages: the release path and the file within it.
    pub fn describe(&self, name: &str) -> String {
        match self.kind {
            Kind::Directory => self.origin.join(name).display().to_string(),
            Kind::Zip | Kind::Memory(_) => format!("{}!{name}", self.origin.display()),
        }
    }

    /// The whole content of one file of the release.
    pub fn read(&self, name: &str) -> Result<Vec<u8>, ImportError> {
        let mut bytes = Vec::new();
        match &self.kind {
            Kind::Directory => {
                let path = self.origin.join(name);
                File::open(&path)
                    .and_then(|mut f| f.read_to_end(&mut bytes))
                    .map_err(|e| ImportError::io(&path, e))?;
            }
            Kind::Memory(files) => bytes.extend_from_slice(&files[name]),
            Kind::Zip => {
                let mut archive = open_zip(&self.origin)?;
                let mut entry = archive
                    .by_name(name)
                    .map_err(|e| zip_error(&self.origin, e))?;
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| ImportError::io(&self.origin, e))?;
            }
        }
        Ok(bytes)
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<File>, ImportError> {
    let file = File::open(path).map_err(|e| ImportError::io(path, e))?;
    zip::ZipArchive::new(file).map_err(|e| zip_error(path, e))
}

fn zip_error(path: &Path, e: zip::result::ZipError) -> ImportError {
    ImportError::io(
        path,
        std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    )
}
