//! SQL of the access register (institutions, certificates, licences, admin tokens) and
//! of the audit trail.
//!
//! Register writes take the store's single writer, one `BEGIN IMMEDIATE` transaction per
//! admin action, so an acknowledged change is durable and a crash loses nothing that was
//! answered. Audit events are appended by their own connection ([`AuditSink`]) in
//! batches, so neither requests nor admin writes wait for them.

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};

use super::{configure_writer, Result, Store, StoreError};
use crate::model::register::*;

/// Everything the access policy decides with, read in one snapshot.
#[derive(Debug, Clone, Default)]
pub struct RegisterData {
    pub institutions: Vec<Institution>,
    pub certificates: Vec<ClientCertificate>,
    pub licences: Vec<Licence>,
    pub tokens: Vec<AdminToken>,
}

/// A new certificate to register (already parsed and checked by the admin layer).
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub facts: CertificateFacts,
    pub pem: String,
    pub role: Role,
    pub institution_id: Option<i64>,
    pub user_name: Option<String>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const INSTITUTION_COLUMNS: &str = "id, name, registry_code, address, contact_person, phone, \
     email, status, status_reason, created, updated";

fn institution_row(r: &Row) -> rusqlite::Result<Institution> {
    Ok(Institution {
        id: r.get(0)?,
        fields: InstitutionFields {
            name: r.get(1)?,
            registry_code: r.get(2)?,
            address: r.get(3)?,
            contact_person: r.get(4)?,
            phone: r.get(5)?,
            email: r.get(6)?,
        },
        status: Status::parse(&r.get::<_, String>(7)?),
        status_reason: r.get(8)?,
        created: r.get(9)?,
        updated: r.get(10)?,
    })
}

const CERTIFICATE_COLUMNS: &str = "id, fingerprint, subject, issuer, serial, not_before, \
     not_after, key_bits, signature, role, institution_id, user_name, status, status_reason, \
     created, updated";

fn certificate_row(r: &Row) -> rusqlite::Result<ClientCertificate> {
    Ok(ClientCertificate {
        id: r.get(0)?,
        fingerprint: r.get(1)?,
        subject: r.get(2)?,
        issuer: r.get(3)?,
        serial: r.get(4)?,
        not_before: r.get(5)?,
        not_after: r.get(6)?,
        key_bits: r.get(7)?,
        signature: r.get(8)?,
        // An unknown stored role is refused by the policy; read it as institution with no
        // institution bound, which grants nothing.
        role: Role::parse(&r.get::<_, String>(9)?).unwrap_or(Role::Institution),
        institution_id: r.get(10)?,
        user_name: r.get(11)?,
        status: Status::parse(&r.get::<_, String>(12)?),
        status_reason: r.get(13)?,
        created: r.get(14)?,
        updated: r.get(15)?,
    })
}

const LICENCE_COLUMNS: &str = "id, licence_id, licensee_name, first_name, last_name, \
     registry_code, personal_code, address, issue_date, revocation_date, contact_name, phone, \
     email, created, updated";

fn licence_row(r: &Row) -> rusqlite::Result<Licence> {
    Ok(Licence {
        id: r.get(0)?,
        fields: LicenceFields {
            licence_id: r.get(1)?,
            licensee_name: r.get(2)?,
            first_name: r.get(3)?,
            last_name: r.get(4)?,
            registry_code: r.get(5)?,
            personal_code: r.get(6)?,
            address: r.get(7)?,
            issue_date: r.get(8)?,
            revocation_date: r.get(9)?,
            contact_name: r.get(10)?,
            phone: r.get(11)?,
            email: r.get(12)?,
            scopes: Vec::new(),
            institutions: Vec::new(),
        },
        created: r.get(13)?,
        updated: r.get(14)?,
    })
}

fn all<T>(
    conn: &Connection,
    sql: &str,
    map: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([], map)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn load_licence_links(conn: &Connection, licences: &mut [Licence]) -> Result<()> {
    for licence in licences.iter_mut() {
        let mut stmt = conn.prepare_cached(
            "SELECT system, edition, label FROM licence_scope WHERE licence_id = ?1 \
             ORDER BY rowid",
        )?;
        licence.fields.scopes = stmt
            .query_map([licence.id], |r| {
                Ok(LicenceScope {
                    system: r.get(0)?,
                    edition: r.get(1)?,
                    label: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT institution_id FROM licence_institution WHERE licence_id = ?1 \
             ORDER BY institution_id",
        )?;
        licence.fields.institutions = stmt
            .query_map([licence.id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(())
}

impl Store {
    /// The whole register, in one read snapshot (it is small: institutions and
    /// certificates number in the thousands at most).
    pub fn register(&self) -> Result<RegisterData> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction()?;
        let institutions = all(
            &tx,
            &format!("SELECT {INSTITUTION_COLUMNS} FROM institution ORDER BY id"),
            institution_row,
        )?;
        let certificates = all(
            &tx,
            &format!("SELECT {CERTIFICATE_COLUMNS} FROM client_certificate ORDER BY id"),
            certificate_row,
        )?;
        let mut licences = all(
            &tx,
            &format!("SELECT {LICENCE_COLUMNS} FROM licence ORDER BY id"),
            licence_row,
        )?;
        load_licence_links(&tx, &mut licences)?;
        let tokens = all(
            &tx,
            "SELECT id, user_name, role, sha256, created, revoked FROM admin_token ORDER BY id",
            |r| {
                Ok(AdminToken {
                    id: r.get(0)?,
                    user_name: r.get(1)?,
                    role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::Auditor),
                    sha256: r.get(3)?,
                    created: r.get(4)?,
                    revoked: r.get(5)?,
                })
            },
        )?;
        Ok(RegisterData {
            institutions,
            certificates,
            licences,
            tokens,
        })
    }

    /// Runs one admin write in its own immediate transaction on the single writer.
    pub fn register_write<T>(&self, f: impl FnOnce(&RegisterTxn) -> Result<T>) -> Result<T> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&RegisterTxn { tx: &tx })?;
        tx.commit()?;
        Ok(value)
    }

    /// The connection audit queries and reports read through: one of its own, with a small
    /// page cache, so that scanning the (ever growing, recently written, hence in the WAL)
    /// audit table never fills the caches of the terminology read pool.
    fn audit_reader(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        Ok(self.audit_reader.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Opens the audit trail's own append connection.
    pub fn audit_sink(&self) -> Result<AuditSink> {
        let conn = Connection::open(&self.path)?;
        configure_writer(&conn)?;
        Ok(AuditSink { conn })
    }

    /// Audit events matching `q`, newest first.
    pub fn audit_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let conn = self.audit_reader()?;
        let (clause, values) = audit_filter(q, "");
        let sql = format!(
            "SELECT id, time, request_id, institution_id, fingerprint, user_name, role, client, \
             operation, target, outcome, status, detail, before, after FROM audit_event \
             {clause} ORDER BY id DESC LIMIT {}",
            q.limit.unwrap_or(1000).min(100_000)
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(values.iter()), |r| {
            Ok(AuditEvent {
                id: r.get(0)?,
                time: r.get(1)?,
                request_id: r.get(2)?,
                institution_id: r.get(3)?,
                fingerprint: r.get(4)?,
                user_name: r.get(5)?,
                role: r.get(6)?,
                client: r.get(7)?,
                operation: r.get(8)?,
                target: r.get(9)?,
                outcome: r.get(10)?,
                status: r.get(11)?,
                detail: r.get(12)?,
                before: r.get(13)?,
                after: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Requests per institution and operation in `[from, to)`.
    pub fn usage(&self, from: Option<&str>, to: Option<&str>) -> Result<Vec<UsageRow>> {
        let conn = self.audit_reader()?;
        let q = AuditQuery {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
            ..AuditQuery::default()
        };
        let (clause, values) = audit_filter(&q, "a.");
        let sql = format!(
            "SELECT a.institution_id, i.name, a.operation, count(*), \
               sum(a.outcome = 'refused'), sum(a.outcome = 'error') \
             FROM audit_event a LEFT JOIN institution i ON i.id = a.institution_id \
             {clause} GROUP BY a.institution_id, a.operation \
             ORDER BY i.name, a.operation"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(values.iter()), |r| {
            Ok(UsageRow {
                institution_id: r.get(0)?,
                institution: r.get(1)?,
                operation: r.get(2)?,
                requests: r.get(3)?,
                refused: r.get(4)?,
                errors: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The WHERE clause of an audit query over columns prefixed with `alias`, with its bound
/// values (input is never interpolated into SQL).
fn audit_filter(q: &AuditQuery, alias: &str) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as V;
    // (column, operator, value): each becomes `{alias}{column} {operator} ?n`.
    let mut conds: Vec<(&str, &str, V)> = Vec::new();
    if let Some(from) = &q.from {
        conds.push(("time", ">=", V::Text(from.clone())));
    }
    if let Some(to) = &q.to {
        conds.push(("time", "<", V::Text(to.clone())));
    }
    if let Some(i) = q.institution {
        conds.push(("institution_id", "=", V::Integer(i)));
    }
    if let Some(f) = &q.certificate {
        conds.push(("fingerprint", "=", V::Text(f.to_ascii_lowercase())));
    }
    if let Some(u) = &q.user {
        conds.push(("user_name", "=", V::Text(u.clone())));
    }
    if let Some(op) = &q.operation {
        match op.strip_suffix('*') {
            Some(prefix) => {
                let escaped = prefix
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                conds.push(("operation", "LIKE", V::Text(format!("{escaped}%"))));
            }
            None => conds.push(("operation", "=", V::Text(op.clone()))),
        }
    }
    if let Some(o) = &q.outcome {
        conds.push(("outcome", "=", V::Text(o.clone())));
    }
    let mut parts = Vec::new();
    let mut values = Vec::new();
    for (n, (column, op, value)) in conds.into_iter().enumerate() {
        let escape = if op == "LIKE" { " ESCAPE '\\'" } else { "" };
        parts.push(format!("{alias}{column} {op} ?{}{escape}", n + 1));
        values.push(value);
    }
    let clause = if parts.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", parts.join(" AND "))
    };
    (clause, values)
}

/// One admin write transaction (see [`Store::register_write`]).
pub struct RegisterTxn<'a> {
    tx: &'a Transaction<'a>,
}

impl RegisterTxn<'_> {
    /// The institution with this id.
    pub fn institution(&self, id: i64) -> Result<Option<Institution>> {
        Ok(self
            .tx
            .query_row(
                &format!("SELECT {INSTITUTION_COLUMNS} FROM institution WHERE id = ?1"),
                [id],
                institution_row,
            )
            .optional()?)
    }

    /// Adds an institution (active); fails on a registry code already registered.
    pub fn insert_institution(&self, f: &InstitutionFields) -> Result<i64> {
        let now = now();
        self.tx.execute(
            "INSERT INTO institution(name, registry_code, address, contact_person, phone, \
             email, status, created, updated) VALUES (?1,?2,?3,?4,?5,?6,'active',?7,?7)",
            params![
                f.name,
                f.registry_code,
                f.address,
                f.contact_person,
                f.phone,
                f.email,
                now
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Replaces an institution's editable fields.
    pub fn update_institution(&self, id: i64, f: &InstitutionFields) -> Result<()> {
        self.tx.execute(
            "UPDATE institution SET name=?2, registry_code=?3, address=?4, contact_person=?5, \
             phone=?6, email=?7, updated=?8 WHERE id=?1",
            params![
                id,
                f.name,
                f.registry_code,
                f.address,
                f.contact_person,
                f.phone,
                f.email,
                now()
            ],
        )?;
        Ok(())
    }

    /// Sets an institution's status and the reason for it.
    pub fn set_institution_status(&self, id: i64, status: Status, reason: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE institution SET status=?2, status_reason=?3, updated=?4 WHERE id=?1",
            params![id, status.as_str(), reason, now()],
        )?;
        Ok(())
    }

    /// The certificate with this id.
    pub fn certificate(&self, id: i64) -> Result<Option<ClientCertificate>> {
        Ok(self
            .tx
            .query_row(
                &format!("SELECT {CERTIFICATE_COLUMNS} FROM client_certificate WHERE id = ?1"),
                [id],
                certificate_row,
            )
            .optional()?)
    }

    /// Registers a certificate (active); fails on a fingerprint already registered.
    pub fn insert_certificate(&self, c: &NewCertificate) -> Result<i64> {
        let now = now();
        self.tx.execute(
            "INSERT INTO client_certificate(fingerprint, subject, issuer, serial, not_before, \
             not_after, key_bits, signature, pem, role, institution_id, user_name, status, \
             created, updated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,'active',?13,?13)",
            params![
                c.facts.fingerprint,
                c.facts.subject,
                c.facts.issuer,
                c.facts.serial,
                c.facts.not_before,
                c.facts.not_after,
                c.facts.key_bits,
                c.facts.signature,
                c.pem,
                c.role.as_str(),
                c.institution_id,
                c.user_name,
                now
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Binds a certificate to a role, institution and user.
    pub fn bind_certificate(
        &self,
        id: i64,
        role: Role,
        institution_id: Option<i64>,
        user_name: Option<&str>,
    ) -> Result<()> {
        self.tx.execute(
            "UPDATE client_certificate SET role=?2, institution_id=?3, user_name=?4, updated=?5 \
             WHERE id=?1",
            params![id, role.as_str(), institution_id, user_name, now()],
        )?;
        Ok(())
    }

    /// Sets a certificate's status and the reason for it.
    pub fn set_certificate_status(&self, id: i64, status: Status, reason: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE client_certificate SET status=?2, status_reason=?3, updated=?4 WHERE id=?1",
            params![id, status.as_str(), reason, now()],
        )?;
        Ok(())
    }

    /// The licence with this id, with its scopes and institutions.
    pub fn licence(&self, id: i64) -> Result<Option<Licence>> {
        let found = self
            .tx
            .query_row(
                &format!("SELECT {LICENCE_COLUMNS} FROM licence WHERE id = ?1"),
                [id],
                licence_row,
            )
            .optional()?;
        let Some(licence) = found else {
            return Ok(None);
        };
        let mut one = [licence];
        load_licence_links(self.tx, &mut one)?;
        let [licence] = one;
        Ok(Some(licence))
    }

    /// Adds a licence with its scopes and institutions.
    pub fn insert_licence(&self, f: &LicenceFields) -> Result<i64> {
        let now = now();
        self.tx.execute(
            "INSERT INTO licence(licence_id, created, updated, issue_date) VALUES (?1,?2,?2,?3)",
            params![f.licence_id, now, f.issue_date],
        )?;
        let id = self.tx.last_insert_rowid();
        self.update_licence(id, f)?;
        Ok(id)
    }

    /// Replaces a licence's fields, scopes and institutions.
    pub fn update_licence(&self, id: i64, f: &LicenceFields) -> Result<()> {
        self.tx.execute(
            "UPDATE licence SET licence_id=?2, licensee_name=?3, first_name=?4, last_name=?5, \
             registry_code=?6, personal_code=?7, address=?8, issue_date=?9, \
             revocation_date=?10, contact_name=?11, phone=?12, email=?13, updated=?14 \
             WHERE id=?1",
            params![
                id,
                f.licence_id,
                f.licensee_name,
                f.first_name,
                f.last_name,
                f.registry_code,
                f.personal_code,
                f.address,
                f.issue_date,
                f.revocation_date,
                f.contact_name,
                f.phone,
                f.email,
                now()
            ],
        )?;
        self.tx
            .execute("DELETE FROM licence_scope WHERE licence_id = ?1", [id])?;
        for s in &f.scopes {
            self.tx.execute(
                "INSERT INTO licence_scope(licence_id, system, edition, label) \
                 VALUES (?1,?2,?3,?4)",
                params![id, s.system, s.edition, s.label],
            )?;
        }
        self.tx.execute(
            "DELETE FROM licence_institution WHERE licence_id = ?1",
            [id],
        )?;
        for institution in &f.institutions {
            if self.institution(*institution)?.is_none() {
                return Err(StoreError::Corrupt(format!(
                    "institution {institution} is not registered"
                )));
            }
            self.tx.execute(
                "INSERT OR IGNORE INTO licence_institution(licence_id, institution_id) \
                 VALUES (?1,?2)",
                params![id, institution],
            )?;
        }
        Ok(())
    }

    /// Stores the hash of a new admin token.
    pub fn insert_token(&self, user_name: &str, role: Role, sha256: &str) -> Result<i64> {
        self.tx.execute(
            "INSERT INTO admin_token(user_name, role, sha256, created) VALUES (?1,?2,?3,?4)",
            params![user_name, role.as_str(), sha256, now()],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Revokes every token of `user_name` (used when a bootstrap token is re-issued).
    pub fn revoke_tokens_of(&self, user_name: &str) -> Result<usize> {
        Ok(self.tx.execute(
            "UPDATE admin_token SET revoked = ?2 WHERE user_name = ?1 AND revoked IS NULL",
            params![user_name, now()],
        )?)
    }

    /// How many admin tokens and admin certificates exist (zero on first start).
    pub fn admin_credentials(&self) -> Result<i64> {
        Ok(self.tx.query_row(
            "SELECT (SELECT count(*) FROM admin_token) + \
             (SELECT count(*) FROM client_certificate WHERE role = 'admin')",
            [],
            |r| r.get(0),
        )?)
    }
}

/// The audit trail's append-only connection (one per server, used by the audit thread).
pub struct AuditSink {
    conn: Connection,
}

impl AuditSink {
    /// Appends a batch in one transaction: one fsync for many events.
    pub fn append(&mut self, events: &[AuditEvent]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Multi-row statements: the audit thread shares the machine with the requests.
        super::bulk::insert_rows(
            &tx,
            "INSERT INTO audit_event",
            &[
                "time",
                "request_id",
                "institution_id",
                "fingerprint",
                "user_name",
                "role",
                "client",
                "operation",
                "target",
                "outcome",
                "status",
                "detail",
                "before",
                "after",
            ],
            events,
            |e, row| {
                row.put(&e.time)?;
                row.put(&e.request_id)?;
                row.put(e.institution_id)?;
                row.put(&e.fingerprint)?;
                row.put(&e.user_name)?;
                row.put(&e.role)?;
                row.put(&e.client)?;
                row.put(&e.operation)?;
                row.put(&e.target)?;
                row.put(&e.outcome)?;
                row.put(e.status)?;
                row.put(&e.detail)?;
                row.put(&e.before)?;
                row.put(&e.after)
            },
        )?;
        tx.commit()?;
        Ok(())
    }
}
