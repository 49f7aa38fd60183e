//! The admin API under `/admin` (JSON): the access register, the audit, reports, CRL
//! refresh and tokens. Handlers authorise by role, parse, call [`crate::admin`] off the
//! async executor, and render; errors are OperationOutcomes like everywhere else.

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::access::refusal_response;
use super::observe::RequestId;
use super::AppState;
use crate::access::{CrlStatus, Identity, Refusal};
use crate::admin::imports::{ImportRequest, ImportState, ImportStatus};
use crate::admin::{
    reports, Actor, Admin, AdminError, CertificateBinding, CertificateRegistration, IssuedToken,
    StatusChange, TokenRequest, Transition,
};
use crate::model::register::*;

/// What a handler needs of its caller.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// Admin role.
    Admin,
    /// Admin or auditor (the audit and reports).
    Audit,
}

fn actor(req: &HttpRequest, need: Need) -> Result<Actor, Box<HttpResponse>> {
    let identity = req
        .extensions()
        .get::<Identity>()
        .cloned()
        .unwrap_or_default();
    let allowed = matches!(
        (identity.role, need),
        (Some(Role::Admin), _) | (Some(Role::Auditor), Need::Audit)
    );
    if !allowed {
        let why = match identity.role {
            Some(Role::Auditor) => "an auditor reads the audit and reports only",
            _ => "this needs the admin role",
        };
        return Err(Box::new(refusal_response(
            req,
            &Refusal::forbidden("forbidden", why),
        )));
    }
    Ok(Actor {
        identity,
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        client: req.peer_addr().map(|a| a.ip().to_string()),
    })
}

fn outcome(status: u16, code: &str, text: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("application/fhir+json")
    .json(serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "details": {"text": text}}],
    }))
}

/// An extractor failure (query or path of an admin endpoint) as an OperationOutcome.
pub fn bad_request(status: u16, text: &str) -> actix_web::Error {
    let code = if status == 404 {
        "not-found"
    } else {
        "invalid"
    };
    actix_web::error::InternalError::from_response(text.to_string(), outcome(status, code, text))
        .into()
}

fn failure(e: &AdminError) -> HttpResponse {
    let code = match e {
        AdminError::Invalid(_) => "invalid",
        AdminError::NotFound(_) => "not-found",
        AdminError::Conflict(_) => "conflict",
        AdminError::Store(inner) => {
            tracing::error!("admin store error: {inner}");
            return outcome(500, "exception", "the register could not be changed");
        }
    };
    outcome(e.status(), code, &e.to_string())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Box<HttpResponse>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(outcome(
            400,
            "structure",
            &format!("the body is not the expected JSON: {e}"),
        ))
    })
}

/// Parses a body whose type cannot deny unknown fields itself (it is flattened into the
/// stored entry's schema): any key that `T` does not have is refused.
fn parse_strict<T: DeserializeOwned + Serialize + Default>(
    body: &[u8],
) -> Result<T, Box<HttpResponse>> {
    let value: serde_json::Value = parse(body)?;
    if let (Some(given), Ok(serde_json::Value::Object(known))) =
        (value.as_object(), serde_json::to_value(T::default()))
    {
        if let Some(unknown) = given.keys().find(|k| !known.contains_key(*k)) {
            return Err(Box::new(outcome(
                400,
                "structure",
                &format!("the body is not the expected JSON: unknown field `{unknown}`"),
            )));
        }
    }
    serde_json::from_value(value).map_err(|e| {
        Box::new(outcome(
            400,
            "structure",
            &format!("the body is not the expected JSON: {e}"),
        ))
    })
}

/// Runs an admin call off the executor and renders its JSON.
async fn run<T: Serialize + Send + 'static>(
    state: web::Data<AppState>,
    status: u16,
    f: impl FnOnce(&Admin) -> Result<T, AdminError> + Send + 'static,
) -> HttpResponse {
    let result = web::block(move || {
        let admin = Admin {
            access: &state.access,
            store: state.terminology.store(),
        };
        f(&admin)
    })
    .await;
    match result {
        Ok(Ok(value)) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
                .json(value)
        }
        Ok(Err(e)) => failure(&e),
        Err(_) => outcome(500, "exception", "the admin call failed"),
    }
}

macro_rules! try_or_respond {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return *response,
        }
    };
}

/// List the registered institutions.
#[utoipa::path(get, path = "/admin/institutions", tag = "admin",
    responses((status = 200, body = [Institution]), (status = 401), (status = 403)))]
pub async fn list_institutions(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    run(state, 200, |a| a.institutions()).await
}

/// Register an institution.
#[utoipa::path(post, path = "/admin/institutions", tag = "admin", request_body = InstitutionFields,
    responses((status = 201, body = Institution), (status = 409, description = "registry code already registered"), (status = 422)))]
pub async fn create_institution(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let fields: InstitutionFields = try_or_respond!(parse_strict(&body));
    run(state, 201, move |a| a.create_institution(&actor, &fields)).await
}

/// One institution.
#[utoipa::path(get, path = "/admin/institutions/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = Institution), (status = 404)))]
pub async fn get_institution(
    req: HttpRequest,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    let id = id.into_inner();
    run(state, 200, move |a| a.institution(id)).await
}

/// Replace an institution's details.
#[utoipa::path(put, path = "/admin/institutions/{id}", tag = "admin", request_body = InstitutionFields,
    params(("id" = i64, Path)), responses((status = 200, body = Institution), (status = 404), (status = 409, description = "registry code already registered"), (status = 422)))]
pub async fn update_institution(
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let fields: InstitutionFields = try_or_respond!(parse_strict(&body));
    let id = id.into_inner();
    run(state, 200, move |a| {
        a.update_institution(&actor, id, &fields)
    })
    .await
}

/// What a status-change endpoint (`{id}/suspend|restore|annul`) was asked, or the answer
/// that refuses it.
fn status_change(
    req: &HttpRequest,
    path: web::Path<(i64, String)>,
    body: &[u8],
) -> Result<(Actor, i64, Transition, StatusChange), Box<HttpResponse>> {
    let actor = actor(req, Need::Admin)?;
    let (id, action) = path.into_inner();
    let Some(t) = Transition::parse(&action) else {
        return Err(Box::new(outcome(
            404,
            "not-found",
            &format!("unknown action {action}: suspend, restore or annul"),
        )));
    };
    Ok((actor, id, t, parse(body)?))
}

/// Suspend, restore or annul an institution (annulment is final).
#[utoipa::path(post, path = "/admin/institutions/{id}/{action}", tag = "admin", request_body = StatusChange,
    params(("id" = i64, Path), ("action" = String, Path, description = "suspend, restore or annul")),
    responses((status = 200, body = Institution), (status = 404), (status = 409, description = "not allowed from the current status")))]
pub async fn transition_institution(
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (actor, id, t, change) = try_or_respond!(status_change(&req, path, &body));
    run(state, 200, move |a| {
        a.transition_institution(&actor, id, t, &change)
    })
    .await
}

/// List the registered client certificates.
#[utoipa::path(get, path = "/admin/certificates", tag = "admin",
    responses((status = 200, body = [ClientCertificate])))]
pub async fn list_certificates(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    run(state, 200, |a| a.certificates()).await
}

/// Register a client certificate from its PEM: the server reads subject, issuer, serial,
/// validity, key size and fingerprint, and refuses keys under 2048 bits, non-SHA-2
/// signatures and certificates not issued by a trusted CA. The body is the JSON below,
/// or the PEM file itself (`Content-Type: application/x-pem-file`) with the binding in
/// the query (`?institution_id=1`, or `?role=admin&user_name=...`).
#[utoipa::path(post, path = "/admin/certificates", tag = "admin", request_body = CertificateRegistration,
    params(("institution_id" = Option<i64>, Query, description = "with a PEM body"),
        ("role" = Option<Role>, Query, description = "with a PEM body"),
        ("user_name" = Option<String>, Query, description = "with a PEM body")),
    responses((status = 201, body = ClientCertificate), (status = 409), (status = 422, description = "weak key, weak signature, untrusted issuer, expired, or bad binding")))]
pub async fn register_certificate(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let r: CertificateRegistration = if body.trim_ascii_start().starts_with(b"-----BEGIN") {
        let binding = match web::Query::<PemBinding>::from_query(req.query_string()) {
            Ok(q) => q.into_inner(),
            Err(e) => return outcome(400, "structure", &format!("bad query: {e}")),
        };
        CertificateRegistration {
            pem: String::from_utf8_lossy(&body).into_owned(),
            role: binding.role,
            institution_id: binding.institution_id,
            user_name: binding.user_name,
        }
    } else {
        try_or_respond!(parse(&body))
    };
    run(state, 201, move |a| a.register_certificate(&actor, &r)).await
}

/// The binding of a certificate uploaded as a PEM body.
#[derive(serde::Deserialize)]
struct PemBinding {
    role: Option<Role>,
    institution_id: Option<i64>,
    user_name: Option<String>,
}

/// One certificate.
#[utoipa::path(get, path = "/admin/certificates/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = ClientCertificate), (status = 404)))]
pub async fn get_certificate(
    req: HttpRequest,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    let id = id.into_inner();
    run(state, 200, move |a| a.certificate(id)).await
}

/// Bind a certificate to a role and an institution or user.
#[utoipa::path(put, path = "/admin/certificates/{id}/binding", tag = "admin", request_body = CertificateBinding,
    params(("id" = i64, Path)), responses((status = 200, body = ClientCertificate), (status = 404), (status = 422)))]
pub async fn bind_certificate(
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let b: CertificateBinding = try_or_respond!(parse(&body));
    let id = id.into_inner();
    run(state, 200, move |a| a.bind_certificate(&actor, id, &b)).await
}

/// Suspend, restore or annul a certificate.
#[utoipa::path(post, path = "/admin/certificates/{id}/{action}", tag = "admin", request_body = StatusChange,
    params(("id" = i64, Path), ("action" = String, Path, description = "suspend, restore or annul")),
    responses((status = 200, body = ClientCertificate), (status = 404), (status = 409)))]
pub async fn transition_certificate(
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (actor, id, t, change) = try_or_respond!(status_change(&req, path, &body));
    run(state, 200, move |a| {
        a.transition_certificate(&actor, id, t, &change)
    })
    .await
}

/// List the licences.
#[utoipa::path(get, path = "/admin/licences", tag = "admin", responses((status = 200, body = [Licence])))]
pub async fn list_licences(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    run(state, 200, |a| a.licences()).await
}

/// Record a licence: every field of the licence register, the editions/modules it
/// covers and the institutions that use it.
#[utoipa::path(post, path = "/admin/licences", tag = "admin", request_body = LicenceFields,
    responses((status = 201, body = Licence), (status = 409), (status = 422)))]
pub async fn create_licence(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let f: LicenceFields = try_or_respond!(parse_strict(&body));
    run(state, 201, move |a| a.create_licence(&actor, &f)).await
}

/// One licence.
#[utoipa::path(get, path = "/admin/licences/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = Licence), (status = 404)))]
pub async fn get_licence(
    req: HttpRequest,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    let id = id.into_inner();
    run(state, 200, move |a| a.licence(id)).await
}

/// Replace a licence (also how a revocation date is recorded).
#[utoipa::path(put, path = "/admin/licences/{id}", tag = "admin", request_body = LicenceFields,
    params(("id" = i64, Path)), responses((status = 200, body = Licence), (status = 404), (status = 409, description = "licence id already registered"), (status = 422)))]
pub async fn update_licence(
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let f: LicenceFields = try_or_respond!(parse_strict(&body));
    let id = id.into_inner();
    run(state, 200, move |a| a.update_licence(&actor, id, &f)).await
}

/// Whether the caller asked for CSV (`format=csv`).
fn wants_csv(req: &HttpRequest) -> bool {
    form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, v)| k == "format" && v == "csv")
}

fn csv_response(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

/// Query the audit trail (newest first); `format=csv` exports it.
#[utoipa::path(get, path = "/admin/audit", tag = "audit", params(AuditQuery, ("format" = Option<String>, Query, description = "csv for a CSV export")),
    responses((status = 200, description = "JSON, or CSV with format=csv", content(
        ([AuditEvent] = "application/json"), (String = "text/csv")))))]
pub async fn audit(
    req: HttpRequest,
    q: web::Query<AuditQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Audit));
    let q = q.into_inner();
    if wants_csv(&req) {
        let state = state.clone();
        let events = web::block(move || {
            Admin {
                access: &state.access,
                store: state.terminology.store(),
            }
            .audit_events(&q)
        })
        .await;
        return match events {
            Ok(Ok(events)) => csv_response("audit.csv", reports::audit_csv(&events)),
            Ok(Err(e)) => failure(&e),
            Err(_) => outcome(500, "exception", "the audit query failed"),
        };
    }
    run(state, 200, move |a| a.audit_events(&q)).await
}

/// Period of a report.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// From (inclusive; date or RFC 3339).
    pub from: Option<String>,
    /// Until (exclusive).
    pub to: Option<String>,
    /// `csv` for CSV.
    pub format: Option<String>,
}

/// Usage per institution and operation over a period.
#[utoipa::path(get, path = "/admin/reports/usage", tag = "audit", params(Period),
    responses((status = 200, description = "JSON, or CSV with format=csv", content(
        ([UsageRow] = "application/json"), (String = "text/csv")))))]
pub async fn usage_report(
    req: HttpRequest,
    p: web::Query<Period>,
    state: web::Data<AppState>,
) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Audit));
    let csv = wants_csv(&req);
    let p = p.into_inner();
    let rows = web::block(move || {
        state.access.audit.flush();
        state
            .terminology
            .store()
            .usage(p.from.as_deref(), p.to.as_deref())
    })
    .await;
    match rows {
        Ok(Ok(rows)) if csv => csv_response("usage.csv", reports::usage_csv(&rows)),
        Ok(Ok(rows)) => HttpResponse::Ok().json(rows),
        _ => outcome(500, "exception", "the usage report failed"),
    }
}

/// The de-personalised licence report for SNOMED International (CSV): personal codes
/// omitted, natural persons' names replaced by "natural person".
#[utoipa::path(get, path = "/admin/reports/licences", tag = "audit",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn licence_report(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Audit));
    let licences = web::block(move || state.terminology.store().register()).await;
    match licences {
        Ok(Ok(r)) => csv_response("licences.csv", reports::licence_csv(&r.licences)),
        _ => outcome(500, "exception", "the licence report failed"),
    }
}

/// The CRL of every trusted CA.
#[utoipa::path(get, path = "/admin/crl", tag = "admin", responses((status = 200, body = [CrlStatus])))]
pub async fn crl_status(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Audit));
    HttpResponse::Ok().json(state.access.crls.status())
}

/// Load every CRL again now (also done on the configured schedule).
#[utoipa::path(post, path = "/admin/crl/refresh", tag = "admin", responses((status = 200, body = [CrlStatus])))]
pub async fn crl_refresh(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let status = web::block(move || {
        let status = state.access.crls.refresh();
        let mut e = AuditEvent {
            operation: "admin/crl.refresh".into(),
            outcome: if status.iter().all(|s| s.fresh) {
                "success"
            } else {
                "error"
            }
            .into(),
            status: Some(200),
            request_id: actor.request_id.clone(),
            after: serde_json::to_string(&status).ok(),
            ..AuditEvent::default()
        };
        actor.identity.stamp(&mut e);
        state.access.audit.record(e);
        status
    })
    .await;
    match status {
        Ok(status) => HttpResponse::Ok().json(status),
        Err(_) => outcome(500, "exception", "the CRL refresh failed"),
    }
}

/// Issue an admin or auditor token; it is shown once, only its hash is stored.
#[utoipa::path(post, path = "/admin/tokens", tag = "admin", request_body = TokenRequest,
    responses((status = 201, body = IssuedToken), (status = 422)))]
pub async fn issue_token(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let r: TokenRequest = try_or_respond!(parse(&body));
    run(state, 201, move |a| a.issue_token(&actor, &r)).await
}

/// Import releases from files on the server into the running server's database, on a
/// background thread: readers keep the old content until the new one commits whole.
/// Answers 202 with the import's status; follow it at `/admin/imports/{id}`.
#[utoipa::path(post, path = "/admin/imports", tag = "admin", request_body = ImportRequest,
    responses((status = 202, body = ImportStatus), (status = 422, description = "a path does not exist on the server")))]
pub async fn start_import(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let actor = try_or_respond!(actor(&req, Need::Admin));
    let r: ImportRequest = try_or_respond!(parse(&body));
    let store = state.terminology.store().clone();
    let imports = state.imports.clone();
    let audit = state.access.audit.clone();
    run(state, 202, move |_| imports.start(store, audit, &actor, r)).await
}

/// The imports started since the server started, newest first, with live progress.
#[utoipa::path(get, path = "/admin/imports", tag = "admin", responses((status = 200, body = [ImportStatus])))]
pub async fn list_imports(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    HttpResponse::Ok().json(state.imports.list())
}

/// One import: state, progress, what it loaded or why it failed.
#[utoipa::path(get, path = "/admin/imports/{id}", tag = "admin",
    params(("id" = u64, Path)), responses((status = 200, body = ImportStatus), (status = 404)))]
pub async fn get_import(
    req: HttpRequest,
    id: web::Path<u64>,
    state: web::Data<AppState>,
) -> HttpResponse {
    try_or_respond!(actor(&req, Need::Admin));
    match state.imports.get(id.into_inner()) {
        Ok(status) => HttpResponse::Ok().json(status),
        Err(e) => failure(&e),
    }
}

/// An unknown admin path or method.
async fn admin_not_found(req: HttpRequest) -> HttpResponse {
    outcome(
        404,
        "not-found",
        &format!("{} {} is not an admin endpoint", req.method(), req.path()),
    )
}

/// Declares the admin routes once: the router, the OpenAPI document (through utoipa's
/// `paths(...)`, so a route cannot be served without being documented) and [`ROUTES`]
/// (which the drift test compares with the document's paths) all come from this table.
macro_rules! admin_api {
    ($(($method:ident, $path:literal, $handler:ident)),* $(,)?) => {
        /// Every admin route as `(method, path under /admin)`.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The admin routes, in one `/admin` scope: FHIR requests are matched against one
        /// prefix instead of every admin pattern (each a regex in the router).
        pub fn routes(cfg: &mut web::ServiceConfig) {
            cfg.service(
                web::scope("/admin")
                    $(.route($path, web::$method().to($handler)))*
                    .default_service(web::route().to(admin_not_found)),
            );
        }

        /// The admin API's OpenAPI paths and schemas, merged into the server's document.
        #[derive(utoipa::OpenApi)]
        #[openapi(
            paths($($handler),*),
            components(schemas(Institution, InstitutionFields, ClientCertificate, Licence,
                LicenceFields, LicenceScope, AuditEvent, UsageRow, StatusChange,
                CertificateRegistration, CertificateBinding, TokenRequest, IssuedToken,
                CrlStatus, Status, Role, Outcome, ImportRequest, ImportStatus, ImportState)),
            tags((name = "admin", description = "The access register (admin role). Authenticate with an administrator's client certificate or `Authorization: Bearer <token>`."),
                (name = "audit", description = "The audit trail and reports (admin or auditor role)."))
        )]
        pub struct AdminApi;
    };
}

admin_api! {
    (get, "/institutions", list_institutions),
    (post, "/institutions", create_institution),
    (get, "/institutions/{id}", get_institution),
    (put, "/institutions/{id}", update_institution),
    (post, "/institutions/{id}/{action}", transition_institution),
    (get, "/certificates", list_certificates),
    (post, "/certificates", register_certificate),
    (get, "/certificates/{id}", get_certificate),
    (put, "/certificates/{id}/binding", bind_certificate),
    (post, "/certificates/{id}/{action}", transition_certificate),
    (get, "/licences", list_licences),
    (post, "/licences", create_licence),
    (get, "/licences/{id}", get_licence),
    (put, "/licences/{id}", update_licence),
    (get, "/audit", audit),
    (get, "/reports/usage", usage_report),
    (get, "/reports/licences", licence_report),
    (get, "/crl", crl_status),
    (post, "/crl/refresh", crl_refresh),
    (post, "/tokens", issue_token),
    (post, "/imports", start_import),
    (get, "/imports", list_imports),
    (get, "/imports/{id}", get_import),
}
