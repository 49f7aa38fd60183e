//! Client certificates: what the register keeps of one (read from its PEM or from the
//! TLS connection) and the rules a certificate must meet to be registered.

use openssl::asn1::Asn1TimeRef;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::x509::{X509NameRef, X509};

pub use crate::model::register::CertificateFacts;
use crate::store::NewCertificate;

/// Smallest RSA modulus (and equivalent strength for other key types) accepted.
pub const MIN_KEY_BITS: u32 = 2048;

/// Why a certificate cannot be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("the PEM does not hold an X.509 certificate: {0}")]
    NotACertificate(String),
    #[error("the certificate's key has {0} bits; at least {MIN_KEY_BITS} are required")]
    WeakKey(u32),
    #[error("the certificate is signed with {0}; only SHA-2 signatures (SHA-256, SHA-384, SHA-512) are accepted")]
    WeakSignature(String),
    #[error("the certificate was not issued by a trusted CA (issuer: {0})")]
    UntrustedIssuer(String),
    #[error("the certificate expired on {0}")]
    Expired(String),
}

/// Reads the facts of a certificate.
pub fn facts(cert: &X509) -> CertificateFacts {
    let fingerprint = cert
        .digest(MessageDigest::sha256())
        .map(|d| hex::encode(d.as_ref()))
        .unwrap_or_default();
    let serial = cert
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_string()))
        .unwrap_or_default();
    let key_bits = cert.public_key().map(|k| k.bits()).unwrap_or_default();
    CertificateFacts {
        fingerprint,
        subject: name_text(cert.subject_name()),
        issuer: name_text(cert.issuer_name()),
        serial,
        not_before: asn1_rfc3339(cert.not_before()),
        not_after: asn1_rfc3339(cert.not_after()),
        key_bits,
        signature: cert
            .signature_algorithm()
            .object()
            .nid()
            .long_name()
            .unwrap_or("unknown")
            .to_string(),
    }
}

/// Parses a PEM and checks it against the registration rules: a key of at least
/// [`MIN_KEY_BITS`], a SHA-2 signature, issued (signature verified) by one of `trusted`,
/// and not already expired.
pub fn check_for_registration(
    pem: &str,
    trusted: &[X509],
) -> Result<(X509, CertificateFacts), CertificateError> {
    let cert = X509::from_pem(pem.as_bytes())
        .map_err(|e| CertificateError::NotACertificate(first_error(&e)))?;
    let facts = facts(&cert);
    // RSA and DSA by modulus size; elliptic curves by their strength (P-256 matches
    // RSA-3072, so any curve of 112 bits' strength or more passes).
    let strong = cert.public_key().is_ok_and(|k| match k.id() {
        openssl::pkey::Id::EC => k.security_bits() >= 112,
        _ => k.bits() >= MIN_KEY_BITS,
    });
    if !strong {
        return Err(CertificateError::WeakKey(facts.key_bits));
    }
    let nid = cert.signature_algorithm().object().nid();
    if !sha2_signature(nid) {
        return Err(CertificateError::WeakSignature(facts.signature.clone()));
    }
    let issued = trusted.iter().any(|ca| {
        ca.subject_name()
            .try_cmp(cert.issuer_name())
            .map(|o| o.is_eq())
            .unwrap_or(false)
            && ca
                .public_key()
                .and_then(|key| cert.verify(&key))
                .unwrap_or(false)
    });
    if !issued {
        return Err(CertificateError::UntrustedIssuer(facts.issuer.clone()));
    }
    let now = openssl::asn1::Asn1Time::days_from_now(0).expect("current time");
    if cert.not_after() < now {
        return Err(CertificateError::Expired(facts.not_after.clone()));
    }
    Ok((cert, facts))
}

impl CertificateFacts {
    /// The row to store for a checked certificate, bound as given.
    pub fn into_new(
        self,
        pem: &str,
        role: crate::model::register::Role,
        institution_id: Option<i64>,
        user_name: Option<String>,
    ) -> NewCertificate {
        NewCertificate {
            facts: self,
            pem: pem.trim().to_string(),
            role,
            institution_id,
            user_name,
        }
    }
}

fn sha2_signature(nid: Nid) -> bool {
    [
        Nid::SHA256WITHRSAENCRYPTION,
        Nid::SHA384WITHRSAENCRYPTION,
        Nid::SHA512WITHRSAENCRYPTION,
        Nid::SHA224WITHRSAENCRYPTION,
        Nid::ECDSA_WITH_SHA256,
        Nid::ECDSA_WITH_SHA384,
        Nid::ECDSA_WITH_SHA512,
        Nid::ECDSA_WITH_SHA224,
        Nid::RSASSAPSS,
    ]
    .contains(&nid)
}

/// `CN=..., O=...` in the certificate's order.
pub fn name_text(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An ASN.1 time as Unix seconds.
pub fn asn1_unix(t: &Asn1TimeRef) -> i64 {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).expect("epoch");
    epoch
        .diff(t)
        .map(|d| d.days as i64 * 86_400 + d.secs as i64)
        .unwrap_or_default()
}

/// An ASN.1 time as RFC 3339 (UTC).
pub fn asn1_rfc3339(t: &Asn1TimeRef) -> String {
    chrono::DateTime::from_timestamp(asn1_unix(t), 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn first_error(e: &openssl::error::ErrorStack) -> String {
    e.errors()
        .first()
        .and_then(|e| e.reason().map(str::to_string))
        .unwrap_or_else(|| "unreadable PEM".to_string())
}
