//! Tokens with byte positions, read on demand.
//!
//! ECL is not regular at the token level: a concept term between pipes, an alternate
//! identifier code and a numeric value after `#` each have their own character rules. So
//! the lexer is a cursor the parser drives: [`Lexer::peek`] reads the next ordinary token
//! (skipping whitespace and comments), and the parser calls the raw scanners
//! ([`Lexer::term`], [`Lexer::alt_code`], [`Lexer::number`]) where the grammar switches
//! rules. Because the state is only a byte offset, saving and restoring it gives cheap,
//! bounded lookahead.

use crate::error::ParseError;

/// A fixed-spelling token. Multi-character operators are read greedily (`<<!` before
/// `<<` before `<`), which never splits a valid constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Punct {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{{`
    LFilter,
    /// `}}`
    RFilter,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `:`
    Colon,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `^`
    Caret,
    /// `*`
    Star,
    /// `#`
    Hash,
    /// `|`
    Pipe,
    /// `+`
    Plus,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `<<`
    LtLt,
    /// `<!`
    LtBang,
    /// `<<!`
    LtLtBang,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `>>`
    GtGt,
    /// `>!`
    GtBang,
    /// `>>!`
    GtGtBang,
    /// `!!>`
    Top,
    /// `!!<`
    Bottom,
}

/// Spellings, longest first so that the first match is the greedy one.
const PUNCTS: &[(&str, Punct)] = &[
    ("<<!", Punct::LtLtBang),
    (">>!", Punct::GtGtBang),
    ("!!>", Punct::Top),
    ("!!<", Punct::Bottom),
    ("{{", Punct::LFilter),
    ("}}", Punct::RFilter),
    ("..", Punct::DotDot),
    ("!=", Punct::Ne),
    ("<=", Punct::Le),
    ("<<", Punct::LtLt),
    ("<!", Punct::LtBang),
    (">=", Punct::Ge),
    (">>", Punct::GtGt),
    (">!", Punct::GtBang),
    ("(", Punct::LParen),
    (")", Punct::RParen),
    ("{", Punct::LBrace),
    ("}", Punct::RBrace),
    ("[", Punct::LBracket),
    ("]", Punct::RBracket),
    (":", Punct::Colon),
    (",", Punct::Comma),
    (".", Punct::Dot),
    ("^", Punct::Caret),
    ("*", Punct::Star),
    ("#", Punct::Hash),
    ("|", Punct::Pipe),
    ("+", Punct::Plus),
    ("=", Punct::Eq),
    ("<", Punct::Lt),
    (">", Punct::Gt),
];

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind<'a> {
    /// A run of digits (a concept id, cardinality bound, `1`/`0` active value).
    Number(&'a str),
    /// A run of letters, digits, `-` and `_` starting with a letter or containing one:
    /// keywords (`AND`, `term`, `HISTORY-MIN`), dialect aliases (`en-gb`), scheme
    /// aliases and refset field names. Case is kept; keywords compare case-insensitively.
    Word(&'a str),
    /// A double-quoted string: the raw text between the quotes, escapes not resolved.
    Str(&'a str),
    /// Punctuation or an operator.
    Punct(Punct),
    /// The end of the input.
    Eof,
}

/// A token and its byte span in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind<'a>,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// The cursor over the input.
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The whole input.
    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The current byte offset (before any whitespace still to be skipped).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves the cursor, for restoring after lookahead or consuming part of a token.
    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// The byte at `pos`, if any.
    pub fn byte_at(&self, pos: usize) -> Option<u8> {
        self.src.as_bytes().get(pos).copied()
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::new(self.src, offset, message)
    }

    /// Skips spaces, tabs, line breaks and `/* … */` comments.
    pub fn skip_ws(&mut self) -> Result<(), ParseError> {
        let bytes = self.src.as_bytes();
        loop {
            match bytes.get(self.pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'/') if bytes.get(self.pos + 1) == Some(&b'*') => {
                    let body = self.pos + 2;
                    match self.src[body..].find("*/") {
                        Some(end) => self.pos = body + end + 2,
                        None => return Err(self.error(self.pos, "unterminated comment")),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// The next token, without consuming it.
    pub fn peek(&mut self) -> Result<Token<'a>, ParseError> {
        self.skip_ws()?;
        self.read_at(self.pos)
    }

    /// Consumes `token` (which must come from the latest `peek`).
    pub fn bump(&mut self, token: Token<'a>) {
        self.pos = token.end;
    }

    fn read_at(&self, start: usize) -> Result<Token<'a>, ParseError> {
        let rest = &self.src[start..];
        let token = |kind, len: usize| Token {
            kind,
            start,
            end: start + len,
        };
        let Some(first) = rest.bytes().next() else {
            return Ok(token(TokenKind::Eof, 0));
        };
        if is_word_byte(first) && first != b'-' && first != b'_' {
            let len = rest.bytes().take_while(|&b| is_word_byte(b)).count();
            let text = &rest[..len];
            let kind = if text.bytes().all(|b| b.is_ascii_digit()) {
                TokenKind::Number(text)
            } else {
                TokenKind::Word(text)
            };
            return Ok(token(kind, len));
        }
        if first == b'"' {
            return self.read_string(start);
        }
        if let Some(&(spelling, punct)) = PUNCTS.iter().find(|(s, _)| rest.starts_with(s)) {
            return Ok(token(TokenKind::Punct(punct), spelling.len()));
        }
        let c = rest.chars().next().unwrap_or('?');
        Err(self.error(start, format!("unexpected character '{c}'")))
    }

    fn read_string(&self, start: usize) -> Result<Token<'a>, ParseError> {
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    return Ok(Token {
                        kind: TokenKind::Str(&self.src[start + 1..i]),
                        start,
                        end: i + 1,
                    })
                }
                _ => i += 1,
            }
        }
        Err(self.error(start, "unterminated string (missing closing '\"')"))
    }

    /// Reads a concept term after an opening `|` (already consumed) up to and including
    /// the closing `|`, returning it trimmed. Comments and quotes inside are literal.
    pub fn term(&mut self, open: usize) -> Result<&'a str, ParseError> {
        let body = &self.src[self.pos..];
        let Some(len) = body.find('|') else {
            return Err(self.error(open, "unterminated term (missing closing '|')"));
        };
        let term = body[..len].trim_matches([' ', '\t', '\r', '\n']);
        if term.is_empty() {
            return Err(self.error(open, "empty term between '|' and '|'"));
        }
        self.pos += len + 1;
        Ok(term)
    }

    /// Reads an unquoted alternate identifier code right after `#`: letters, digits,
    /// `-`, `.` and `_`. Empty if none follow.
    pub fn alt_code(&mut self) -> &'a str {
        let rest = &self.src[self.pos..];
        let len = rest
            .bytes()
            .take_while(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
            .count();
        self.pos += len;
        &rest[..len]
    }

    /// Reads a numeric value right after `#`: an optional sign, an integer and an
    /// optional fraction. Returns the text and its start, or an error if there is none.
    pub fn number(&mut self) -> Result<&'a str, ParseError> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        if matches!(bytes.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let int = digits(i);
        if int == 0 {
            return Err(self.error(start, "expected a number after '#'"));
        }
        i += int;
        if bytes.get(i) == Some(&b'.') {
            let frac = digits(i + 1);
            if frac == 0 {
                return Err(self.error(i, "expected digits after the decimal point"));
            }
            i += 1 + frac;
        }
        self.pos = i;
        Ok(&self.src[start..i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind<'_>> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lexer.peek().unwrap();
            lexer.bump(t);
            if t.kind == TokenKind::Eof {
                return out;
            }
            out.push(t.kind);
        }
    }

    #[test]
    fn operators_are_greedy() {
        use Punct::*;
        let p = TokenKind::Punct;
        assert_eq!(
            kinds("<<! << <! < <= >>! >> >! > >= !!> !!< != = {{ }} { } .. ."),
            vec![
                p(LtLtBang),
                p(LtLt),
                p(LtBang),
                p(Lt),
                p(Le),
                p(GtGtBang),
                p(GtGt),
                p(GtBang),
                p(Gt),
                p(Ge),
                p(Top),
                p(Bottom),
                p(Ne),
                p(Eq),
                p(LFilter),
                p(RFilter),
                p(LBrace),
                p(RBrace),
                p(DotDot),
                p(Dot)
            ]
        );
    }

    #[test]
    fn words_numbers_strings_and_comments() {
        assert_eq!(
            kinds("123 /* c */ AND en-gb HISTORY-MIN \"a\\\"b\" 12ab"),
            vec![
                TokenKind::Number("123"),
                TokenKind::Word("AND"),
                TokenKind::Word("en-gb"),
                TokenKind::Word("HISTORY-MIN"),
                TokenKind::Str("a\\\"b"),
                TokenKind::Word("12ab"),
            ]
        );
    }

    #[test]
    fn positions_are_byte_offsets() {
        let mut lexer = Lexer::new("  <<  12");
        let t = lexer.peek().unwrap();
        assert_eq!((t.start, t.end), (2, 4));
        lexer.bump(t);
        let t = lexer.peek().unwrap();
        assert_eq!((t.start, t.end), (6, 8));
    }

    #[test]
    fn unterminated_things_are_errors() {
        assert!(Lexer::new("/* x").peek().is_err());
        assert!(Lexer::new("\"abc").peek().is_err());
        assert!(Lexer::new("\"abc\\\"").peek().is_err());
        assert!(Lexer::new("§").peek().is_err());
    }

    #[test]
    fn raw_scanners() {
        let mut lexer = Lexer::new(" Heart attack |rest");
        assert_eq!(lexer.term(0).unwrap(), "Heart attack");
        assert_eq!(lexer.pos(), 15);
        let mut lexer = Lexer::new("54486-6 x");
        assert_eq!(lexer.alt_code(), "54486-6");
        let mut lexer = Lexer::new("-2.5)");
        assert_eq!(lexer.number().unwrap(), "-2.5");
        assert!(Lexer::new("x").number().is_err());
        assert!(Lexer::new("2.").number().is_err());
    }
}
