//! The only module that knows SQL: one SQLite file holding the concept graph, its
//! precomputed transitive closure, full-text index, value sets and concept maps.
//!
//! Invariants:
//! - One writer ([`Store::write`], `BEGIN IMMEDIATE`), many readers from an r2d2 pool, WAL
//!   mode: a reader never waits for an import and sees either the whole of a committed
//!   import or none of it.
//! - Every read request works inside one [`ReadTxn`], one snapshot.
//! - Parameters are always bound; no SQL is built from input.
//! - `meta.generation` increases with every committed content change, so caches built
//!   from the store (the catalogue) know when to reload, even when the change came from
//!   another process.

mod bulk;
mod closure;
mod read;
mod register;
mod schema;
mod snomed;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

pub use read::ReadTxn;
pub use register::{AuditSink, NewCertificate, RegisterData, RegisterTxn};
pub use snomed::{SctConceptColumn, SctDescriptionRow, SctMember, SctRelationship};
pub use write::{WriteOutcome, WriteTxn};

/// Errors of the storage layer. Their text never reaches a client: the HTTP layer logs
/// them and answers with a generic OperationOutcome.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(
        "the database file {path} has schema version {found}, newer than this binary knows \
         ({known}); use a newer nomen binary"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the write broke a uniqueness rule (a registry code, fingerprint or licence
    /// id already registered), which callers report as a conflict.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    }
}

/// Result alias for store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open terminology database: a read pool and the single writer connection.
pub struct Store {
    path: PathBuf,
    pool: r2d2::Pool<SqliteConnectionManager>,
    writer: Mutex<Connection>,
    /// Audit queries and reports (see `register.rs`).
    audit_reader: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database file, applies pending migrations, and
    /// builds the read pool. Refuses a file written by a newer schema.
    pub fn open(path: &Path) -> Result<Store> {
        let mut writer = Connection::open(path)?;
        configure_writer(&writer)?;
        migrate(&mut writer, path)?;
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            // Every statement of the request paths stays prepared.
            c.set_prepared_statement_cache_capacity(128);
            c.execute_batch(
                "PRAGMA query_only = ON;
                 PRAGMA busy_timeout = 5000;
                 PRAGMA cache_size = -32000;
                 PRAGMA mmap_size = 268435456;",
            )
        });
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .min_idle(Some(2))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)?;
        let audit_reader = Connection::open(path)?;
        audit_reader.execute_batch(
            "PRAGMA query_only = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA cache_size = -4000;",
        )?;
        Ok(Store {
            path: path.to_path_buf(),
            pool,
            writer: Mutex::new(writer),
            audit_reader: Mutex::new(audit_reader),
        })
    }

    /// The database file this store works on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The read pool's connections: `(open, idle, maximum)`, for metrics.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// The schema version of the file as it is now (`PRAGMA user_version`), read on a
    /// pooled connection: readiness checks that it is the one this binary writes.
    pub fn file_schema_version(&self) -> Result<i64> {
        let conn = self.pool.get()?;
        Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Starts a read snapshot on a pooled connection.
    pub fn read(&self) -> Result<ReadTxn<'static>> {
        ReadTxn::begin(self.pool.get()?)
    }

    /// Runs `f` inside one write transaction: committed if `f` succeeds, rolled back
    /// (leaving the file exactly as it was) if it fails or panics.
    pub fn write<T, E>(
        &self,
        f: impl FnOnce(&mut WriteTxn) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.lock_writer();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut txn = WriteTxn::new(tx);
        let value = f(&mut txn)?;
        txn.commit()?;
        Ok(value)
    }

    /// Runs `load` then `read` inside one write transaction that is always rolled back:
    /// the request sees its own resources (`tx-resource`) over the stored content, with
    /// the same code paths as any read, and nobody else ever sees them. Requests that do
    /// this take turns on the single writer.
    pub fn with_scratch<T, E>(
        &self,
        load: impl FnOnce(&mut WriteTxn) -> std::result::Result<(), E>,
        read: impl FnOnce(ReadTxn<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(StoreError::from)?;
        let mut txn = WriteTxn::new(tx);
        load(&mut txn)?;
        let value = read(ReadTxn::within(txn.connection()))?;
        // Dropping the transaction rolls it back.
        drop(txn);
        Ok(value)
    }
}

impl Store {
    /// The single writer connection. A panic while it was held leaves SQLite's own
    /// transaction rolled back, so the poisoned lock is safe to take over.
    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn configure_writer(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = OFF;
         PRAGMA cache_size = -200000;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

/// The schema version this binary writes.
pub fn schema_version() -> i64 {
    schema::MIGRATIONS.len() as i64
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = schema_version();
    if found > known {
        return Err(StoreError::TooNew {
            path: path.display().to_string(),
            found,
            known,
        });
    }
    for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        if let Some(step) = schema::code_step(index) {
            step(&tx)?;
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file at schema 10 keeps its closure pairs, as id sets, through migration 11.
    #[test]
    fn migration_11_converts_the_closure_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &schema::MIGRATIONS[..10] {
                conn.execute_batch(sql).unwrap();
            }
            // 3 -> 1 -> 0 and 3 -> 2 -> 0, as concept ids 100..=103.
            conn.execute_batch(
                "INSERT INTO closure (ancestor, descendant) VALUES
                     (100, 101), (100, 102), (100, 103), (101, 103), (102, 103);
                 PRAGMA user_version = 10;",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.file_schema_version().unwrap(), schema_version());
        let txn = store.read().unwrap();
        assert_eq!(txn.descendant_ids(100).unwrap(), vec![101, 102, 103]);
        assert_eq!(txn.ancestor_ids(103).unwrap(), vec![100, 101, 102]);
        assert!(txn.is_ancestor(101, 103).unwrap());
        assert!(!txn.is_ancestor(101, 102).unwrap());
        assert!(txn.descendant_ids(103).unwrap().is_empty());
        let pair_table: i64 = txn
            .connection()
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'closure'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(pair_table, 0, "the pair table is dropped");
    }
}
