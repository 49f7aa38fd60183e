//! Turning a FHIR result (a resource as JSON, or an error) into an HTTP response in the
//! negotiated format.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::Value;

use super::negotiate::Rendering;
use crate::fhir::{format, FhirError};

/// Renders `result`: the resource with 200, or the error's OperationOutcome with its
/// status.
pub fn respond(rendering: Rendering, result: Result<Value, FhirError>) -> HttpResponse {
    match result {
        Ok(value) => body(StatusCode::OK, rendering, &value),
        Err(e) => error(rendering, &e),
    }
}

/// Renders an error as an OperationOutcome with the status from the outcome table.
pub fn error(rendering: Rendering, e: &FhirError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    body(status, rendering, &e.to_outcome())
}

/// Renders a successful resource to bytes, or the 500 response to send instead.
pub fn render_ok(
    rendering: Rendering,
    value: &Value,
) -> Result<actix_web::web::Bytes, Box<HttpResponse>> {
    match format::render(value, rendering.format, rendering.pretty) {
        Ok(bytes) => Ok(bytes.into()),
        Err(_) => Err(Box::new(body(StatusCode::OK, rendering, value))),
    }
}

fn body(status: StatusCode, rendering: Rendering, value: &Value) -> HttpResponse {
    match format::render(value, rendering.format, rendering.pretty) {
        Ok(bytes) => HttpResponse::build(status)
            .content_type(rendering.format.content_type())
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "response could not be rendered");
            let outcome = FhirError::new(
                crate::fhir::Problem::Core(crate::core::ErrorKind::Internal),
                "The response could not be rendered in the requested format",
            )
            .to_outcome();
            HttpResponse::InternalServerError()
                .content_type(crate::fhir::Format::Json.content_type())
                .body(outcome.to_string())
        }
    }
}
