//! Errors of the terminology core, each with a [`ErrorKind`] that the FHIR layer maps to
//! an OperationOutcome issue type and HTTP status in one table.

use crate::store::StoreError;

/// What kind of failure an error is; the only thing the protocol layers look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A named resource, code system, version or code does not exist.
    NotFound,
    /// A parameter is missing, malformed, or contradicts another.
    Invalid,
    /// The request is understood but the server does not do this.
    NotSupported,
    /// The request would cost too much (e.g. an expansion beyond the limit).
    TooCostly,
    /// A failure inside the server; details are logged, never shown.
    Internal,
}

/// An error from a core operation: a kind, a message fit for a client, and optionally
/// the FHIRPath of the offending parameter.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CoreError {
    pub kind: ErrorKind,
    pub message: String,
    /// The parameter the error is about, as a FHIRPath-like expression.
    pub expression: Option<String>,
    /// The underlying store error for internal failures (for logs only).
    #[source]
    pub source: Option<Box<StoreError>>,
    /// The terminology ecosystem's finer classification, when known.
    pub tx: Option<Box<TxIssue>>,
}

/// How the HL7 terminology ecosystem classifies an issue: the OperationOutcome issue type
/// (where it differs from the kind's default), the `tx-issue-type` code, and the message
/// id that clients (the FHIR validator above all) match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxIssue {
    pub issue_type: &'static str,
    pub tx_code: &'static str,
    pub message_id: &'static str,
}

impl CoreError {
    /// An error of `kind` with a client-facing message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CoreError {
            kind,
            message: message.into(),
            expression: None,
            source: None,
            tx: None,
        }
    }

    /// Classifies the error the way the terminology ecosystem does.
    pub fn with_tx(
        mut self,
        issue_type: &'static str,
        tx_code: &'static str,
        message_id: &'static str,
    ) -> Self {
        self.tx = Some(Box::new(TxIssue {
            issue_type,
            tx_code,
            message_id,
        }));
        self
    }

    /// A `NotFound` error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// An `Invalid` error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    /// A `NotSupported` error.
    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotSupported, message)
    }

    /// Names the parameter this error is about.
    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression = Some(expression.into());
        self
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        CoreError {
            kind: ErrorKind::Internal,
            message: "internal error while reading the terminology store".into(),
            expression: None,
            source: Some(Box::new(e)),
            tx: None,
        }
    }
}

/// Result alias for core operations.
pub type CoreResult<T> = Result<T, CoreError>;
