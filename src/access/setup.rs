//! Assembling production access control from the configuration: the trusted CAs, their
//! CRLs (loaded before the first request, then refreshed on the schedule), the audit
//! writer and the register, re-read periodically so changes made by another process
//! (`nomen admin ...`) are seen.

use std::sync::Arc;
use std::time::Duration;

use super::{tls, Access, Audit, CrlSource, CrlStore, LimitSettings};
use crate::config::{parse_duration, TlsConfig};
use crate::model::register::{AuditEvent, Outcome};
use crate::store::Store;

/// How often the register is re-read for changes made by other processes.
pub const REGISTER_RELOAD: Duration = Duration::from_secs(10);

/// Builds production access control and starts its background refreshes.
pub fn production(
    store: &Arc<Store>,
    config: &TlsConfig,
    limits: LimitSettings,
) -> Result<Arc<Access>, Box<dyn std::error::Error>> {
    let mut trusted = Vec::new();
    let mut cas = Vec::new();
    for ca in &config.client_ca {
        let certs = tls::read_certificates(&ca.cert)?;
        for cert in certs {
            cas.push((cert.clone(), ca.crl.as_deref().map(CrlSource::parse)));
            trusted.push(cert);
        }
    }
    let crls = Arc::new(CrlStore::new(cas, config.crl_policy));
    let audit = Audit::start(store)?;
    let access = Arc::new(Access::new(
        store.clone(),
        trusted,
        crls.clone(),
        audit,
        limits,
    )?);
    refresh_crls(&access);
    let every = parse_duration(&config.crl_refresh)?;
    spawn_refresh(access.clone(), Some(every))?;
    Ok(access)
}

/// Re-reads the register every [`REGISTER_RELOAD`] and, when `crl_every` is set, the CRLs
/// on that schedule, in a background thread.
pub fn spawn_refresh(access: Arc<Access>, crl_every: Option<Duration>) -> std::io::Result<()> {
    let tick = crl_every.map_or(REGISTER_RELOAD, |every| REGISTER_RELOAD.min(every));
    std::thread::Builder::new()
        .name("nomen-refresh".into())
        .spawn(move || {
            let mut since_crl = Duration::ZERO;
            loop {
                std::thread::sleep(tick);
                since_crl += tick;
                if let Err(e) = access.reload() {
                    tracing::error!("register reload failed: {e}");
                }
                if crl_every.is_some_and(|every| since_crl >= every) {
                    since_crl = Duration::ZERO;
                    refresh_crls(&access);
                }
            }
        })?;
    Ok(())
}

/// Loads every CRL and audits any that could not be used.
pub fn refresh_crls(access: &Access) {
    for status in access.crls.refresh() {
        if status.fresh && status.error.is_none() {
            continue;
        }
        access.audit.record(AuditEvent {
            operation: "crl.refresh".into(),
            outcome: Outcome::Error.as_str().into(),
            target: Some(status.source.clone()),
            detail: Some(format!(
                "CRL of {} unusable: {} (policy: {:?})",
                status.ca,
                status.error.clone().unwrap_or_else(|| "expired".into()),
                access.crls.policy
            )),
            ..AuditEvent::default()
        });
    }
}
