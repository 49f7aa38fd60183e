//! The access register's nouns: institutions, their client certificates, licences and
//! what they cover, admin tokens, and audit events.
//!
//! These are plain values; the store persists them, `access` decides with them, `admin`
//! changes them. They serialise as the admin API's JSON (and are documented in OpenAPI
//! from the same definitions, so the schema cannot drift from the wire).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Lifecycle of an institution or a certificate. `annulled` is final; `suspended` can be
/// restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Suspended,
    Annulled,
}

impl Status {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Annulled => "annulled",
        }
    }

    /// Parses the stored spelling (anything unknown reads as annulled: refuse, never
    /// grant, on a value this binary does not understand).
    pub fn parse(s: &str) -> Status {
        match s {
            "active" => Status::Active,
            "suspended" => Status::Suspended,
            _ => Status::Annulled,
        }
    }
}

/// What a certificate or token holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: the register, the audit, reports, FHIR.
    Admin,
    /// Reads the audit and reports; nothing else.
    Auditor,
    /// A registered institution: FHIR reads of what its licences cover.
    Institution,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Institution => "institution",
        }
    }

    /// Parses the stored spelling; unknown values are `None` (and refused).
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "auditor" => Some(Role::Auditor),
            "institution" => Some(Role::Institution),
            _ => None,
        }
    }
}

/// The editable fields of an institution. (Unknown fields are refused by the admin API's
/// parser, not by serde: `deny_unknown_fields` would also close the schema of
/// [`Institution`], which flattens these.)
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct InstitutionFields {
    /// Legal name.
    #[schema(example = "Vilnius University Hospital Santaros Klinikos")]
    pub name: String,
    /// Code in the national register of legal entities (unique).
    #[schema(example = "124364561")]
    pub registry_code: String,
    #[schema(example = "Santariškių g. 2, Vilnius")]
    pub address: Option<String>,
    #[schema(example = "Ona Onaitė")]
    pub contact_person: Option<String>,
    #[schema(example = "+370 5 236 5000")]
    pub phone: Option<String>,
    #[schema(example = "it@santa.lt")]
    pub email: Option<String>,
}

/// An institution as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Institution {
    pub id: i64,
    #[serde(flatten)]
    pub fields: InstitutionFields,
    pub status: Status,
    /// Why the status was last changed.
    pub status_reason: Option<String>,
    pub created: String,
    pub updated: String,
}

/// What the server reads from a certificate (its PEM, or the TLS connection).
#[derive(Debug, Clone)]
pub struct CertificateFacts {
    /// SHA-256 of the DER, lowercase hex.
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    /// Uppercase hex, no leading zeros.
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key_bits: u32,
    pub signature: String,
}

/// A registered client certificate: what the server read from the PEM, and its binding.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientCertificate {
    pub id: i64,
    /// SHA-256 of the DER, lowercase hex: the connection's identity.
    pub fingerprint: String,
    pub subject: String,
    pub issuer: String,
    /// Serial number, uppercase hex (as CRLs list it).
    pub serial: String,
    /// Validity, RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub key_bits: u32,
    /// Signature algorithm, e.g. `sha256WithRSAEncryption`.
    pub signature: String,
    pub role: Role,
    /// The institution it is bound to (role `institution`).
    pub institution_id: Option<i64>,
    /// The person it identifies (roles `admin` and `auditor`), named in the audit.
    pub user_name: Option<String>,
    pub status: Status,
    pub status_reason: Option<String>,
    pub created: String,
    pub updated: String,
}

/// An edition or module a licence covers: a code system URL, optionally narrowed to an
/// edition (for SNOMED CT the module id, e.g. the national extension's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceScope {
    #[schema(example = "http://snomed.info/sct")]
    pub system: String,
    /// Edition or module id; absent: every edition of the system.
    #[schema(example = "900000000000207008")]
    pub edition: Option<String>,
    /// Human name, e.g. "SNOMED CT International".
    #[schema(example = "SNOMED CT International")]
    pub label: Option<String>,
}

/// The editable fields of a licence: every field of the licence register. (Unknown fields
/// are refused by the admin API's parser, as for [`InstitutionFields`].)
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LicenceFields {
    /// The licence's number in the register (unique).
    #[schema(example = "SCT-LT-2026-0042")]
    pub licence_id: String,
    /// Licensee that is a legal person.
    #[schema(example = "Vilnius University Hospital Santaros Klinikos")]
    pub licensee_name: Option<String>,
    /// Licensee that is a natural person.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Registry code of a legal person.
    #[schema(example = "124364561")]
    pub registry_code: Option<String>,
    /// Personal code of a natural person (never in the de-personalised report).
    pub personal_code: Option<String>,
    pub address: Option<String>,
    /// Date of issue, `YYYY-MM-DD`.
    #[schema(example = "2026-01-15")]
    pub issue_date: String,
    /// From this date (or RFC 3339 instant) the licence no longer grants access.
    pub revocation_date: Option<String>,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Editions and modules covered.
    #[serde(default)]
    pub scopes: Vec<LicenceScope>,
    /// Institutions that use the licence.
    #[serde(default)]
    pub institutions: Vec<i64>,
}

/// A licence as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Licence {
    pub id: i64,
    #[serde(flatten)]
    pub fields: LicenceFields,
    pub created: String,
    pub updated: String,
}

impl LicenceFields {
    /// Whether the licensee is a natural person (named by first and last name).
    pub fn natural_person(&self) -> bool {
        self.licensee_name.is_none() && (self.first_name.is_some() || self.last_name.is_some())
    }
}

/// An admin API token (the bootstrap token, or one issued to a user). Only the SHA-256 of
/// the token is stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdminToken {
    pub id: i64,
    pub user_name: String,
    pub role: Role,
    pub sha256: String,
    pub created: String,
    pub revoked: Option<String>,
}

/// How a request or action ended, for the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Refused,
    Error,
}

impl Outcome {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
        }
    }
}

/// One audit record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    /// Assigned when stored.
    pub id: Option<i64>,
    /// RFC 3339 with milliseconds, UTC.
    pub time: String,
    /// The request's `X-Request-Id`.
    pub request_id: Option<String>,
    pub institution_id: Option<i64>,
    /// The client certificate's SHA-256 fingerprint.
    pub fingerprint: Option<String>,
    /// The admin or auditor user.
    pub user_name: Option<String>,
    pub role: Option<String>,
    /// The peer address.
    pub client: Option<String>,
    /// `CodeSystem/$lookup`, `admin/institution.create`, `tls.handshake`, ...
    pub operation: String,
    /// The code systems, value sets or register entries touched.
    pub target: Option<String>,
    /// `success`, `refused` or `error`.
    pub outcome: String,
    /// HTTP status.
    pub status: Option<u16>,
    /// Why (refusal reason, error text).
    pub detail: Option<String>,
    /// Admin actions: the entry before and after, as JSON.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Filters of an audit query; every one optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// From this instant (inclusive, RFC 3339 or date).
    pub from: Option<String>,
    /// Until this instant (exclusive).
    pub to: Option<String>,
    pub institution: Option<i64>,
    /// Certificate fingerprint.
    pub certificate: Option<String>,
    pub user: Option<String>,
    /// Operation, exact (`CodeSystem/$lookup`) or prefix ending in `*` (`admin/*`).
    pub operation: Option<String>,
    pub outcome: Option<String>,
    /// Most events returned (default 1000, newest first).
    pub limit: Option<u32>,
}

/// Requests and codes per institution and operation over a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageRow {
    pub institution_id: Option<i64>,
    pub institution: Option<String>,
    pub operation: String,
    pub requests: i64,
    pub refused: i64,
    pub errors: i64,
}
