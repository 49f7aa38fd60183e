//! Observability of the HTTP service: a request id on every response (`X-Request-Id`,
//! kept from the client when it sends a sane one), Prometheus metrics at `/metrics`
//! (requests and latency per operation, response cache hits, read pool usage, loaded
//! content), readiness at `/readyz`, and the access log.
//!
//! Operations are labelled by route shape (`CodeSystem/$lookup`, `ValueSet/read`, ...),
//! never by raw path, so the number of series stays bounded whatever clients send.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::AppState;

/// The header that carries the request id both ways.
pub const REQUEST_ID: &str = "x-request-id";

/// The id of one request, in the request's extensions for handlers (and the audit).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The operation label of one request ([`operation_label`]), computed once by
/// [`observe`] and kept in the request's extensions for the access middleware's audit.
#[derive(Debug, Clone)]
pub struct Operation(pub String);

/// The server's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    cache: IntCounterVec,
    pool: IntGaugeVec,
    code_systems: IntGauge,
    concepts: IntGauge,
    generation: IntGauge,
    imports: IntGaugeVec,
    audit_refusals: prometheus::IntCounter,
}

impl Metrics {
    /// A registry with every series Nomen exports.
    pub fn new() -> Arc<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "nomen_requests_total",
                "HTTP requests by operation and status",
            ),
            &["operation", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "nomen_request_duration_seconds",
                "Time from request to response head, by operation",
            )
            .buckets(vec![
                0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["operation"],
        )
        .expect("valid metric");
        let cache = IntCounterVec::new(
            Opts::new(
                "nomen_response_cache_total",
                "Response cache lookups by result (hit, miss)",
            ),
            &["result"],
        )
        .expect("valid metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "nomen_db_pool_connections",
                "Read pool connections by state (open, idle, in_use, max)",
            ),
            &["state"],
        )
        .expect("valid metric");
        let code_systems =
            IntGauge::new("nomen_code_system_versions", "Code system versions loaded")
                .expect("valid metric");
        let concepts =
            IntGauge::new("nomen_concepts", "Concepts loaded, all versions").expect("valid metric");
        let generation = IntGauge::new(
            "nomen_store_generation",
            "Content generation of the store (bumped by every import)",
        )
        .expect("valid metric");
        let imports = IntGaugeVec::new(
            Opts::new(
                "nomen_import",
                "Server-side imports (POST /admin/imports): running, and the items done and total of the running ones",
            ),
            &["measure"],
        )
        .expect("valid metric");
        let audit_refusals = prometheus::IntCounter::new(
            "nomen_access_refusals_total",
            "Requests refused by the access policy (401, 403, 429)",
        )
        .expect("valid metric");
        for m in [
            Box::new(imports.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(audit_refusals.clone()),
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(cache.clone()),
            Box::new(pool.clone()),
            Box::new(code_systems.clone()),
            Box::new(concepts.clone()),
            Box::new(generation.clone()),
        ] {
            registry.register(m).expect("unique metric");
        }
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            cache,
            pool,
            code_systems,
            concepts,
            generation,
            imports,
            audit_refusals,
        })
    }

    /// Counts one refusal of the access policy.
    pub fn refused(&self) {
        self.audit_refusals.inc();
    }

    fn observe(&self, operation: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[operation, status_class(status)])
            .inc();
        self.latency
            .with_label_values(&[operation])
            .observe(seconds);
    }
}

/// Status codes as their exact value for the common ones, so the series stay few.
fn status_class(status: u16) -> &'static str {
    match status {
        200 => "200",
        302 => "302",
        400 => "400",
        404 => "404",
        405 => "405",
        406 => "406",
        413 => "413",
        415 => "415",
        422 => "422",
        500 => "500",
        501 => "501",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// The metrics label of a request path: the route shape, not the raw path.
pub fn operation_label(path: &str) -> String {
    let Some(rest) = path.strip_prefix("/fhir/") else {
        return match path {
            "/healthz" | "/readyz" | "/metrics" | "/openapi.json" => path[1..].to_string(),
            p if p == "/docs" || p.starts_with("/docs/") => "docs".into(),
            p if p.starts_with("/admin/") => admin_label(p),
            _ => "other".into(),
        };
    };
    // At most three segments matter; a fourth makes the path `other`.
    let mut segments = rest.split('/');
    let parts = [segments.next(), segments.next(), segments.next()];
    if segments.next().is_some() {
        return "other".into();
    }
    let known_type = |t: &str| matches!(t, "CodeSystem" | "ValueSet" | "ConceptMap");
    match parts {
        [Some("metadata"), None, None] => "metadata".into(),
        [Some(op), None, None] if op.starts_with('$') && op.len() < 40 => clean(op).into(),
        [Some(t), None, None] if known_type(t) => format!("{t}/search"),
        [Some(t), Some(op), None] | [Some(t), Some(_), Some(op)]
            if known_type(t) && op.starts_with('$') =>
        {
            format!("{t}/{}", clean(op))
        }
        [Some(t), Some(_), None] if known_type(t) => format!("{t}/read"),
        _ => "other".into(),
    }
}

/// The label of an admin path: `admin/` and its first segment, when it is one the API
/// has (so hostile paths cannot make new series).
fn admin_label(path: &str) -> String {
    let first = path["/admin/".len()..]
        .split('/')
        .next()
        .unwrap_or_default();
    let known = [
        "institutions",
        "certificates",
        "licences",
        "audit",
        "reports",
        "crl",
        "tokens",
        "imports",
    ];
    if known.contains(&first) {
        format!("admin/{first}")
    } else {
        "admin/other".into()
    }
}

/// An operation name as a label: the name when it is one of ours, else `$unknown` (so a
/// hostile name cannot make new series).
fn clean(op: &str) -> &str {
    let known = crate::fhir::capability::OPERATIONS
        .iter()
        .any(|o| op.strip_prefix('$') == Some(o.name));
    if known {
        op
    } else {
        "$unknown"
    }
}

/// The id a client sent, if it is safe to echo (1–64 of `[A-Za-z0-9._-]`), else a new
/// UUID.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Middleware: request id, metrics and the access log for every request.
///
/// The access log line (target `nomen::access`) is at `info` for errors (status 400 and
/// above) and slow answers (100 ms and more), at `debug` for the rest: a validator's
/// thousands of fast successful requests a second should not cost a log write each.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let operation = operation_label(req.path());
    let method = req.method().clone();
    let path = req.path().to_string();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    {
        let mut extensions = req.extensions_mut();
        extensions.insert(RequestId(id.clone()));
        extensions.insert(Operation(operation.clone()));
    }
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    if let Some(metrics) = metrics {
        metrics.observe(&operation, status, elapsed.as_secs_f64());
    }
    let micros = elapsed.as_micros() as u64;
    if status >= 400 || micros >= 100_000 {
        tracing::info!(target: "nomen::access", request_id = %id, %method, %path, status, micros, operation = %operation, "request");
    } else {
        tracing::debug!(target: "nomen::access", request_id = %id, %method, %path, status, micros, operation = %operation, "request");
    }
    Ok(res)
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let m = &state.metrics;
    let (hits, misses) = state.cache.counts();
    m.cache.with_label_values(&["hit"]).reset();
    m.cache.with_label_values(&["hit"]).inc_by(hits);
    m.cache.with_label_values(&["miss"]).reset();
    m.cache.with_label_values(&["miss"]).inc_by(misses);
    let (open, idle, max) = state.terminology.store().pool_state();
    for (label, value) in [
        ("open", open),
        ("idle", idle),
        ("in_use", open.saturating_sub(idle)),
        ("max", max),
    ] {
        m.pool.with_label_values(&[label]).set(i64::from(value));
    }
    if let Ok(snap) = state.terminology.snapshot() {
        m.code_systems.set(snap.catalog.code_systems.len() as i64);
        m.concepts.set(
            snap.catalog
                .code_systems
                .iter()
                .map(|cs| cs.concept_count)
                .sum(),
        );
        m.generation.set(snap.catalog.generation);
    }
    let running: Vec<_> = state
        .imports
        .list()
        .into_iter()
        .filter(|i| i.state == crate::admin::imports::ImportState::Running)
        .collect();
    m.imports
        .with_label_values(&["running"])
        .set(running.len() as i64);
    m.imports
        .with_label_values(&["items_done"])
        .set(running.iter().map(|i| i.progress as i64).sum());
    m.imports.with_label_values(&["items_total"]).set(
        running
            .iter()
            .filter_map(|i| i.total)
            .map(|t| t as i64)
            .sum(),
    );
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        return HttpResponse::InternalServerError().body(e.to_string());
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

/// The scheduled backups as a readiness check: reported, never a reason to take the
/// server out of service (a failed backup does not stop reads).
fn backup_check(status: Option<&crate::backup::ScheduleStatus>) -> serde_json::Value {
    match status.map(|s| s.last()) {
        None => serde_json::json!({"ok": true, "detail": "no backups scheduled"}),
        Some(None) => serde_json::json!({"ok": true, "detail": "scheduled; none taken yet"}),
        Some(Some(last)) => {
            serde_json::json!({"ok": last.ok, "at": last.at, "detail": last.detail})
        }
    }
}

/// `GET /readyz`: 200 when the database answers and its schema is current, else 503.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let terminology = state.terminology.clone();
    let readiness = web::block(move || terminology.readiness()).await;
    let Ok(r) = readiness else {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "not ready", "checks": {}}));
    };
    let database = match &r.database {
        Ok(generation) => serde_json::json!({"ok": true, "generation": generation}),
        Err(e) => serde_json::json!({"ok": false, "error": e}),
    };
    let migrations = match &r.schema_version {
        Ok(v) => {
            serde_json::json!({"ok": *v == r.schema_expected, "version": v, "expected": r.schema_expected})
        }
        Err(e) => serde_json::json!({"ok": false, "error": e, "expected": r.schema_expected}),
    };
    let body = serde_json::json!({
        "status": if r.ready() && (!state.production || state.access.crls.all_fresh()
            || state.access.crls.policy == crate::access::CrlPolicy::FailOpen) { "ready" } else { "not ready" },
        "checks": {
            "database": database,
            "migrations": migrations,
            "crl": crl_check(&state),
            "backup": backup_check(state.backup_status.as_deref()),
        },
    });
    let crl_ok = !state.production
        || state.access.crls.all_fresh()
        || state.access.crls.policy == crate::access::CrlPolicy::FailOpen;
    if r.ready() && crl_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The CRL readiness check: every trusted CA's CRL loaded and unexpired (production).
fn crl_check(state: &AppState) -> serde_json::Value {
    if !state.production {
        return serde_json::json!({"ok": true, "detail": "no TLS configured (development mode): no client certificates to check"});
    }
    let status = state.access.crls.status();
    serde_json::json!({
        "ok": state.access.crls.all_fresh(),
        "policy": state.access.crls.policy,
        "crls": status,
    })
}
