//! SNOMED CT Expression Constraint Language (ECL) 2.2: a hand-written recursive-descent
//! parser producing an AST, with positioned error messages.
//!
//! ```
//! use nomen_ecl::{parse, Expression, ConstraintOperator};
//!
//! let ecl = parse("<< 73211009 |Diabetes mellitus| MINUS << 46635009").unwrap();
//! let Expression::Minus(a, _) = &ecl else { panic!() };
//! assert_eq!(a.operator, Some(ConstraintOperator::DescendantOrSelfOf));
//! // Display prints canonical ECL that parses back to the same tree.
//! assert_eq!(parse(&ecl.to_string()).unwrap(), ecl);
//!
//! let err = parse("< 404684003 AND").unwrap_err();
//! assert_eq!(err.offset, 15);
//! assert_eq!(err.message, "expected a concept id, '*' or '(', found end of input");
//! ```
//!
//! The crate has no dependencies and does no evaluation: the server's evaluator matches on
//! [`Expression`] and its parts. Modules: [`lexer`] (tokens with byte positions),
//! `parser` (the grammar), [`ast`] (the tree and its canonical `Display`), `error`
//! ([`ParseError`]) and [`sctid`] (identifier checks).

#![warn(missing_docs)]

pub mod ast;
mod error;
pub mod lexer;
mod parser;
pub mod sctid;

pub use ast::*;
pub use error::ParseError;
pub use parser::{parse, MAX_DEPTH, STACK_BUDGET};
pub use sctid::{is_sctid_form, is_valid_sctid, verhoeff_valid};
