//! Administration of the access register: institutions, client certificates, licences,
//! admin tokens; audit queries and reports. Every change is one transaction, re-read by
//! the policy at once ([`Access::reload`]) and audited with the entry before and after.
//!
//! The HTTP layer authorises (admin for writes, admin or auditor for the audit and
//! reports) and renders; this module validates and applies.

pub mod imports;
pub mod reports;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{certificate, Access, Identity};
use crate::model::register::*;
use crate::store::StoreError;

/// Why an admin request fails, with the HTTP status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// 422: the request is understood but its content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the change conflicts with the register (duplicate, final state).
    #[error("{0}")]
    Conflict(String),
    /// 500.
    #[error("the register could not be changed: {0}")]
    Store(#[from] StoreError),
}

impl AdminError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AdminError::Invalid(_) => 422,
            AdminError::NotFound(_) => 404,
            AdminError::Conflict(_) => 409,
            AdminError::Store(_) => 500,
        }
    }
}

/// Result alias of admin actions.
pub type AdminResult<T> = Result<T, AdminError>;

/// Who acts, for the audit.
#[derive(Debug, Clone)]
pub struct Actor {
    pub identity: Identity,
    pub request_id: Option<String>,
    pub client: Option<String>,
}

/// A status change with its reason.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// Why (kept with the entry and in the audit).
    #[schema(example = "contract ended")]
    pub reason: String,
}

/// The status changes of institutions and certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Suspend,
    Restore,
    Annul,
}

impl Transition {
    /// From the path segment (`suspend`, `restore`, `annul`).
    pub fn parse(s: &str) -> Option<Transition> {
        match s {
            "suspend" => Some(Transition::Suspend),
            "restore" => Some(Transition::Restore),
            "annul" => Some(Transition::Annul),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Transition::Suspend => "suspend",
            Transition::Restore => "restore",
            Transition::Annul => "annul",
        }
    }

    /// The new status, or why the change is not allowed from `from`.
    fn apply(self, from: Status) -> AdminResult<Status> {
        match (self, from) {
            (_, Status::Annulled) => Err(AdminError::Conflict(
                "the entry is annulled; annulment is final".into(),
            )),
            (Transition::Suspend, Status::Active) => Ok(Status::Suspended),
            (Transition::Restore, Status::Suspended) => Ok(Status::Active),
            (Transition::Annul, _) => Ok(Status::Annulled),
            (t, s) => Err(AdminError::Conflict(format!(
                "cannot {} an entry that is {}",
                t.name(),
                s.as_str()
            ))),
        }
    }
}

/// A certificate to register: its PEM and what it is bound to.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateRegistration {
    /// The certificate, PEM (`-----BEGIN CERTIFICATE-----`...).
    pub pem: String,
    /// `institution` (default), `admin` or `auditor`.
    pub role: Option<Role>,
    /// The institution (role `institution`).
    pub institution_id: Option<i64>,
    /// The person (roles `admin` and `auditor`).
    pub user_name: Option<String>,
}

/// A new binding of a registered certificate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateBinding {
    pub role: Role,
    pub institution_id: Option<i64>,
    pub user_name: Option<String>,
}

/// A token to issue.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "auditor.jonaitis")]
    pub user_name: String,
    /// `admin` or `auditor`.
    pub role: Role,
}

/// An issued token: shown once, only its hash is kept.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    pub user_name: String,
    pub role: Role,
    pub token: String,
}

/// The admin service over the access register.
pub struct Admin<'a> {
    pub access: &'a Access,
    pub store: &'a crate::store::Store,
}

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

fn required(value: &str, what: &str) -> AdminResult<()> {
    if value.trim().is_empty() {
        return Err(AdminError::Invalid(format!("{what} is required")));
    }
    Ok(())
}

/// A UNIQUE violation is a conflict with an existing entry.
fn unique(e: StoreError, what: String) -> AdminError {
    match &e {
        e if e.is_duplicate() => AdminError::Conflict(what),
        StoreError::Corrupt(m) => AdminError::Invalid(m.clone()),
        _ => AdminError::Store(e),
    }
}

impl Admin<'_> {
    fn audit(
        &self,
        actor: &Actor,
        operation: &str,
        target: String,
        before: Option<String>,
        after: Option<String>,
    ) {
        // The status the API answered: 201 for what it created.
        let created = [".create", ".register", ".issue"]
            .iter()
            .any(|suffix| operation.ends_with(suffix));
        let mut e = AuditEvent {
            operation: format!("admin/{operation}"),
            target: Some(target),
            outcome: Outcome::Success.as_str().into(),
            status: Some(if created { 201 } else { 200 }),
            request_id: actor.request_id.clone(),
            client: actor.client.clone(),
            before,
            after,
            ..AuditEvent::default()
        };
        actor.identity.stamp(&mut e);
        self.access.audit.record(e);
    }

    fn changed(&self) -> AdminResult<()> {
        self.access.reload()?;
        Ok(())
    }

    /// Every institution.
    pub fn institutions(&self) -> AdminResult<Vec<Institution>> {
        Ok(self.store.register()?.institutions)
    }

    /// One institution (read from a snapshot, never through the writer, so it does not
    /// wait behind an import).
    pub fn institution(&self, id: i64) -> AdminResult<Institution> {
        self.store
            .register()?
            .institutions
            .into_iter()
            .find(|i| i.id == id)
            .ok_or_else(|| AdminError::NotFound(format!("institution {id} is not registered")))
    }

    /// Registers an institution.
    pub fn create_institution(
        &self,
        actor: &Actor,
        f: &InstitutionFields,
    ) -> AdminResult<Institution> {
        required(&f.name, "name")?;
        required(&f.registry_code, "registry_code")?;
        let created = self
            .store
            .register_write(|t| {
                let id = t.insert_institution(f)?;
                t.institution(id)
            })
            .map_err(|e| {
                unique(
                    e,
                    format!(
                        "an institution with registry code {} is already registered",
                        f.registry_code
                    ),
                )
            })?
            .expect("inserted");
        self.changed()?;
        self.audit(
            actor,
            "institution.create",
            format!("institution/{}", created.id),
            None,
            json(&created),
        );
        Ok(created)
    }

    /// Replaces an institution's fields.
    pub fn update_institution(
        &self,
        actor: &Actor,
        id: i64,
        f: &InstitutionFields,
    ) -> AdminResult<Institution> {
        required(&f.name, "name")?;
        required(&f.registry_code, "registry_code")?;
        let (before, after) = self
            .store
            .register_write(|t| {
                let before = t.institution(id)?;
                if before.is_some() {
                    t.update_institution(id, f)?;
                }
                Ok((before, t.institution(id)?))
            })
            .map_err(|e| {
                unique(
                    e,
                    format!(
                        "an institution with registry code {} is already registered",
                        f.registry_code
                    ),
                )
            })?;
        let (Some(before), Some(after)) = (before, after) else {
            return Err(AdminError::NotFound(format!(
                "institution {id} is not registered"
            )));
        };
        self.changed()?;
        self.audit(
            actor,
            "institution.update",
            format!("institution/{id}"),
            json(&before),
            json(&after),
        );
        Ok(after)
    }

    /// Suspends, restores or annuls an institution.
    pub fn transition_institution(
        &self,
        actor: &Actor,
        id: i64,
        t: Transition,
        change: &StatusChange,
    ) -> AdminResult<Institution> {
        required(&change.reason, "reason")?;
        let before = self.institution(id)?;
        let status = t.apply(before.status)?;
        let after = self
            .store
            .register_write(|txn| {
                txn.set_institution_status(id, status, &change.reason)?;
                txn.institution(id)
            })?
            .expect("exists");
        self.changed()?;
        self.audit(
            actor,
            &format!("institution.{}", t.name()),
            format!("institution/{id}"),
            json(&before),
            json(&after),
        );
        Ok(after)
    }

    /// Every registered certificate.
    pub fn certificates(&self) -> AdminResult<Vec<ClientCertificate>> {
        Ok(self.store.register()?.certificates)
    }

    /// One certificate.
    pub fn certificate(&self, id: i64) -> AdminResult<ClientCertificate> {
        self.store
            .register()?
            .certificates
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| AdminError::NotFound(format!("certificate {id} is not registered")))
    }

    fn check_binding(
        &self,
        role: Role,
        institution_id: Option<i64>,
        user_name: Option<&str>,
    ) -> AdminResult<()> {
        match role {
            Role::Institution => {
                let Some(id) = institution_id else {
                    return Err(AdminError::Invalid(
                        "an institution certificate needs institution_id".into(),
                    ));
                };
                self.institution(id).map_err(|_| {
                    AdminError::Invalid(format!("institution {id} is not registered"))
                })?;
            }
            Role::Admin | Role::Auditor => {
                if user_name.is_none_or(|u| u.trim().is_empty()) {
                    return Err(AdminError::Invalid(format!(
                        "a certificate with role {} needs user_name",
                        role.as_str()
                    )));
                }
                if institution_id.is_some() {
                    return Err(AdminError::Invalid(format!(
                        "a certificate with role {} is not bound to an institution",
                        role.as_str()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Registers a certificate from its PEM after checking key size, signature and
    /// issuer, and binds it.
    pub fn register_certificate(
        &self,
        actor: &Actor,
        r: &CertificateRegistration,
    ) -> AdminResult<ClientCertificate> {
        let role = r.role.unwrap_or(Role::Institution);
        self.check_binding(role, r.institution_id, r.user_name.as_deref())?;
        let (_, facts) = certificate::check_for_registration(&r.pem, &self.access.trusted)
            .map_err(|e| AdminError::Invalid(e.to_string()))?;
        let fingerprint = facts.fingerprint.clone();
        let new = facts.into_new(&r.pem, role, r.institution_id, r.user_name.clone());
        let created = self
            .store
            .register_write(|t| {
                let id = t.insert_certificate(&new)?;
                t.certificate(id)
            })
            .map_err(|e| {
                unique(
                    e,
                    format!("the certificate {fingerprint} is already registered"),
                )
            })?
            .expect("inserted");
        self.changed()?;
        self.audit(
            actor,
            "certificate.register",
            format!("certificate/{}", created.id),
            None,
            json(&created),
        );
        Ok(created)
    }

    /// Binds a certificate to another role, institution or user.
    pub fn bind_certificate(
        &self,
        actor: &Actor,
        id: i64,
        b: &CertificateBinding,
    ) -> AdminResult<ClientCertificate> {
        self.check_binding(b.role, b.institution_id, b.user_name.as_deref())?;
        let before = self.certificate(id)?;
        let after = self
            .store
            .register_write(|t| {
                t.bind_certificate(id, b.role, b.institution_id, b.user_name.as_deref())?;
                t.certificate(id)
            })?
            .expect("exists");
        self.changed()?;
        self.audit(
            actor,
            "certificate.bind",
            format!("certificate/{id}"),
            json(&before),
            json(&after),
        );
        Ok(after)
    }

    /// Suspends, restores or annuls a certificate.
    pub fn transition_certificate(
        &self,
        actor: &Actor,
        id: i64,
        t: Transition,
        change: &StatusChange,
    ) -> AdminResult<ClientCertificate> {
        required(&change.reason, "reason")?;
        let before = self.certificate(id)?;
        let status = t.apply(before.status)?;
        let after = self
            .store
            .register_write(|txn| {
                txn.set_certificate_status(id, status, &change.reason)?;
                txn.certificate(id)
            })?
            .expect("exists");
        self.changed()?;
        self.audit(
            actor,
            &format!("certificate.{}", t.name()),
            format!("certificate/{id}"),
            json(&before),
            json(&after),
        );
        Ok(after)
    }

    /// Every licence.
    pub fn licences(&self) -> AdminResult<Vec<Licence>> {
        Ok(self.store.register()?.licences)
    }

    /// One licence.
    pub fn licence(&self, id: i64) -> AdminResult<Licence> {
        self.store
            .register()?
            .licences
            .into_iter()
            .find(|l| l.id == id)
            .ok_or_else(|| AdminError::NotFound(format!("licence {id} is not registered")))
    }

    fn check_licence(f: &LicenceFields) -> AdminResult<()> {
        required(&f.licence_id, "licence_id")?;
        let named = f
            .licensee_name
            .as_deref()
            .is_some_and(|n| !n.trim().is_empty())
            || f.last_name.as_deref().is_some_and(|n| !n.trim().is_empty());
        if !named {
            return Err(AdminError::Invalid("a licence needs licensee_name (a legal person) or first_name and last_name (a natural person)".into()));
        }
        if crate::access::parse_instant(&f.issue_date).is_none() {
            return Err(AdminError::Invalid(format!(
                "issue_date {:?} is not a date (YYYY-MM-DD) or an RFC 3339 instant",
                f.issue_date
            )));
        }
        if let Some(r) = &f.revocation_date {
            if crate::access::parse_instant(r).is_none() {
                return Err(AdminError::Invalid(format!(
                    "revocation_date {r:?} is not a date (YYYY-MM-DD) or an RFC 3339 instant"
                )));
            }
        }
        for s in &f.scopes {
            required(&s.system, "scopes[].system")?;
        }
        Ok(())
    }

    /// Records a licence.
    pub fn create_licence(&self, actor: &Actor, f: &LicenceFields) -> AdminResult<Licence> {
        Self::check_licence(f)?;
        let created = self
            .store
            .register_write(|t| {
                let id = t.insert_licence(f)?;
                t.licence(id)
            })
            .map_err(|e| unique(e, format!("licence {} is already registered", f.licence_id)))?
            .expect("inserted");
        self.changed()?;
        self.audit(
            actor,
            "licence.create",
            format!("licence/{}", created.id),
            None,
            json(&created),
        );
        Ok(created)
    }

    /// Replaces a licence's fields, scopes and institutions (also how a revocation date
    /// is set).
    pub fn update_licence(
        &self,
        actor: &Actor,
        id: i64,
        f: &LicenceFields,
    ) -> AdminResult<Licence> {
        Self::check_licence(f)?;
        let before = self.licence(id)?;
        let after = self
            .store
            .register_write(|t| {
                t.update_licence(id, f)?;
                t.licence(id)
            })
            .map_err(|e| unique(e, format!("licence {} is already registered", f.licence_id)))?
            .expect("exists");
        self.changed()?;
        self.audit(
            actor,
            "licence.update",
            format!("licence/{id}"),
            json(&before),
            json(&after),
        );
        Ok(after)
    }

    /// Issues an admin or auditor token (shown once).
    pub fn issue_token(&self, actor: &Actor, r: &TokenRequest) -> AdminResult<IssuedToken> {
        required(&r.user_name, "user_name")?;
        if r.role == Role::Institution {
            return Err(AdminError::Invalid(
                "tokens are for admin and auditor users; institutions use client certificates"
                    .into(),
            ));
        }
        let token = crate::access::issue_token(self.store, &r.user_name, r.role)?;
        self.changed()?;
        self.audit(
            actor,
            "token.issue",
            format!("token/{}", r.user_name),
            None,
            json(&serde_json::json!({"user_name": r.user_name, "role": r.role})),
        );
        Ok(IssuedToken {
            user_name: r.user_name.clone(),
            role: r.role,
            token,
        })
    }

    /// Audit events matching `q` (after flushing the queue, so they include the
    /// asker's previous requests).
    pub fn audit_events(&self, q: &AuditQuery) -> AdminResult<Vec<AuditEvent>> {
        self.access.audit.flush();
        Ok(self.store.audit_events(q)?)
    }
}
