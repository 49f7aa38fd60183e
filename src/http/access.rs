//! The access middleware: identity, refusals, licence gating, rate limits and the audit
//! record of every request. All decisions are the `access` module's; this file moves
//! bytes between actix and it.
//!
//! Order per request: public paths (health, metrics, docs) pass; otherwise the identity
//! comes from an admin token (`/admin` only) or the connection's client certificate
//! (production) or is anonymous (development, FHIR only). After the handler, the
//! request and the answer are checked for licensed content the identity has no licence
//! for (the answer is then replaced by a 403), the codes returned are counted against the
//! hourly quota, and the audit event is queued.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};

use super::negotiate;
use super::observe::{operation_label, Operation, RequestId};
use super::AppState;
use crate::access::{disclosure, Identity, PeerCertificate, Refusal};
use crate::fhir::format;
use crate::model::register::{AuditEvent, Outcome, Role};

/// A POST body, kept by the operation handler for the licence check.
#[derive(Clone)]
pub struct RequestBody(pub web::Bytes);

/// The code systems an answer drew on that its text need not name (a `$compare` lists
/// bare codes), kept by the operation handler for the licence check.
#[derive(Clone)]
pub struct Disclosed(pub String);

/// Paths anyone may reach: liveness, readiness, metrics and the API documentation.
fn public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/metrics" | "/openapi.json" | "/docs"
    ) || path.starts_with("/docs/")
}

/// The bearer token of the request, if any.
fn bearer(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Who is asking, or why nobody may.
fn identify(req: &ServiceRequest, state: &AppState, admin_path: bool) -> Result<Identity, Refusal> {
    let access = &state.access;
    if admin_path {
        if let Some(token) = bearer(req) {
            return access.identify_token(&token);
        }
    }
    if !state.production {
        return if admin_path {
            Err(Refusal::unauthenticated(
                "the admin API needs `Authorization: Bearer <token>` (the bootstrap token \
                 printed at first start, or one from `nomen admin token`)",
            ))
        } else {
            Ok(Identity::anonymous())
        };
    }
    match req.conn_data::<PeerCertificate>() {
        Some(peer) => access.identify(peer),
        None if admin_path => Err(Refusal::unauthenticated(
            "the admin API needs an administrator's client certificate or an admin token",
        )),
        None => Err(Refusal::unauthenticated(
            "a registered client certificate is required",
        )),
    }
}

/// Whether the role may make this request at all.
fn authorise(identity: &Identity, admin_path: bool) -> Result<(), Refusal> {
    match (identity.role, admin_path) {
        (None, false) | (Some(Role::Admin), _) | (Some(Role::Institution), false) => Ok(()),
        // Auditors read the audit and reports; the admin handlers check which.
        (Some(Role::Auditor), true) => Ok(()),
        (Some(Role::Auditor), false) => Err(Refusal::forbidden(
            "forbidden",
            "an auditor reads the audit and reports only, not terminology content",
        )),
        (Some(Role::Institution), true) | (None, true) => Err(Refusal::forbidden(
            "forbidden",
            "the admin API is reachable only with an admin or auditor identity",
        )),
    }
}

/// Renders a refusal as an OperationOutcome in the negotiated format.
pub fn refusal_response(req: &HttpRequest, r: &Refusal) -> HttpResponse {
    let outcome = serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": r.code, "details": {"text": r.reason}}],
    });
    let rendering = negotiate::rendering(req).unwrap_or_default();
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN);
    let mut response = HttpResponse::build(status);
    if let Some(seconds) = r.retry_after {
        response.insert_header(("Retry-After", seconds.to_string()));
    }
    match format::render(&outcome, rendering.format, rendering.pretty) {
        Ok(bytes) => response
            .content_type(rendering.format.content_type())
            .body(bytes),
        Err(_) => response
            .content_type("application/fhir+json")
            .body(outcome.to_string()),
    }
}

fn event(req: &HttpRequest, identity: &Identity, operation: String) -> AuditEvent {
    let mut e = AuditEvent {
        operation,
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        client: req.peer_addr().map(|a| a.ip().to_string()),
        detail: identity.note.clone(),
        ..AuditEvent::default()
    };
    identity.stamp(&mut e);
    e
}

fn outcome_of(status: u16) -> Outcome {
    match status {
        s if s < 400 => Outcome::Success,
        401 | 403 | 429 => Outcome::Refused,
        _ => Outcome::Error,
    }
}

/// The middleware.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_string();
    if public(&path) {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .expect("app state");
    let admin_path = path == "/admin" || path.starts_with("/admin/");
    let operation = req
        .extensions()
        .get::<Operation>()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| operation_label(&path));
    // The identity, if one was established, is named in the audit of a refusal too.
    let mut known = Identity::default();
    let decided = identify(&req, &state, admin_path).and_then(|identity| {
        known = identity.clone();
        authorise(&identity, admin_path)?;
        if let (Some(institution), true) = (identity.institution_id, state.production) {
            state.access.limits.admit(institution)?;
        }
        Ok(identity)
    });
    let identity = match decided {
        Ok(identity) => identity,
        Err(refusal) => {
            let (http, _) = req.into_parts();
            let mut e = event(&http, &known, operation);
            if let Some(peer) = http.conn_data::<PeerCertificate>() {
                e.fingerprint = Some(peer.fingerprint.clone());
            }
            e.outcome = Outcome::Refused.as_str().into();
            e.status = Some(refusal.status);
            e.detail = Some(refusal.reason.clone());
            e.target = target(&http);
            state.access.audit.record(e);
            state.metrics.refused();
            let response = refusal_response(&http, &refusal);
            return Ok(ServiceResponse::new(http, response));
        }
    };
    req.extensions_mut().insert(identity.clone());
    let response = next.call(req).await?.map_into_boxed_body();
    if admin_path {
        return Ok(audit_admin(&state, &identity, operation, response));
    }
    if !state.production {
        return Ok(response);
    }
    Ok(gate(&state, &identity, operation, response))
}

/// The code systems and value sets a request names (`url`, `system`, `source`,
/// `target`), for the audit. Only those parameters' values are decoded: this runs on
/// every audited request.
fn target(req: &HttpRequest) -> Option<String> {
    let mut named = String::new();
    for pair in req.query_string().split('&') {
        let raw_key = pair.split_once('=').map_or(pair, |(k, _)| k);
        // Keys are plain names; only an escaped one, or a kept parameter, is decoded.
        let escaped = raw_key.contains(['%', '+']);
        if !escaped && !matches!(raw_key, "url" | "system" | "source" | "target") {
            continue;
        }
        if let Some((key, value)) = form_urlencoded::parse(pair.as_bytes()).next() {
            if matches!(key.as_ref(), "url" | "system" | "source" | "target") {
                if !named.is_empty() {
                    named.push(' ');
                }
                named.push_str(&value);
            }
        }
    }
    (!named.is_empty()).then_some(named)
}

/// Admin requests: reads and failures are audited here; successful writes are audited
/// by the admin service with the entry before and after.
fn audit_admin(
    state: &AppState,
    identity: &Identity,
    operation: String,
    response: ServiceResponse<BoxBody>,
) -> ServiceResponse<BoxBody> {
    let status = response.status().as_u16();
    let read = response.request().method() == actix_web::http::Method::GET;
    if read || status >= 400 {
        let mut e = event(response.request(), identity, operation);
        e.target = Some(response.request().path().to_string());
        e.outcome = outcome_of(status).as_str().into();
        e.status = Some(status);
        state.access.audit.record(e);
    }
    response
}

/// FHIR requests in production: the licence check over the request and the answer, the
/// code quota, and the audit record.
fn gate(
    state: &AppState,
    identity: &Identity,
    operation: String,
    response: ServiceResponse<BoxBody>,
) -> ServiceResponse<BoxBody> {
    let licensed = state.terminology.licensed_systems();
    let counted =
        identity.institution_id.is_some() && state.access.limits.settings.codes_per_hour > 0;
    if licensed.is_empty() && !counted {
        // Nothing to look for in the answer: audit it and pass it on untouched.
        let status = response.status().as_u16();
        let mut e = event(response.request(), identity, operation);
        e.target = target(response.request());
        e.outcome = outcome_of(status).as_str().into();
        e.status = Some(status);
        state.access.audit.record(e);
        return response;
    }
    let (http, response) = response.into_parts();
    let status = response.status().as_u16();
    let (head, body) = response.into_parts();
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => {
            // A streamed body (none of ours is): audit it without the content checks.
            let mut e = event(&http, identity, operation);
            e.outcome = outcome_of(status).as_str().into();
            e.status = Some(status);
            state.access.audit.record(e);
            return ServiceResponse::new(http, head.set_body(body));
        }
    };
    let touched = if licensed.is_empty() {
        Vec::new()
    } else {
        let request_body = http.extensions().get::<RequestBody>().map(|b| b.0.clone());
        let disclosed = http.extensions().get::<Disclosed>().map(|d| d.0.clone());
        let query = http.query_string();
        // The decoded query, for URLs sent percent-encoded; most queries have nothing to
        // decode, and then the raw query is scanned once.
        let decoded: String = if query.contains(['%', '+']) {
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| format!("{k}={v}&"))
                .collect()
        } else {
            String::new()
        };
        disclosure::touched(
            &licensed,
            http.path(),
            &[
                query.as_bytes(),
                decoded.as_bytes(),
                request_body.as_deref().unwrap_or_default(),
                disclosed.as_deref().unwrap_or_default().as_bytes(),
                &bytes,
            ],
        )
    };
    let mut e = event(&http, identity, operation);
    let mut named: Vec<String> = touched
        .iter()
        .map(|t| match &t.edition {
            Some(m) => format!("{}|{m}", t.system),
            None => t.system.clone(),
        })
        .collect();
    if let Some(t) = target(&http) {
        named.push(t);
    }
    e.target = (!named.is_empty()).then(|| named.join(" "));
    if let Err(refusal) = state.access.check_licences(identity, &touched) {
        e.outcome = Outcome::Refused.as_str().into();
        e.status = Some(refusal.status);
        e.detail = Some(refusal.reason.clone());
        state.access.audit.record(e);
        state.metrics.refused();
        let response = refusal_response(&http, &refusal);
        return ServiceResponse::new(http, response);
    }
    if let Some(institution) = identity.institution_id {
        if status < 400 {
            state
                .access
                .limits
                .count_codes(institution, disclosure::codes_in(&bytes));
        }
    }
    e.outcome = outcome_of(status).as_str().into();
    e.status = Some(status);
    state.access.audit.record(e);
    ServiceResponse::new(http, head.set_body(BoxBody::new(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_target_keeps_the_named_systems_decoded() {
        let req = actix_web::test::TestRequest::with_uri(
            "/fhir/ConceptMap/$translate?code=a%20b&url=http%3A%2F%2Fx.org%2Fcm&system=http://s.org&source=v+1&%74arget=t",
        )
        .to_http_request();
        assert_eq!(
            target(&req).as_deref(),
            Some("http://x.org/cm http://s.org v 1 t")
        );
        let none = actix_web::test::TestRequest::with_uri("/fhir/metadata?mode=terminology")
            .to_http_request();
        assert_eq!(target(&none), None);
    }
}
