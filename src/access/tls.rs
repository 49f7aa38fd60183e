//! The TLS acceptor of production mode (openssl): TLS 1.2 and newer, Mozilla's
//! intermediate cipher suites, security level 2 (keys of at least 2048 bits, no SHA-1),
//! and client certificates verified against the trusted CAs.
//!
//! A client certificate is asked for but not demanded at the handshake, so that an
//! administrator holding only the bootstrap token can reach `/admin`; every other path
//! refuses a connection without one. A certificate that does not chain to a trusted CA
//! fails the handshake, and the failure is audited here. Time validity is deliberately
//! left to the register check, which refuses an expired certificate with a 403 that says
//! so (and audits it) rather than a bare handshake failure.

use std::path::Path;

use openssl::ssl::{SslAcceptor, SslAcceptorBuilder, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::{X509StoreContextRef, X509};

use super::{certificate, Audit};
use crate::model::register::{AuditEvent, Outcome};

/// Why the acceptor cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} {path}: {source}")]
    Openssl {
        what: &'static str,
        path: String,
        source: openssl::error::ErrorStack,
    },
}

/// Reads every certificate of a PEM file.
pub fn read_certificates(path: &Path) -> Result<Vec<X509>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })?;
    X509::stack_from_pem(&pem).map_err(|source| TlsError::Openssl {
        what: "no certificate in",
        path: path.display().to_string(),
        source,
    })
}

/// Builds the acceptor: the server's chain and key, the trusted client CAs, and the
/// verify callback that audits refused handshakes.
pub fn acceptor(
    cert_chain: &Path,
    key: &Path,
    trusted: &[X509],
    audit: Audit,
) -> Result<SslAcceptorBuilder, TlsError> {
    let wrap = |what: &'static str, path: &Path| {
        let path = path.display().to_string();
        move |source| TlsError::Openssl { what, path, source }
    };
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(wrap("cannot set up TLS for", cert_chain))?;
    b.set_security_level(2);
    b.set_certificate_chain_file(cert_chain)
        .map_err(wrap("cannot use the server certificate", cert_chain))?;
    b.set_private_key_file(key, SslFiletype::PEM)
        .map_err(wrap("cannot use the server key", key))?;
    b.check_private_key()
        .map_err(wrap("the key does not match the certificate", key))?;
    for ca in trusted {
        b.cert_store_mut()
            .add_cert(ca.clone())
            .map_err(wrap("cannot trust the CA", cert_chain))?;
        b.add_client_ca(ca)
            .map_err(wrap("cannot announce the CA", cert_chain))?;
    }
    // Read whole records at once (one recv per request instead of header, then body), and
    // prefer AES-128-GCM in TLS 1.3: 128-bit security with fewer rounds per record than
    // AES-256.
    b.set_read_ahead(true);
    b.set_ciphersuites(
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
    )
    .map_err(wrap("cannot set the TLS 1.3 cipher suites for", cert_chain))?;
    // Session resumption with client certificates needs a context id.
    b.set_session_id_context(b"nomen")
        .map_err(wrap("cannot set the session context", cert_chain))?;
    b.set_verify_callback(SslVerifyMode::PEER, move |ok, ctx| verify(ok, ctx, &audit));
    Ok(b)
}

fn verify(preverified: bool, ctx: &mut X509StoreContextRef, audit: &Audit) -> bool {
    if preverified {
        return true;
    }
    let error = ctx.error();
    // Time validity of the client's own certificate is judged by the register check.
    let time_only = ctx.error_depth() == 0
        && [
            openssl_sys::X509_V_ERR_CERT_HAS_EXPIRED,
            openssl_sys::X509_V_ERR_CERT_NOT_YET_VALID,
        ]
        .contains(&error.as_raw());
    if time_only {
        return true;
    }
    let (subject, fingerprint) = ctx
        .current_cert()
        .map(|c| {
            let facts = certificate::facts(&c.to_owned());
            (facts.subject, facts.fingerprint)
        })
        .unwrap_or_default();
    tracing::warn!(%subject, %fingerprint, "TLS handshake refused: {}", error.error_string());
    audit.record(AuditEvent {
        operation: "tls.handshake".into(),
        outcome: Outcome::Refused.as_str().into(),
        fingerprint: (!fingerprint.is_empty()).then_some(fingerprint),
        target: (!subject.is_empty()).then_some(subject),
        detail: Some(format!(
            "client certificate refused at depth {}: {}",
            ctx.error_depth(),
            error.error_string()
        )),
        ..AuditEvent::default()
    });
    false
}
