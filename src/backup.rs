//! Encrypted backups of the database, their verification and their restore.
//!
//! A backup is a consistent copy taken while the server runs (SQLite's online backup API,
//! into memory: the plaintext never touches the disk), compressed (gzip) and encrypted
//! with AES-256-GCM under a 256-bit key read from a key file that must live outside the
//! backup directory. The file is
//!
//! ```text
//! "NOMENBK1" | header length (u32, big-endian) | header (the manifest, JSON)
//!            | nonce (12 bytes) | tag (16 bytes) | ciphertext
//! ```
//!
//! with the magic and header as additional authenticated data, so neither the data nor
//! the manifest can be changed without the tag failing. A manifest (time, sizes, SHA-256
//! of the plaintext database image, schema version, row counts) is also written beside
//! the backup. Verification decrypts, checks the tag, the SHA-256 and SQLite's integrity
//! check; a restore does the same and only then replaces the target file.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use rusqlite::{Connection, OpenFlags, MAIN_DB};
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"NOMENBK1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The extension of backup files (the manifest beside each adds `.manifest.json`).
pub const EXTENSION: &str = "nbk";

/// Why a backup, verification or restore failed. Nothing is written or replaced when it
/// does.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the key file {0} must hold 32 bytes, or 64 hexadecimal digits")]
    BadKey(PathBuf),
    #[error("the key file {key} is inside the backup directory {dir}: keep keys apart from the backups they open")]
    KeyInsideBackups { key: PathBuf, dir: PathBuf },
    #[error("the key file {0} can be read by other users (chmod 600 it)")]
    KeyPermissions(PathBuf),
    #[error("{0}: not a Nomen backup file")]
    NotABackup(PathBuf),
    #[error("{0}: the backup cannot be decrypted with this key, or it has been altered (authentication failed)")]
    Authentication(PathBuf),
    #[error("{path}: the decrypted database does not match its manifest ({what})")]
    Mismatch { path: PathBuf, what: String },
    #[error("{path}: SQLite's integrity check failed: {detail}")]
    Integrity { path: PathBuf, detail: String },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("encryption: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A 256-bit backup key.
pub struct BackupKey([u8; 32]);

impl BackupKey {
    /// Reads a key file: 32 raw bytes, or 64 hexadecimal digits (whitespace ignored). On
    /// Unix the file must not be readable by group or others.
    pub fn read(path: &Path) -> Result<BackupKey, BackupError> {
        let bytes = fs::read(path).map_err(io(path))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path).map_err(io(path))?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(BackupError::KeyPermissions(path.to_path_buf()));
            }
        }
        let mut key = [0u8; 32];
        if bytes.len() == 32 {
            key.copy_from_slice(&bytes);
            return Ok(BackupKey(key));
        }
        let hex: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if hex.len() != 64 {
            return Err(BackupError::BadKey(path.to_path_buf()));
        }
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| BackupError::BadKey(path.into()))?;
            key[i] = u8::from_str_radix(text, 16).map_err(|_| BackupError::BadKey(path.into()))?;
        }
        Ok(BackupKey(key))
    }

    /// Writes a new random key file (64 hex digits, mode 600); refuses to overwrite.
    pub fn generate(path: &Path) -> Result<(), BackupError> {
        let mut key = [0u8; 32];
        openssl::rand::rand_bytes(&mut key)?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io(path))?;
        file.write_all(format!("{hex}\n").as_bytes())
            .map_err(io(path))?;
        Ok(())
    }
}

/// What a backup holds, written beside it and authenticated inside it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// When the copy was taken (UTC, RFC 3339).
    pub created: String,
    /// The backup file's name.
    pub file: String,
    /// The database the copy was taken from.
    pub source: String,
    /// The schema version (`PRAGMA user_version`) of the copy.
    pub schema_version: i64,
    /// Size of the database image, of its gzip, and of the encrypted file's payload.
    pub plaintext_bytes: u64,
    pub compressed_bytes: u64,
    /// SHA-256 of the database image, hex.
    pub sha256: String,
    /// Row counts of every table.
    pub tables: BTreeMap<String, i64>,
}

/// Takes an encrypted backup of `db` into `out_dir` and prunes all but the newest `keep`
/// backups there (0 keeps all). Returns the manifest and the backup's path.
pub fn backup(
    db: &Path,
    out_dir: &Path,
    key_path: &Path,
    keep: usize,
) -> Result<(Manifest, PathBuf), BackupError> {
    fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    refuse_key_inside(key_path, out_dir)?;
    let key = BackupKey::read(key_path)?;

    // A consistent copy, in memory.
    let source = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut copy = Connection::open_in_memory()?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut copy)?;
        backup.run_to_completion(1024, std::time::Duration::from_millis(0), None)?;
    }
    drop(source);
    let tables = row_counts(&copy)?;
    let schema_version: i64 = copy.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut image = copy.serialize(MAIN_DB)?.to_vec();
    drop(copy);
    // A WAL database's header says so (read and write versions 2); an image that is to
    // be opened from memory, or restored, must say rollback journal (1). The server
    // switches a restored file back to WAL when it opens it.
    if image.len() > 19 && image[18] == 2 && image[19] == 2 {
        image[18] = 1;
        image[19] = 1;
    }

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&image).map_err(io(db))?;
    let compressed = gz.finish().map_err(io(db))?;

    let now = chrono::Utc::now();
    let name = format!("nomen-{}.{EXTENSION}", now.format("%Y%m%dT%H%M%S%3fZ"));
    let manifest = Manifest {
        created: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        file: name.clone(),
        source: db.display().to_string(),
        schema_version,
        plaintext_bytes: image.len() as u64,
        compressed_bytes: compressed.len() as u64,
        sha256: hex(&openssl::sha::sha256(&image)),
        tables,
    };
    let header = serde_json::to_vec(&manifest).expect("manifest serialises");
    let mut aad = MAGIC.to_vec();
    aad.extend_from_slice(&(header.len() as u32).to_be_bytes());
    aad.extend_from_slice(&header);
    let mut nonce = [0u8; NONCE_LEN];
    openssl::rand::rand_bytes(&mut nonce)?;
    let mut tag = [0u8; TAG_LEN];
    let ciphertext = encrypt_aead(
        Cipher::aes_256_gcm(),
        &key.0,
        Some(&nonce),
        &aad,
        &compressed,
        &mut tag,
    )?;

    // Written under a temporary name and renamed, so a half-written backup never looks
    // like one.
    let path = out_dir.join(&name);
    let partial = out_dir.join(format!(".{name}.partial"));
    let mut file = fs::File::create(&partial).map_err(io(&partial))?;
    for part in [&aad[..], &nonce[..], &tag[..], &ciphertext[..]] {
        file.write_all(part).map_err(io(&partial))?;
    }
    file.sync_all().map_err(io(&partial))?;
    drop(file);
    fs::rename(&partial, &path).map_err(io(&path))?;
    let manifest_path = out_dir.join(format!("{name}.manifest.json"));
    fs::write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest).expect("manifest serialises") + "\n",
    )
    .map_err(io(&manifest_path))?;
    if keep > 0 {
        prune(out_dir, keep)?;
    }
    Ok((manifest, path))
}

/// Decrypts and checks a backup without restoring it: the authentication tag, the
/// SHA-256 and row counts of the manifest, and SQLite's integrity check.
pub fn verify(file: &Path, key: &BackupKey) -> Result<Manifest, BackupError> {
    let (manifest, image) = open(file, key)?;
    check_image(file, &manifest, &image)?;
    Ok(manifest)
}

/// Restores a backup over `target` after every check of [`verify`] has passed: the
/// database is written beside the target, checked again, and only then renamed over it
/// (the target's old `-wal` and `-shm` files removed first, since they belong to the old
/// database). Stop the server using `target` first.
pub fn restore(file: &Path, key: &BackupKey, target: &Path) -> Result<Manifest, BackupError> {
    let (manifest, image) = open(file, key)?;
    check_image(file, &manifest, &image)?;
    let staged = with_suffix(target, ".restoring");
    fs::write(&staged, &image).map_err(io(&staged))?;
    let checked = (|| -> Result<(), BackupError> {
        let conn = Connection::open_with_flags(&staged, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        integrity(&conn, file)?;
        Ok(())
    })();
    if let Err(e) = checked {
        let _ = fs::remove_file(&staged);
        return Err(e);
    }
    for suffix in ["-wal", "-shm"] {
        let side = with_suffix(target, suffix);
        if side.exists() {
            fs::remove_file(&side).map_err(io(&side))?;
        }
    }
    fs::rename(&staged, target).map_err(io(target))?;
    Ok(manifest)
}

/// Per-table row counts and SHA-256 digests of every row (in rowid or key order): what a
/// round trip must preserve.
pub fn table_digests(conn: &Connection) -> Result<BTreeMap<String, (i64, String)>, BackupError> {
    let mut out = BTreeMap::new();
    for table in tables(conn)? {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))?;
        let columns = stmt.column_count();
        let mut hasher = openssl::sha::Sha256::new();
        let mut rows = stmt.query([])?;
        let mut count = 0;
        while let Some(row) = rows.next()? {
            count += 1;
            for i in 0..columns {
                let value: rusqlite::types::Value = row.get(i)?;
                hasher.update(format!("{value:?}\u{1f}").as_bytes());
            }
            hasher.update(b"\x1e");
        }
        out.insert(table, (count, hex(&hasher.finish())));
    }
    Ok(out)
}

fn tables(conn: &Connection) -> Result<Vec<String>, BackupError> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(names)
}

fn row_counts(conn: &Connection) -> Result<BTreeMap<String, i64>, BackupError> {
    let mut out = BTreeMap::new();
    for table in tables(conn)? {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })?;
        out.insert(table, n);
    }
    Ok(out)
}

fn open(file: &Path, key: &BackupKey) -> Result<(Manifest, Vec<u8>), BackupError> {
    let mut bytes = Vec::new();
    fs::File::open(file)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io(file))?;
    let not_backup = || BackupError::NotABackup(file.to_path_buf());
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(not_backup());
    }
    let header_len = u32::from_be_bytes(bytes[8..12].try_into().expect("four bytes")) as usize;
    let header_end = 12usize.checked_add(header_len).ok_or_else(not_backup)?;
    if bytes.len() < header_end + NONCE_LEN + TAG_LEN {
        return Err(not_backup());
    }
    let aad = &bytes[..header_end];
    let nonce = &bytes[header_end..header_end + NONCE_LEN];
    let tag = &bytes[header_end + NONCE_LEN..header_end + NONCE_LEN + TAG_LEN];
    let ciphertext = &bytes[header_end + NONCE_LEN + TAG_LEN..];
    let compressed = decrypt_aead(
        Cipher::aes_256_gcm(),
        &key.0,
        Some(nonce),
        aad,
        ciphertext,
        tag,
    )
    .map_err(|_| BackupError::Authentication(file.to_path_buf()))?;
    // The header is authenticated: from here on it is what the backup wrote.
    let manifest: Manifest =
        serde_json::from_slice(&bytes[12..header_end]).map_err(|_| not_backup())?;
    let mut image = Vec::with_capacity(manifest.plaintext_bytes as usize);
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut image)
        .map_err(io(file))?;
    Ok((manifest, image))
}

fn check_image(file: &Path, manifest: &Manifest, image: &[u8]) -> Result<(), BackupError> {
    let mismatch = |what: String| BackupError::Mismatch {
        path: file.to_path_buf(),
        what,
    };
    if image.len() as u64 != manifest.plaintext_bytes {
        return Err(mismatch(format!(
            "{} bytes, the manifest says {}",
            image.len(),
            manifest.plaintext_bytes
        )));
    }
    let sha = hex(&openssl::sha::sha256(image));
    if sha != manifest.sha256 {
        return Err(mismatch(format!(
            "SHA-256 {sha}, the manifest says {}",
            manifest.sha256
        )));
    }
    let mut conn = Connection::open_in_memory()?;
    conn.deserialize_read_exact(MAIN_DB, image, image.len(), true)?;
    integrity(&conn, file)?;
    let counts = row_counts(&conn)?;
    if counts != manifest.tables {
        return Err(mismatch("row counts".into()));
    }
    Ok(())
}

fn integrity(conn: &Connection, file: &Path) -> Result<(), BackupError> {
    let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if result != "ok" {
        return Err(BackupError::Integrity {
            path: file.to_path_buf(),
            detail: result,
        });
    }
    Ok(())
}

/// Refuses a key file inside (or equal to) the backup directory.
fn refuse_key_inside(key: &Path, dir: &Path) -> Result<(), BackupError> {
    let key_abs = fs::canonicalize(key).map_err(io(key))?;
    let dir_abs = fs::canonicalize(dir).map_err(io(dir))?;
    if key_abs.starts_with(&dir_abs) {
        return Err(BackupError::KeyInsideBackups {
            key: key.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// Deletes all but the newest `keep` backups (and their manifests) in `dir`.
fn prune(dir: &Path, keep: usize) -> Result<(), BackupError> {
    let mut backups: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("nomen-") && name.ends_with(&format!(".{EXTENSION}"))
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    for old in &backups[..excess] {
        fs::remove_file(old).map_err(io(old))?;
        let manifest = with_suffix(old, ".manifest.json");
        if manifest.exists() {
            fs::remove_file(&manifest).map_err(io(&manifest))?;
        }
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The outcome of the scheduled backups, for `/readyz` and the logs.
#[derive(Debug, Default)]
pub struct ScheduleStatus {
    last: std::sync::Mutex<Option<LastBackup>>,
}

/// The latest scheduled backup: when it ran, and its file or its error.
#[derive(Debug, Clone, Serialize)]
pub struct LastBackup {
    pub at: String,
    pub ok: bool,
    pub detail: String,
}

impl ScheduleStatus {
    /// The latest scheduled backup, if one has run.
    pub fn last(&self) -> Option<LastBackup> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn record(&self, outcome: LastBackup) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
    }
}

/// What the backup schedule inside `nomen serve` does.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub db: PathBuf,
    pub out_dir: PathBuf,
    pub key: PathBuf,
    pub every: std::time::Duration,
    pub keep: usize,
    /// Where each backup's outcome is audited (the server's audit trail).
    pub audit: Option<crate::access::Audit>,
}

/// The audit event of a backup's outcome.
pub fn audit_event(
    outcome: &Result<(Manifest, PathBuf), BackupError>,
) -> crate::model::register::AuditEvent {
    let mut e = crate::model::register::AuditEvent {
        operation: "backup".into(),
        ..Default::default()
    };
    match outcome {
        Ok((manifest, path)) => {
            e.outcome = "success".into();
            e.target = Some(path.display().to_string());
            e.after = serde_json::to_string(manifest).ok();
        }
        Err(err) => {
            e.outcome = "error".into();
            e.detail = Some(err.to_string());
        }
    }
    e
}

impl Schedule {
    /// Checks the key (readable, apart from the backups) before the server starts, so a
    /// misconfiguration stops the start rather than failing a day later.
    pub fn check(&self) -> Result<(), BackupError> {
        fs::create_dir_all(&self.out_dir).map_err(io(&self.out_dir))?;
        refuse_key_inside(&self.key, &self.out_dir)?;
        BackupKey::read(&self.key)?;
        Ok(())
    }

    /// Starts the thread that takes a backup every `every`, recording each outcome in
    /// the returned status and the log.
    pub fn start(self) -> std::sync::Arc<ScheduleStatus> {
        let status = std::sync::Arc::new(ScheduleStatus::default());
        let shared = status.clone();
        std::thread::Builder::new()
            .name("nomen-backup".into())
            .spawn(move || loop {
                std::thread::sleep(self.every);
                let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let outcome = backup(&self.db, &self.out_dir, &self.key, self.keep);
                if let Some(audit) = &self.audit {
                    audit.record(audit_event(&outcome));
                }
                match outcome {
                    Ok((manifest, path)) => {
                        tracing::info!(
                            file = %path.display(),
                            bytes = manifest.plaintext_bytes,
                            sha256 = %manifest.sha256,
                            "scheduled backup written"
                        );
                        shared.record(LastBackup {
                            at,
                            ok: true,
                            detail: path.display().to_string(),
                        });
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "scheduled backup failed");
                        shared.record(LastBackup {
                            at,
                            ok: false,
                            detail: e.to_string(),
                        });
                    }
                }
            })
            .expect("backup thread starts");
        status
    }
}

/// Reads a duration such as `24h`, `30m` or `45s`.
pub fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 24h, 30m or 45s"))?;
    let seconds = match unit {
        "h" => n * 3600,
        "m" => n * 60,
        "s" => n,
        _ => return Err(format!("'{text}' is not a duration like 24h, 30m or 45s")),
    };
    if seconds == 0 {
        return Err("the backup interval must be more than zero".into());
    }
    Ok(std::time::Duration::from_secs(seconds))
}
