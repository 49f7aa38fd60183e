//! Content negotiation and request bodies: which format to answer in (`_format`, then
//! `Accept`), which format a body is in (`Content-Type`), and reading a body under the
//! configured size limit.

use actix_web::{http::header, web, HttpRequest};

use crate::fhir::params::truncate;
use crate::fhir::{FhirError, Format, OperationInput, Problem};

/// How to render the response: format and pretty-printing.
#[derive(Debug, Clone, Copy)]
pub struct Rendering {
    pub format: Format,
    pub pretty: bool,
}

impl Default for Rendering {
    fn default() -> Self {
        Rendering {
            format: Format::Json,
            pretty: false,
        }
    }
}

/// Chooses the response format: `_format` wins over `Accept`; JSON when neither says.
pub fn rendering(req: &HttpRequest) -> Result<Rendering, FhirError> {
    let mut rendering = Rendering::default();
    let mut format_param = None;
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        match k.as_ref() {
            "_format" => format_param = Some(v.into_owned()),
            "_pretty" => rendering.pretty = v == "true",
            _ => {}
        }
    }
    if let Some(f) = format_param {
        rendering.format = Format::from_mime(&f).ok_or_else(|| {
            FhirError::new(
                Problem::NotAcceptable,
                format!(
                    "_format '{}' is not supported: use json or xml",
                    truncate(&f)
                ),
            )
        })?;
        return Ok(rendering);
    }
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(rendering);
    };
    let mut acceptable_other = false;
    for range in accept.split(',') {
        let essence = range.split(';').next().unwrap_or("").trim();
        if let Some(f) = Format::from_mime(essence) {
            rendering.format = f;
            return Ok(rendering);
        }
        if essence == "*/*" || essence == "application/*" || essence.is_empty() {
            acceptable_other = true;
        }
    }
    if acceptable_other {
        Ok(rendering)
    } else {
        Err(FhirError::new(
            Problem::NotAcceptable,
            format!(
                "None of the media types in Accept ({}) can be produced: use application/fhir+json or application/fhir+xml",
                truncate(accept)
            ),
        ))
    }
}

/// Reads the body of a POST (empty for other methods) under the size limit.
pub async fn body(
    req: &HttpRequest,
    payload: web::Payload,
    max_body: usize,
) -> Result<web::Bytes, FhirError> {
    if req.method() != actix_web::http::Method::POST {
        return Ok(web::Bytes::new());
    }
    read_body(req, payload, max_body).await
}

/// An operation's inputs: the query string, plus for POST a Parameters body (JSON or XML)
/// or a form.
pub fn operation_input(req: &HttpRequest, body: &[u8]) -> Result<OperationInput, FhirError> {
    let mut input = OperationInput::from_query(req.query_string());
    if req.method() != actix_web::http::Method::POST {
        return Ok(input);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/x-www-form-urlencoded" {
        let text = std::str::from_utf8(body)
            .map_err(|_| FhirError::invalid("The form body is not valid UTF-8"))?;
        input.extend(OperationInput::from_query(text));
        return Ok(input);
    }
    let format = Format::from_mime(&essence).ok_or_else(|| {
        FhirError::new(
            Problem::UnsupportedMediaType,
            format!(
                "Content-Type '{}' is not supported: send application/fhir+json, application/fhir+xml or a form",
                truncate(&content_type)
            ),
        )
    })?;
    let value = crate::fhir::format::parse_body(body, format).map_err(FhirError::invalid)?;
    input.extend(OperationInput::from_parameters(value)?);
    Ok(input)
}

async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    max_body: usize,
) -> Result<web::Bytes, FhirError> {
    let too_large = || {
        FhirError::new(
            Problem::PayloadTooLarge,
            format!("The request body is larger than the limit of {max_body} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_body) {
        return Err(too_large());
    }
    match payload.to_bytes_limited(max_body).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(FhirError::invalid(format!(
            "The request body could not be read: {e}"
        ))),
        Err(_) => Err(too_large()),
    }
}

/// The FHIR base URL as the client addressed it (`http://host:port/fhir`).
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/fhir", info.scheme(), info.host())
}

/// The `Accept-Language` header, used as the default `displayLanguage`.
pub fn accept_language(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
