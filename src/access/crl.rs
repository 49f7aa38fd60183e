//! Certificate revocation lists: one per trusted CA, loaded from a file or an `http(s)`
//! distribution point, verified against the CA's key, refreshed on a schedule and on
//! demand. A certificate listed in its CA's CRL is refused from the next request after
//! the refresh that brought it in: the check is per request, not per handshake, so no
//! restart is needed and long-lived keep-alive connections are cut off too.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::Duration;

use openssl::x509::{X509Crl, X509};

/// Where a CA's CRL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlSource {
    File(PathBuf),
    Url(String),
}

impl CrlSource {
    /// `http://...` and `https://...` are distribution points; anything else a file.
    pub fn parse(s: &str) -> CrlSource {
        if s.starts_with("http://") || s.starts_with("https://") {
            CrlSource::Url(s.to_string())
        } else {
            CrlSource::File(PathBuf::from(s))
        }
    }

    fn describe(&self) -> String {
        match self {
            CrlSource::File(p) => p.display().to_string(),
            CrlSource::Url(u) => u.clone(),
        }
    }
}

/// What to do with a certificate whose CA's CRL is missing or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrlPolicy {
    /// Refuse it (the default: revocation status unknown means no data).
    FailClosed,
    /// Serve it, and say so in the logs, `/healthz` and the audit.
    FailOpen,
}

/// A certificate's revocation status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Good,
    Revoked,
    /// The CRL could not be used (why).
    Unknown(String),
}

/// One CA's CRL state.
struct Entry {
    ca: X509,
    ca_name: String,
    source: CrlSource,
    crl: Option<X509Crl>,
    /// The loaded CRL's `nextUpdate` as Unix seconds, read once at load: each request
    /// compares two integers instead of building an ASN.1 time (which costs OpenSSL a
    /// formatted string and several allocations).
    next_update: Option<i64>,
    fetched: Option<String>,
    error: Option<String>,
}

/// The status of one CA's CRL, for `/healthz`, `/readyz` and the refresh endpoint.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CrlStatus {
    pub ca: String,
    pub source: String,
    /// Whether a valid, unexpired CRL is loaded.
    pub fresh: bool,
    pub this_update: Option<String>,
    pub next_update: Option<String>,
    /// When it was last loaded successfully.
    pub fetched: Option<String>,
    /// Entries in the CRL.
    pub revoked: usize,
    /// Why the last refresh failed, or why the CRL is not usable.
    pub error: Option<String>,
}

/// The CRLs of every trusted CA.
pub struct CrlStore {
    entries: RwLock<Vec<Entry>>,
    pub policy: CrlPolicy,
}

impl CrlStore {
    /// A store for these CAs and sources; nothing is loaded until [`CrlStore::refresh`].
    pub fn new(cas: Vec<(X509, Option<CrlSource>)>, policy: CrlPolicy) -> CrlStore {
        let entries = cas
            .into_iter()
            .filter_map(|(ca, source)| {
                Some(Entry {
                    ca_name: super::certificate::name_text(ca.subject_name()),
                    ca,
                    source: source?,
                    crl: None,
                    next_update: None,
                    fetched: None,
                    error: None,
                })
            })
            .collect();
        CrlStore {
            entries: RwLock::new(entries),
            policy,
        }
    }

    /// Loads every CRL again. A CRL that fails to load, fails its signature check or has
    /// expired keeps the previous one (if any) and records the error.
    pub fn refresh(&self) -> Vec<CrlStatus> {
        let sources: Vec<(CrlSource, X509)> = self
            .read()
            .iter()
            .map(|e| (e.source.clone(), e.ca.clone()))
            .collect();
        // Fetch without holding the lock: a slow distribution point never blocks requests.
        let loaded: Vec<Result<X509Crl, String>> = sources
            .iter()
            .map(|(source, ca)| load(source, ca))
            .collect();
        {
            let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
            for (entry, result) in entries.iter_mut().zip(loaded) {
                match result {
                    Ok(crl) => {
                        entry.next_update = next_update(&crl);
                        entry.crl = Some(crl);
                        entry.fetched = Some(now());
                        entry.error = None;
                    }
                    Err(e) => entry.error = Some(e),
                }
            }
        }
        let status = self.status();
        for s in &status {
            match (&s.error, s.fresh) {
                (Some(e), _) => {
                    tracing::error!(ca = %s.ca, source = %s.source, "CRL refresh failed: {e}")
                }
                (None, false) => tracing::error!(ca = %s.ca, "CRL has expired"),
                (None, true) => tracing::info!(ca = %s.ca, revoked = s.revoked, "CRL loaded"),
            }
        }
        status
    }

    /// The status of every CA's CRL.
    pub fn status(&self) -> Vec<CrlStatus> {
        self.read()
            .iter()
            .map(|e| {
                let fresh = e.fresh();
                CrlStatus {
                    ca: e.ca_name.clone(),
                    source: e.source.describe(),
                    fresh,
                    this_update: e
                        .crl
                        .as_ref()
                        .map(|c| super::certificate::asn1_rfc3339(c.last_update())),
                    next_update: e
                        .crl
                        .as_ref()
                        .and_then(|c| c.next_update())
                        .map(super::certificate::asn1_rfc3339),
                    fetched: e.fetched.clone(),
                    revoked: e
                        .crl
                        .as_ref()
                        .and_then(|c| c.get_revoked().map(|r| r.len()))
                        .unwrap_or(0),
                    error: e.error.clone().or_else(|| {
                        (!fresh && e.crl.is_some()).then(|| "the CRL has expired".to_string())
                    }),
                }
            })
            .collect()
    }

    /// Whether every CRL is loaded and unexpired.
    pub fn all_fresh(&self) -> bool {
        self.read().iter().all(Entry::fresh)
    }

    /// The revocation status of `cert` per its issuer's CRL. A CA without a configured
    /// CRL source answers `Good` (revocation is then managed in the register only).
    pub fn check(&self, cert: &X509) -> Revocation {
        let entries = self.read();
        let Some(entry) = entries.iter().find(|e| {
            e.ca.subject_name()
                .try_cmp(cert.issuer_name())
                .is_ok_and(|o| o.is_eq())
        }) else {
            return Revocation::Good;
        };
        let Some(crl) = &entry.crl else {
            return Revocation::Unknown(format!(
                "no CRL of {} could be loaded{}",
                entry.ca_name,
                entry
                    .error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        };
        if !unexpired(entry.next_update) {
            return Revocation::Unknown(format!("the CRL of {} has expired", entry.ca_name));
        }
        match crl.get_by_cert(cert) {
            openssl::x509::CrlStatus::NotRevoked => Revocation::Good,
            _ => Revocation::Revoked,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// A CRL's `nextUpdate` as Unix seconds (none: the CRL never expires).
fn next_update(crl: &X509Crl) -> Option<i64> {
    crl.next_update().map(super::certificate::asn1_unix)
}

/// Whether a CRL with this `nextUpdate` is still in force now.
fn unexpired(next_update: Option<i64>) -> bool {
    next_update.is_none_or(|next| next > chrono::Utc::now().timestamp())
}

impl Entry {
    /// A CRL is loaded and unexpired.
    fn fresh(&self) -> bool {
        self.crl.is_some() && unexpired(self.next_update)
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Reads, parses (PEM or DER) and verifies one CRL.
fn load(source: &CrlSource, ca: &X509) -> Result<X509Crl, String> {
    let bytes = match source {
        CrlSource::File(path) => {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
        CrlSource::Url(url) => fetch(url)?,
    };
    let crl = X509Crl::from_pem(&bytes)
        .or_else(|_| X509Crl::from_der(&bytes))
        .map_err(|_| format!("{} does not hold a CRL (PEM or DER)", source.describe()))?;
    let key = ca.public_key().map_err(|e| e.to_string())?;
    if !crl.verify(&key).unwrap_or(false) {
        return Err(format!(
            "the CRL from {} is not signed by its CA",
            source.describe()
        ));
    }
    if !unexpired(next_update(&crl)) {
        return Err(format!("the CRL from {} has expired", source.describe()));
    }
    Ok(crl)
}

/// Fetches a distribution point (at most 32 MiB, 30 seconds).
fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .build(),
        )
        .build()
        .into();
    let response = agent
        .get(url)
        .call()
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    response
        .into_body()
        .with_config()
        .limit(32 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| format!("cannot read {url}: {e}"))
}
