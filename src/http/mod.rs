//! The HTTP layer: the only module that knows actix-web. Routing, content negotiation,
//! limits and rendering; every response under `/fhir` is a FHIR resource or an
//! OperationOutcome.

pub mod access;
pub mod admin;
mod cache;
mod handlers;
mod negotiate;
pub mod observe;
pub mod openapi;
mod respond;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};

use crate::access::Access;
use crate::core::Terminology;

/// Settings of the HTTP server.
#[derive(Clone)]
pub struct HttpSettings {
    /// Largest accepted request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Number of worker threads (0: one per CPU core).
    pub workers: usize,
    /// Responses kept by the operation response cache (0 disables it).
    pub cache_entries: usize,
    /// Largest `$expand` answered without paging (`too-costly` beyond); with `count`, a
    /// page may be up to ten times larger. 1,000 is tx.fhir.org's limit, which clients of
    /// the ecosystem expect.
    pub expansion_limit: usize,
    /// The scheduled backups' status, when backups are scheduled (shown by `/readyz`).
    pub backup_status: Option<Arc<crate::backup::ScheduleStatus>>,
    /// Access control (register, CRLs, audit, limits). Without it the server makes a
    /// development-mode one over the terminology's store (admin API by token only).
    pub access: Option<Arc<Access>>,
    /// Production mode: the server certificate chain and key. Client certificates are
    /// then verified against `access.trusted`, and licences, limits and audit apply.
    pub tls: Option<TlsFiles>,
}

/// The server's own certificate chain and key (PEM files).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_body_bytes: 4 * 1024 * 1024,
            workers: 0,
            cache_entries: 50_000,
            expansion_limit: 1_000,
            backup_status: None,
            access: None,
            tls: None,
        }
    }
}

/// Shared state of every worker.
pub struct AppState {
    pub terminology: Arc<Terminology>,
    pub max_body_bytes: usize,
    pub cache: Arc<cache::ResponseCache>,
    pub expansion_limit: usize,
    pub metrics: Arc<observe::Metrics>,
    pub backup_status: Option<Arc<crate::backup::ScheduleStatus>>,
    pub access: Arc<Access>,
    /// Imports started through the admin API.
    pub imports: Arc<crate::admin::imports::Imports>,
    /// TLS with client certificates: identities, licences, limits and audit apply.
    pub production: bool,
}

/// Development-mode access control over `store`: no trusted CAs, no CRLs; the admin API
/// answers admin tokens only.
pub fn development_access(store: &Arc<crate::store::Store>) -> std::io::Result<Arc<Access>> {
    let audit = crate::access::Audit::start(store).map_err(std::io::Error::other)?;
    let crls = Arc::new(crate::access::CrlStore::new(
        Vec::new(),
        crate::access::CrlPolicy::FailClosed,
    ));
    let access = Access::new(
        store.clone(),
        Vec::new(),
        crls,
        audit,
        crate::access::LimitSettings::default(),
    )
    .map_err(std::io::Error::other)?;
    Ok(Arc::new(access))
}

/// Keeps the verified client certificate of a TLS connection for its requests.
fn peer_certificate(conn: &dyn std::any::Any, ext: &mut actix_web::dev::Extensions) {
    type Tls = actix_tls::accept::openssl::TlsStream<actix_web::rt::net::TcpStream>;
    let Some(tls) = conn.downcast_ref::<Tls>() else {
        return;
    };
    if let Some(cert) = tls.ssl().peer_certificate() {
        ext.insert(crate::access::PeerCertificate::new(cert));
    }
}

/// Builds the server on an already bound listener (tests bind `127.0.0.1:0`). The
/// returned server runs when awaited inside an actix system.
pub fn start(
    settings: &HttpSettings,
    listener: TcpListener,
    terminology: Arc<Terminology>,
) -> std::io::Result<actix_web::dev::Server> {
    let cache = cache::ResponseCache::new(settings.cache_entries);
    if settings.cache_entries > 0 {
        cache.watch(terminology.clone());
    }
    let access = match &settings.access {
        Some(access) => access.clone(),
        None => development_access(terminology.store())?,
    };
    let production = settings.tls.is_some();
    let acceptor = match &settings.tls {
        Some(files) => Some(
            crate::access::tls::acceptor(
                &files.cert,
                &files.key,
                &access.trusted,
                access.audit.clone(),
            )
            .map_err(std::io::Error::other)?,
        ),
        None => None,
    };
    let state = web::Data::new(AppState {
        terminology,
        max_body_bytes: settings.max_body_bytes,
        cache,
        expansion_limit: settings.expansion_limit,
        metrics: observe::Metrics::new(),
        backup_status: settings.backup_status.clone(),
        access,
        imports: Arc::default(),
        production,
    });
    let api = openapi::document();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| admin::bad_request(400, &format!("bad query: {e}"))),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| admin::bad_request(404, &format!("no such entry: {e}"))),
            )
            .wrap(actix_web::middleware::from_fn(access::guard))
            .wrap(actix_web::middleware::from_fn(observe::observe))
            // Routes are tried in order and every dynamic one is a regex match, so the
            // FHIR routes (nearly all traffic) come first and Swagger UI's catch-all last.
            .configure(routes)
            .route("/docs", web::get().to(handlers::docs_redirect))
            .service(
                utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api.clone()),
            )
    })
    .on_connect(peer_certificate);
    let mut server = match acceptor {
        Some(acceptor) => server.listen_openssl(listener, acceptor)?,
        None => server.listen(listener)?,
    };
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    Ok(server.run())
}

/// The route table.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(handlers::healthz))
        .route("/readyz", web::get().to(observe::readyz))
        .route("/metrics", web::get().to(observe::metrics))
        .service(
            web::scope("/fhir")
                .route("/metadata", web::get().to(handlers::metadata))
                .default_service(web::route().to(handlers::fhir)),
        )
        .configure(admin::routes)
        .default_service(web::route().to(handlers::fallback));
}
