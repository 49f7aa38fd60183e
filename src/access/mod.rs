//! Access: who is asking (the verified client certificate or an admin token), whether
//! they may have what they asked for (register status, CRLs, licences, rate limits), and
//! the audit trail of every decision.
//!
//! Nothing here knows HTTP: the HTTP layer hands over the peer certificate, the token,
//! the request's and the answer's bytes, and renders the [`Refusal`]s. Decisions are
//! made on an in-memory copy of the register ([`Access::reload`] after every admin write),
//! so a request costs hash lookups, not queries.

pub mod audit;
pub mod certificate;
pub mod crl;
pub mod disclosure;
pub mod limits;
pub mod setup;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use openssl::x509::X509;

use crate::model::register::*;
use crate::store::Store;
pub use audit::Audit;
pub use crl::{CrlPolicy, CrlSource, CrlStatus, CrlStore, Revocation};
pub use disclosure::Touched;
pub use limits::{LimitSettings, RateLimits};

/// Why a request gets no data: rendered as an OperationOutcome with this status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 401, 403 or 429.
    pub status: u16,
    /// The FHIR issue type (`security`, `forbidden`, `expired`, `login`, `throttled`).
    pub code: &'static str,
    pub reason: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl Refusal {
    /// 403: the identity may not have this.
    pub fn forbidden(code: &'static str, reason: impl Into<String>) -> Refusal {
        Refusal {
            status: 403,
            code,
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// 401: no usable credentials.
    pub fn unauthenticated(reason: impl Into<String>) -> Refusal {
        Refusal {
            status: 401,
            code: "login",
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// 429: over a limit; come back after `seconds`.
    pub fn throttled(reason: impl Into<String>, seconds: u64) -> Refusal {
        Refusal {
            status: 429,
            code: "throttled",
            reason: reason.into(),
            retry_after: Some(seconds),
        }
    }
}

/// The verified certificate of a TLS connection, with what every request checks read
/// once per connection.
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    pub cert: X509,
    pub fingerprint: String,
    /// Validity as Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

impl PeerCertificate {
    /// Reads a connection's certificate.
    pub fn new(cert: X509) -> PeerCertificate {
        let facts = certificate::facts(&cert);
        let unix = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.timestamp())
                .unwrap_or(0)
        };
        PeerCertificate {
            not_before: unix(&facts.not_before),
            not_after: unix(&facts.not_after),
            fingerprint: facts.fingerprint,
            cert,
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// `None`: anonymous (development mode only).
    pub role: Option<Role>,
    pub institution_id: Option<i64>,
    pub fingerprint: Option<String>,
    pub user: Option<String>,
    /// A note for the audit (e.g. served while a CRL was unavailable, fail-open).
    pub note: Option<String>,
}

impl Identity {
    /// The identity of development mode.
    pub fn anonymous() -> Identity {
        Identity::default()
    }

    /// Fills the identity fields of an audit event.
    pub fn stamp(&self, e: &mut AuditEvent) {
        e.institution_id = self.institution_id;
        e.fingerprint = self.fingerprint.clone();
        e.user_name = self.user.clone();
        e.role = self.role.map(|r| r.as_str().to_string());
    }
}

/// The register as the policy reads it.
#[derive(Debug, Default)]
struct Register {
    certificates: HashMap<String, ClientCertificate>,
    institutions: HashMap<i64, Institution>,
    licences: Vec<Licence>,
    tokens: HashMap<String, AdminToken>,
}

/// Production-mode access control.
pub struct Access {
    store: Arc<Store>,
    register: RwLock<Arc<Register>>,
    /// The trusted CAs client certificates must chain to.
    pub trusted: Vec<X509>,
    pub crls: Arc<CrlStore>,
    pub audit: Audit,
    pub limits: RateLimits,
    last_demand_reload: std::sync::atomic::AtomicI64,
}

impl Access {
    /// Access control over `store`'s register.
    pub fn new(
        store: Arc<Store>,
        trusted: Vec<X509>,
        crls: Arc<CrlStore>,
        audit: Audit,
        limits: LimitSettings,
    ) -> crate::store::Result<Access> {
        let access = Access {
            store,
            register: RwLock::new(Arc::default()),
            trusted,
            crls,
            audit,
            limits: RateLimits::new(limits),
            last_demand_reload: std::sync::atomic::AtomicI64::new(0),
        };
        access.reload()?;
        Ok(access)
    }

    /// Reads the register again (after an admin write, and periodically for writes made
    /// by another process).
    pub fn reload(&self) -> crate::store::Result<()> {
        let data = self.store.register()?;
        let register = Register {
            certificates: data
                .certificates
                .into_iter()
                .map(|c| (c.fingerprint.clone(), c))
                .collect(),
            institutions: data.institutions.into_iter().map(|i| (i.id, i)).collect(),
            licences: data.licences,
            tokens: data
                .tokens
                .into_iter()
                .filter(|t| t.revoked.is_none())
                .map(|t| (t.sha256.clone(), t))
                .collect(),
        };
        *self.register.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(register);
        Ok(())
    }

    /// Whether an on-demand reload is due (one per second at most, so wrong tokens cannot
    /// turn into a stream of register reads).
    fn may_reload(&self) -> bool {
        let now = chrono::Utc::now().timestamp_millis();
        let last = self
            .last_demand_reload
            .load(std::sync::atomic::Ordering::Relaxed);
        now - last >= 1000
            && self
                .last_demand_reload
                .compare_exchange(
                    last,
                    now,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_ok()
    }

    fn current(&self) -> Arc<Register> {
        self.register
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The identity of a connection's certificate, or why it gets nothing: unknown,
    /// suspended or annulled, not yet valid or expired, revoked by its CA's CRL (or the
    /// CRL unavailable, fail-closed), or bound to an institution that is not active.
    pub fn identify(&self, peer: &PeerCertificate) -> Result<Identity, Refusal> {
        let register = self.current();
        let Some(cert) = register.certificates.get(&peer.fingerprint) else {
            return Err(Refusal::forbidden(
                "unknown",
                format!(
                    "the client certificate (SHA-256 {}) is not registered",
                    peer.fingerprint
                ),
            ));
        };
        if cert.status != Status::Active {
            return Err(Refusal::forbidden(
                "forbidden",
                format!(
                    "the client certificate is {}{}",
                    cert.status.as_str(),
                    reason_suffix(&cert.status_reason)
                ),
            ));
        }
        let now = chrono::Utc::now().timestamp();
        if peer.not_before > now {
            return Err(Refusal::forbidden(
                "expired",
                format!(
                    "the client certificate is not valid before {}",
                    cert.not_before
                ),
            ));
        }
        if peer.not_after < now {
            return Err(Refusal::forbidden(
                "expired",
                format!("the client certificate expired on {}", cert.not_after),
            ));
        }
        let mut note = None;
        match self.crls.check(&peer.cert) {
            Revocation::Good => {}
            Revocation::Revoked => {
                return Err(Refusal::forbidden(
                    "security",
                    "the client certificate has been revoked by its CA (CRL)",
                ))
            }
            Revocation::Unknown(why) => match self.crls.policy {
                CrlPolicy::FailClosed => {
                    return Err(Refusal::forbidden(
                        "security",
                        format!(
                            "the revocation status of the client certificate is unknown: {why}"
                        ),
                    ))
                }
                CrlPolicy::FailOpen => note = Some(format!("served fail-open: {why}")),
            },
        }
        let mut identity = Identity {
            role: Some(cert.role),
            institution_id: cert.institution_id,
            fingerprint: Some(cert.fingerprint.clone()),
            user: cert.user_name.clone(),
            note,
        };
        if cert.role == Role::Institution {
            let institution = cert
                .institution_id
                .and_then(|id| register.institutions.get(&id));
            match institution {
                Some(i) if i.status == Status::Active => {}
                Some(i) => {
                    return Err(Refusal::forbidden(
                        "forbidden",
                        format!(
                            "the institution {} is {}{}",
                            i.fields.name,
                            i.status.as_str(),
                            reason_suffix(&i.status_reason)
                        ),
                    ))
                }
                None => {
                    return Err(Refusal::forbidden(
                        "forbidden",
                        "the client certificate is not bound to an institution",
                    ))
                }
            }
        } else {
            identity.institution_id = None;
        }
        Ok(identity)
    }

    /// The identity of an admin API token (`Authorization: Bearer ...`). An unknown token
    /// makes the register be re-read (at most once a second), so a token just issued by
    /// `nomen admin token` in another process works at once.
    pub fn identify_token(&self, token: &str) -> Result<Identity, Refusal> {
        let hash = token_hash(token);
        let mut register = self.current();
        if !register.tokens.contains_key(&hash) && self.may_reload() {
            if let Err(e) = self.reload() {
                tracing::error!("register reload failed: {e}");
            }
            register = self.current();
        }
        match register.tokens.get(&hash) {
            Some(t) => Ok(Identity {
                role: Some(t.role),
                user: Some(t.user_name.clone()),
                ..Identity::default()
            }),
            None => Err(Refusal::unauthenticated(
                "the admin token is not valid (unknown or revoked)",
            )),
        }
    }

    /// Whether `identity` may see the content of every licensed system in `touched`
    /// now: an institution needs an active licence (issued, revocation date not reached)
    /// that it uses and that covers the system (and edition).
    pub fn check_licences(&self, identity: &Identity, touched: &[Touched]) -> Result<(), Refusal> {
        let Some(institution) = identity.institution_id else {
            return Ok(());
        };
        let register = self.current();
        let now = chrono::Utc::now();
        for t in touched {
            let covered = register.licences.iter().any(|l| {
                l.fields.institutions.contains(&institution)
                    && active(&l.fields, now)
                    && l.fields.scopes.iter().any(|s| covers(s, t))
            });
            if !covered {
                return Err(Refusal::forbidden(
                    "forbidden",
                    format!(
                        "the institution holds no active licence for {}{}; the licence register \
                         must list a licence covering it, used by this institution",
                        t.system,
                        t.edition
                            .as_ref()
                            .map(|e| format!(" (edition/module {e})"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}

fn covers(scope: &LicenceScope, t: &Touched) -> bool {
    scope.system == t.system
        && match (&scope.edition, &t.edition) {
            (None, _) | (_, None) => true,
            (Some(a), Some(b)) => a == b,
        }
}

/// A date (`YYYY-MM-DD`, start of that day UTC) or an RFC 3339 instant.
pub fn parse_instant(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Issued, and its revocation date not reached.
pub fn active(l: &LicenceFields, now: chrono::DateTime<chrono::Utc>) -> bool {
    let issued = parse_instant(&l.issue_date).is_some_and(|t| t <= now);
    let revoked = l
        .revocation_date
        .as_deref()
        .is_some_and(|r| parse_instant(r).is_none_or(|t| t <= now));
    issued && !revoked
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(openssl::sha::sha256(token.trim().as_bytes()))
}

/// A new random token (256 bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).expect("random bytes");
    format!("nomen_{}", hex::encode(bytes))
}

/// On a register without any admin credential, issues the bootstrap token: the caller
/// prints it once; only its hash is kept.
pub fn bootstrap_token(store: &Store) -> crate::store::Result<Option<String>> {
    store.register_write(|txn| {
        if txn.admin_credentials()? > 0 {
            return Ok(None);
        }
        let token = new_token();
        txn.insert_token("bootstrap", Role::Admin, &token_hash(&token))?;
        Ok(Some(token))
    })
}

/// Issues a token for `user` with `role`, revoking that user's earlier tokens (the CLI's
/// recovery path when the bootstrap token is lost).
pub fn issue_token(store: &Store, user: &str, role: Role) -> crate::store::Result<String> {
    store.register_write(|txn| {
        txn.revoke_tokens_of(user)?;
        let token = new_token();
        txn.insert_token(user, role, &token_hash(&token))?;
        Ok(token)
    })
}
