//! The one table from error kind to FHIR issue type and HTTP status, and the
//! OperationOutcome rendering of errors.

use serde_json::{json, Value};

use crate::core::{CoreError, ErrorKind, TxIssue};

/// Everything that can go wrong in answering a FHIR request: a core error kind, or a
/// protocol-level problem found before the core is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Core(ErrorKind),
    UnsupportedMediaType,
    PayloadTooLarge,
    NotAcceptable,
    NotImplemented,
    MethodNotAllowed,
}

impl Problem {
    /// The one table: FHIR `IssueType` code and HTTP status for each problem.
    pub fn classify(self) -> (&'static str, u16) {
        match self {
            Problem::Core(ErrorKind::NotFound) => ("not-found", 404),
            Problem::Core(ErrorKind::Invalid) => ("invalid", 400),
            Problem::Core(ErrorKind::NotSupported) => ("not-supported", 400),
            Problem::Core(ErrorKind::TooCostly) => ("too-costly", 422),
            Problem::Core(ErrorKind::Internal) => ("exception", 500),
            Problem::UnsupportedMediaType => ("not-supported", 415),
            Problem::PayloadTooLarge => ("too-costly", 413),
            Problem::NotAcceptable => ("not-supported", 406),
            Problem::NotImplemented => ("not-supported", 501),
            Problem::MethodNotAllowed => ("not-supported", 405),
        }
    }
}

/// An error on its way to the client as an OperationOutcome.
#[derive(Debug, Clone)]
pub struct FhirError {
    pub problem: Problem,
    pub message: String,
    pub expression: Option<String>,
    /// The terminology ecosystem's classification, when the core gave one.
    pub tx: Option<Box<TxIssue>>,
}

/// The code system of the terminology ecosystem's issue types (`details.coding`).
pub const TX_ISSUE_TYPE: &str = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type";

/// The extension carrying a message's id on an OperationOutcome issue.
pub const MESSAGE_ID: &str = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id";

impl FhirError {
    /// A protocol-level error.
    pub fn new(problem: Problem, message: impl Into<String>) -> Self {
        FhirError {
            problem,
            message: message.into(),
            expression: None,
            tx: None,
        }
    }

    /// A bad-request error about the request's parameters.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Problem::Core(ErrorKind::Invalid), message)
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        self.problem.classify().1
    }

    /// The OperationOutcome describing this error.
    pub fn to_outcome(&self) -> Value {
        let (code, _) = self.problem.classify();
        let mut issue = json!({"severity": "error", "code": code});
        if let Some(tx) = &self.tx {
            issue = json!({
                "extension": [{"url": MESSAGE_ID, "valueString": tx.message_id}],
                "severity": "error",
                "code": tx.issue_type,
                "details": {
                    "coding": [{"system": TX_ISSUE_TYPE, "code": tx.tx_code}],
                    "text": self.message,
                },
            });
            // Some findings have no tx-issue-type.
            if tx.tx_code.is_empty() {
                if let Some(d) = issue["details"].as_object_mut() {
                    d.remove("coding");
                }
            }
        } else {
            issue["details"] = json!({ "text": self.message });
        }
        if let (Some(expression), Some(_)) = (&self.expression, &self.tx) {
            issue["location"] = json!([expression]);
        }
        if let Some(expression) = &self.expression {
            issue["expression"] = json!([expression]);
        }
        json!({ "resourceType": "OperationOutcome", "issue": [issue] })
    }
}

impl From<CoreError> for FhirError {
    fn from(e: CoreError) -> Self {
        if let Some(source) = &e.source {
            tracing::error!(error = %source, "store failure");
        }
        FhirError {
            problem: Problem::Core(e.kind),
            message: e.message,
            expression: e.expression,
            tx: e.tx,
        }
    }
}
