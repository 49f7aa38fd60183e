//! CSV release files read by column name, so importers say which column they want rather
//! than where it is, and every problem names the file and line it came from.

use std::collections::HashMap;

use super::ImportError;

/// One data row of a CSV file, with the header that names its columns.
pub struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
    /// The 1-based line of the file this row starts on.
    pub line: u64,
}

impl Row<'_> {
    /// The trimmed value of a column; `None` when the column is absent or the value empty.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns
            .get(column)
            .and_then(|&i| self.record.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Every `(column name, trimmed value)` pair with a value, in column order.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut named: Vec<(&str, usize)> =
            self.columns.iter().map(|(k, &i)| (k.as_str(), i)).collect();
        named.sort_by_key(|&(_, i)| i);
        named.into_iter().filter_map(|(name, i)| {
            let v = self.record.get(i)?.trim();
            (!v.is_empty()).then_some((name, v))
        })
    }
}

/// Reads `bytes` as a CSV file with a header row and calls `each` for every data row.
///
/// `origin` names the file in messages and `line_offset` is the number of lines before the
/// header (for files with a metadata preamble). A missing `required` column or malformed
/// CSV stops the import with the file and line; a row that `each` refuses (`Err(reason)`)
/// is recorded in `rejected` as `file:line` and the rest still load.
pub fn for_each_row(
    origin: &str,
    bytes: &[u8],
    line_offset: u64,
    required: &[&str],
    rejected: &mut Vec<(String, String)>,
    mut each: impl FnMut(&Row) -> Result<(), String>,
) -> Result<usize, ImportError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let format_error = |line: u64, reason: String| ImportError::Format {
        origin: origin.to_string(),
        line: line + line_offset,
        reason,
    };
    let header = reader
        .headers()
        .map_err(|e| format_error(csv_line(&e), format!("unreadable header row: {e}")))?
        .clone();
    let columns: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (name.trim().to_string(), i))
        .collect();
    for column in required {
        if !columns.contains_key(*column) {
            return Err(format_error(
                1,
                format!("the header row has no column '{column}'"),
            ));
        }
    }
    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format_error(csv_line(&e), format!("malformed CSV: {e}"))),
        }
        let line = record.position().map_or(0, |p| p.line()) + line_offset;
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        rows += 1;
        let row = Row {
            record: &record,
            columns: &columns,
            line,
        };
        if let Err(reason) = each(&row) {
            rejected.push((format!("{origin}:{line}"), reason));
        }
    }
    Ok(rows)
}

fn csv_line(e: &csv::Error) -> u64 {
    e.position().map_or(1, |p| p.line())
}

/// A release file's text: UTF-8, a leading byte-order mark dropped; anything else stops
/// the import naming the file.
pub fn utf8<'b>(origin: &str, bytes: &'b [u8]) -> Result<&'b str, ImportError> {
    std::str::from_utf8(bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)).map_err(|e| {
        ImportError::Format {
            origin: origin.to_string(),
            line: 1,
            reason: format!("not UTF-8: {e}"),
        }
    })
}
