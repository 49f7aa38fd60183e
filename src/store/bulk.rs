//! Multi-row inserts for the bulk write path.
//!
//! A release writes millions of narrow rows (a SNOMED CT edition: 4.7 million closure
//! pairs, 1.3 million descriptions). One `INSERT` per row pays SQLite's statement step,
//! reset and bytecode dispatch per row; one `INSERT ... VALUES (...), (...), ...` of
//! [`ROWS_PER_STATEMENT`] rows pays it once per batch, which roughly halves the time
//! spent outside the b-tree itself. The statements are prepared once and cached: the
//! rows after the last full batch go in one at a time, so only two statements exist per
//! table (a statement for every remainder size would be parsed afresh on each call, which
//! for the audit trail's small batches cost more than the inserts).

use rusqlite::types::ToSql;
use rusqlite::{Connection, Statement};

/// Rows bound into one statement: enough to amortise the per-statement cost, few enough
/// that the widest table (9 columns) stays far below SQLite's 32,766 parameters.
pub const ROWS_PER_STATEMENT: usize = 128;

/// Binds one row's values, in column order, into a batch statement.
pub struct RowBinder<'s, 'c> {
    stmt: &'s mut Statement<'c>,
    next: usize,
}

impl RowBinder<'_, '_> {
    /// Binds the next column's value.
    pub fn put<V: ToSql>(&mut self, value: V) -> rusqlite::Result<()> {
        self.next += 1;
        self.stmt.raw_bind_parameter(self.next, value)
    }
}

/// Inserts one row per item of `rows`, in order, with `insert` (`INSERT INTO t` or
/// `INSERT OR IGNORE INTO t`) into `columns`, binding each row's values with `bind`
/// (which must `put` exactly one value per column).
pub fn insert_rows<T>(
    conn: &Connection,
    insert: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = T>,
    mut bind: impl FnMut(&T, &mut RowBinder<'_, '_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut batch: Vec<T> = Vec::with_capacity(ROWS_PER_STATEMENT);
    let mut flush = |batch: &mut Vec<T>, size: usize| -> rusqlite::Result<()> {
        let mut stmt = conn.prepare_cached(&batch_sql(insert, columns, size))?;
        for chunk in batch.chunks(size) {
            let mut binder = RowBinder {
                stmt: &mut stmt,
                next: 0,
            };
            for row in chunk {
                bind(row, &mut binder)?;
            }
            debug_assert_eq!(binder.next, size * columns.len());
            stmt.raw_execute()?;
        }
        batch.clear();
        Ok(())
    };
    for row in rows {
        batch.push(row);
        if batch.len() == ROWS_PER_STATEMENT {
            flush(&mut batch, ROWS_PER_STATEMENT)?;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch, 1)?;
    }
    Ok(())
}

/// `INSERT INTO t (a, b) VALUES (?, ?), (?, ?), ...` for `rows` rows.
fn batch_sql(insert: &str, columns: &[&str], rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "{insert} ({}) VALUES {}",
        columns.join(", "),
        vec![one; rows].join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_every_row_in_order_across_partial_batches() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER, s TEXT)")
            .unwrap();
        let rows: Vec<(i64, String)> = (0..(ROWS_PER_STATEMENT as i64 * 2 + 7))
            .map(|n| (n, format!("row {n}")))
            .collect();
        insert_rows(&conn, "INSERT INTO t", &["n", "s"], &rows, |(n, s), b| {
            b.put(n)?;
            b.put(s)
        })
        .unwrap();
        let stored: Vec<(i64, String)> = conn
            .prepare("SELECT n, s FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(stored, rows);
    }

    #[test]
    fn a_constraint_violation_is_reported() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)")
            .unwrap();
        let err =
            insert_rows(&conn, "INSERT INTO t", &["n"], [1, 2, 1], |n, b| b.put(n)).unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
    }
}
