//! The error [`crate::parse`] returns: what was expected, what was found, and where.

use std::fmt;

/// Why an expression constraint did not parse, with its position in the input.
///
/// The position is given both as a byte offset (for slicing the input, or pointing a
/// caret in a one-line UI) and as a 1-based line and column (for people reading a
/// multi-line constraint). The column counts characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the input where the problem was found.
    pub offset: usize,
    /// 1-based line of `offset`.
    pub line: usize,
    /// 1-based column (in characters) of `offset`.
    pub column: usize,
    /// What went wrong, without the position, e.g.
    /// `expected a concept id, '*' or '(', found 'AND'`.
    pub message: String,
}

impl ParseError {
    /// An error at `offset` of `input`; computes the line and column.
    pub(crate) fn new(input: &str, offset: usize, message: impl Into<String>) -> Self {
        let offset = offset.min(input.len());
        let before = input.get(..offset).unwrap_or(input);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            offset,
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {} (line {}, column {})",
            self.message, self.offset, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::ParseError;

    #[test]
    fn line_and_column_count_characters() {
        let e = ParseError::new("< 1\n  é x", 9, "boom");
        assert_eq!((e.line, e.column), (2, 5));
        assert_eq!(e.to_string(), "boom at offset 9 (line 2, column 5)");
    }

    #[test]
    fn offset_is_clamped_to_the_input() {
        let e = ParseError::new("abc", 10, "end");
        assert_eq!((e.offset, e.line, e.column), (3, 1, 4));
    }
}
