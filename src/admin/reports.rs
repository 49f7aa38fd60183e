//! Reports as CSV: the audit export, usage per institution and operation, and the
//! de-personalised licence report SNOMED International asks member countries for.

use crate::model::register::{AuditEvent, Licence, UsageRow};

/// The licensee as the de-personalised report shows it.
pub const NATURAL_PERSON: &str = "natural person";

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Audit events as CSV, one row per event.
pub fn audit_csv(events: &[AuditEvent]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "id",
        "time",
        "request_id",
        "institution_id",
        "fingerprint",
        "user",
        "role",
        "client",
        "operation",
        "target",
        "outcome",
        "status",
        "detail",
        "before",
        "after",
    ]);
    for e in events {
        let _ = w.write_record([
            e.id.map(|i| i.to_string()).unwrap_or_default(),
            e.time.clone(),
            e.request_id.clone().unwrap_or_default(),
            e.institution_id.map(|i| i.to_string()).unwrap_or_default(),
            e.fingerprint.clone().unwrap_or_default(),
            e.user_name.clone().unwrap_or_default(),
            e.role.clone().unwrap_or_default(),
            e.client.clone().unwrap_or_default(),
            e.operation.clone(),
            e.target.clone().unwrap_or_default(),
            e.outcome.clone(),
            e.status.map(|s| s.to_string()).unwrap_or_default(),
            e.detail.clone().unwrap_or_default(),
            e.before.clone().unwrap_or_default(),
            e.after.clone().unwrap_or_default(),
        ]);
    }
    finish(w)
}

/// Usage rows as CSV.
pub fn usage_csv(rows: &[UsageRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "institution_id",
        "institution",
        "operation",
        "requests",
        "refused",
        "errors",
    ]);
    for r in rows {
        let _ = w.write_record([
            r.institution_id.map(|i| i.to_string()).unwrap_or_default(),
            r.institution.clone().unwrap_or_default(),
            r.operation.clone(),
            r.requests.to_string(),
            r.refused.to_string(),
            r.errors.to_string(),
        ]);
    }
    finish(w)
}

/// The de-personalised licence report: personal codes and contact details omitted,
/// natural persons' names replaced by "natural person"; legal persons keep their name
/// and registry code.
pub fn licence_csv(licences: &[Licence]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "licence_id",
        "licensee_type",
        "licensee",
        "registry_code",
        "issue_date",
        "revocation_date",
        "editions",
        "institutions",
    ]);
    for l in licences {
        let f = &l.fields;
        let person = f.natural_person();
        let editions = f
            .scopes
            .iter()
            .map(|s| {
                s.label.clone().unwrap_or_else(|| match &s.edition {
                    Some(e) => format!("{} {e}", s.system),
                    None => s.system.clone(),
                })
            })
            .collect::<Vec<_>>()
            .join("; ");
        let _ = w.write_record([
            f.licence_id.clone(),
            if person {
                "natural person"
            } else {
                "legal person"
            }
            .to_string(),
            if person {
                NATURAL_PERSON.to_string()
            } else {
                f.licensee_name.clone().unwrap_or_default()
            },
            if person {
                String::new()
            } else {
                f.registry_code.clone().unwrap_or_default()
            },
            f.issue_date.clone(),
            f.revocation_date.clone().unwrap_or_default(),
            editions,
            f.institutions.len().to_string(),
        ]);
    }
    finish(w)
}
