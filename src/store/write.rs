//! The single write path: bulk loading of code systems, value sets and concept maps inside
//! one `BEGIN IMMEDIATE` transaction.
//!
//! A resource whose `(url, version)` is already stored replaces the stored one, so loading
//! the same release twice is harmless. Concept ids are assigned here, consecutively, so the
//! closure (already sorted by the importer) is written in key order.

use rusqlite::{params, OptionalExtension, Transaction};

use super::bulk::insert_rows;
use super::closure;
use super::{Result, StoreError};
use crate::model::snomed::SnomedTables;
use crate::model::{CanonicalHeader, CodeSystemLoad, ConceptMapLoad, Value, ValueSetLoad};

/// Whether a write added a new resource or replaced one with the same url and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Inserted,
    Replaced,
}

/// An open write transaction. Obtained through [`super::Store::write`], which commits it.
pub struct WriteTxn<'c> {
    tx: Transaction<'c>,
    changed: bool,
}

impl<'c> WriteTxn<'c> {
    pub(super) fn new(tx: Transaction<'c>) -> Self {
        WriteTxn { tx, changed: false }
    }

    /// The connection inside the transaction (for scratch reads).
    pub(super) fn connection(&self) -> &rusqlite::Connection {
        &self.tx
    }

    /// Bumps the content generation: a scratch transaction does so, so that the catalogue
    /// built inside it is never mistaken for the shared one.
    pub fn mark_changed(&mut self) -> Result<()> {
        self.tx.execute(
            "UPDATE meta SET value = -value - 1 WHERE key = 'generation'",
            [],
        )?;
        Ok(())
    }

    pub(super) fn commit(self) -> Result<()> {
        if self.changed {
            self.tx.execute(
                "UPDATE meta SET value = value + 1 WHERE key = 'generation'",
                [],
            )?;
        }
        self.tx.commit()?;
        Ok(())
    }

    /// Makes the SNOMED CT edition of `module` the one served when a request names no
    /// version (until another is chosen; the newest version of that edition wins).
    pub fn set_default_snomed_edition(&mut self, module: u64) -> Result<()> {
        self.changed = true;
        self.tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('snomed_default_edition', ?1)",
            [module as i64],
        )?;
        Ok(())
    }

    /// Whether the store holds no terminology content at all (a fresh file).
    pub fn is_empty(&self) -> Result<bool> {
        let count: i64 = self.tx.query_row(
            "SELECT (SELECT COUNT(*) FROM code_system) + (SELECT COUNT(*) FROM value_set)
                  + (SELECT COUNT(*) FROM concept_map)",
            [],
            |r| r.get(0),
        )?;
        Ok(count == 0)
    }

    /// Writes a code system version with its concepts, links, closure and text index.
    pub fn put_code_system(&mut self, load: &CodeSystemLoad) -> Result<WriteOutcome> {
        self.changed = true;
        let meta = &load.meta;
        let existing: Option<i64> = self
            .tx
            .query_row(
                "SELECT id FROM code_system WHERE url = ?1 AND version = ?2",
                params![meta.url, meta.version],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            self.delete_code_system(id)?;
        }
        let resource_id =
            self.unique_resource_id("code_system", &meta.resource_id, &meta.version)?;
        self.tx.execute(
            "INSERT INTO code_system (resource_id, url, version, name, title, status, content,
                 hierarchy_meaning, case_sensitive, value_set, language, supplements,
                 concept_count, resource, date, experimental, standards_status, licensed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18)",
            params![
                resource_id,
                meta.url,
                meta.version,
                meta.name,
                meta.title,
                meta.status,
                meta.content,
                meta.hierarchy_meaning,
                meta.case_sensitive,
                meta.value_set,
                meta.language,
                meta.supplements,
                load.concepts.len() as i64,
                load.resource_json,
                meta.date,
                meta.experimental,
                meta.standards_status,
                meta.licensed,
            ],
        )?;
        let cs_id = self.tx.last_insert_rowid();
        {
            let mut stmt = self.tx.prepare(
                "INSERT OR REPLACE INTO cs_property (cs_id, code, uri, type, description)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in &meta.properties {
                stmt.execute(params![cs_id, p.code, p.uri, p.type_.code(), p.description])?;
            }
        }
        let base: i64 =
            self.tx
                .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM concept", [], |r| {
                    r.get(0)
                })?;
        let started = std::time::Instant::now();
        self.insert_concepts(cs_id, base, load)?;
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "concepts written"
        );
        let started = std::time::Instant::now();
        insert_rows(
            &self.tx,
            "INSERT OR IGNORE INTO parent_link",
            &["child", "parent"],
            &load.links,
            |&&(child, parent), row| {
                row.put(base + child as i64)?;
                row.put(base + parent as i64)
            },
        )?;
        closure::write(&self.tx, base, &load.closure)?;
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "hierarchy written"
        );
        if let Some(snomed) = &load.snomed {
            let started = std::time::Instant::now();
            self.insert_snomed(cs_id, base, snomed)?;
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                "SNOMED CT tables written"
            );
        }
        Ok(if existing.is_some() {
            WriteOutcome::Replaced
        } else {
            WriteOutcome::Inserted
        })
    }

    fn insert_concepts(&mut self, cs_id: i64, base: i64, load: &CodeSystemLoad) -> Result<()> {
        let ids = (base..).zip(&load.concepts);
        insert_rows(
            &self.tx,
            "INSERT INTO concept",
            &[
                "id",
                "cs_id",
                "code",
                "display",
                "definition",
                "inactive",
                "abstract",
                "extensions",
            ],
            ids.clone(),
            |(id, c), row| {
                row.put(id)?;
                row.put(cs_id)?;
                row.put(&c.code)?;
                row.put(&c.display)?;
                row.put(&c.definition)?;
                row.put(c.inactive)?;
                row.put(c.abstract_)?;
                row.put(json_or_null(&c.extensions))
            },
        )
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                let mut seen = std::collections::HashSet::new();
                let duplicate = load
                    .concepts
                    .iter()
                    .find(|c| !seen.insert(c.code.as_str()))
                    .map_or("?", |c| c.code.as_str());
                StoreError::Corrupt(format!("duplicate code '{duplicate}'"))
            }
            _ => e.into(),
        })?;
        insert_rows(
            &self.tx,
            "INSERT INTO designation",
            &[
                "concept_id",
                "language",
                "use_system",
                "use_code",
                "use_display",
                "value",
                "extensions",
            ],
            // SNOMED CT's designations are read from `sct_description`
            // (`ReadTxn::sct_designations`); they still feed the text index below.
            ids.clone()
                .filter(|_| load.snomed.is_none())
                .flat_map(|(id, c)| c.designations.iter().map(move |d| (id, d))),
            |(id, d), row| {
                let use_ = d.use_.as_ref();
                row.put(id)?;
                row.put(&d.language)?;
                row.put(use_.and_then(|u| u.system.as_deref()))?;
                row.put(use_.and_then(|u| u.code.as_deref()))?;
                row.put(use_.and_then(|u| u.display.as_deref()))?;
                row.put(&d.value)?;
                row.put(json_or_null(&d.extensions))
            },
        )?;
        // Each distinct term of a concept once (SNOMED CT lists a term once per dialect).
        insert_rows(
            &self.tx,
            "INSERT INTO concept_text",
            &["term", "concept_id"],
            ids.clone().flat_map(|(id, c)| {
                let mut terms: Vec<&str> = Vec::with_capacity(c.designations.len() + 1);
                for term in c
                    .display
                    .iter()
                    .chain(c.designations.iter().map(|d| &d.value))
                {
                    if !terms.contains(&term.as_str()) {
                        terms.push(term);
                    }
                }
                terms.into_iter().map(move |term| (id, term))
            }),
            |(id, term), row| {
                row.put(term)?;
                row.put(id)
            },
        )?;
        insert_rows(
            &self.tx,
            "INSERT INTO concept_property",
            &["concept_id", "code", "type", "value", "system", "display"],
            ids.flat_map(|(id, c)| c.properties.iter().map(move |p| (id, p))),
            |(id, p), row| {
                let (type_, system, display) = match &p.value {
                    Value::Code(_) => ("code", None, None),
                    Value::Coding(coding) => (
                        "Coding",
                        coding.system.as_deref(),
                        coding.display.as_deref(),
                    ),
                    Value::String(_) => ("string", None, None),
                    Value::Integer(_) => ("integer", None, None),
                    Value::Boolean(_) => ("boolean", None, None),
                    Value::DateTime(_) => ("dateTime", None, None),
                    Value::Decimal(_) => ("decimal", None, None),
                };
                row.put(id)?;
                row.put(&p.code)?;
                row.put(type_)?;
                row.put(p.value.lexical())?;
                row.put(system)?;
                row.put(display)
            },
        )?;
        Ok(())
    }

    /// Writes an edition's SNOMED CT tables; concept indexes become `base + index`.
    fn insert_snomed(&mut self, cs_id: i64, base: i64, t: &SnomedTables) -> Result<()> {
        let id = |index: u32| base + index as i64;
        insert_rows(
            &self.tx,
            "INSERT INTO sct_concept",
            &["concept", "module", "effective_time", "defined"],
            (base..).zip(&t.concepts),
            |(concept, c), row| {
                row.put(concept)?;
                row.put(&c.module)?;
                row.put(&c.effective_time)?;
                row.put(c.defined)
            },
        )?;
        insert_rows(
            &self.tx,
            "INSERT INTO sct_relationship",
            &["source", "type", "destination", "grp"],
            &t.relationships,
            |r, row| {
                row.put(id(r.source))?;
                row.put(id(r.type_))?;
                row.put(id(r.destination))?;
                row.put(r.group)
            },
        )?;
        insert_rows(
            &self.tx,
            "INSERT INTO sct_concrete",
            &["source", "type", "value", "grp"],
            &t.concrete,
            |c, row| {
                row.put(id(c.source))?;
                row.put(id(c.type_))?;
                row.put(&c.value)?;
                row.put(c.group)
            },
        )?;
        insert_rows(
            &self.tx,
            "INSERT INTO sct_member",
            &["cs_id", "refset", "referenced", "component", "fields"],
            &t.members,
            |m, row| {
                row.put(cs_id)?;
                row.put(id(m.refset))?;
                row.put(m.referenced.map(id))?;
                row.put(&m.component)?;
                row.put(&m.fields)
            },
        )?;
        insert_rows(
            &self.tx,
            "INSERT INTO sct_description",
            &[
                "concept",
                "id",
                "term",
                "language",
                "type_id",
                "active",
                "module",
                "effective_time",
                "acceptability",
            ],
            &t.descriptions,
            |d, row| {
                row.put(id(d.concept))?;
                row.put(&d.id)?;
                row.put(&d.term)?;
                row.put(&d.language)?;
                row.put(&d.type_id)?;
                row.put(d.active)?;
                row.put(&d.module)?;
                row.put(&d.effective_time)?;
                row.put(&d.acceptability)
            },
        )?;
        Ok(())
    }

    fn delete_code_system(&mut self, cs_id: i64) -> Result<()> {
        const OF_CS: &str = "(SELECT id FROM concept WHERE cs_id = ?1)";
        for sql in [
            format!("DELETE FROM sct_concept WHERE concept IN {OF_CS}"),
            format!("DELETE FROM sct_relationship WHERE source IN {OF_CS}"),
            format!("DELETE FROM sct_concrete WHERE source IN {OF_CS}"),
            "DELETE FROM sct_member WHERE cs_id = ?1".to_string(),
            format!("DELETE FROM sct_description WHERE concept IN {OF_CS}"),
            format!("DELETE FROM designation WHERE concept_id IN {OF_CS}"),
            format!("DELETE FROM concept_property WHERE concept_id IN {OF_CS}"),
            format!("DELETE FROM parent_link WHERE child IN {OF_CS}"),
            format!("DELETE FROM concept_closure WHERE concept IN {OF_CS}"),
            format!("DELETE FROM concept_text WHERE concept_id IN {OF_CS}"),
            "DELETE FROM concept WHERE cs_id = ?1".to_string(),
            "DELETE FROM cs_property WHERE cs_id = ?1".to_string(),
            "DELETE FROM code_system WHERE id = ?1".to_string(),
        ] {
            self.tx.execute(&sql, [cs_id])?;
        }
        Ok(())
    }

    /// Writes a value set, replacing one with the same url and version.
    pub fn put_value_set(&mut self, load: &ValueSetLoad) -> Result<WriteOutcome> {
        self.changed = true;
        let h = &load.header;
        let existing = self.delete_canonical("value_set", h)?;
        let resource_id = self.unique_resource_id("value_set", &h.resource_id, &h.version)?;
        self.tx.execute(
            "INSERT INTO value_set (resource_id, url, version, name, title, status, resource,
                 definition)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                resource_id,
                h.url,
                h.version,
                h.name,
                h.title,
                h.status,
                load.resource_json,
                serde_json::to_string(&load.definition)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?
            ],
        )?;
        Ok(existing)
    }

    /// Writes a concept map and its elements, replacing one with the same url and version.
    pub fn put_concept_map(&mut self, load: &ConceptMapLoad) -> Result<WriteOutcome> {
        self.changed = true;
        let h = &load.header;
        let existing = self.delete_canonical("concept_map", h)?;
        let resource_id = self.unique_resource_id("concept_map", &h.resource_id, &h.version)?;
        self.tx.execute(
            "INSERT INTO concept_map (resource_id, url, version, name, title, status, source,
                 target, resource)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                resource_id,
                h.url,
                h.version,
                h.name,
                h.title,
                h.status,
                load.source,
                load.target,
                load.resource_json
            ],
        )?;
        let map_id = self.tx.last_insert_rowid();
        let mut unmapped = self.tx.prepare(
            "INSERT INTO map_unmapped (map_id, source_system, target_system, mode, code, display, url)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for u in &load.unmapped {
            unmapped.execute(params![
                map_id,
                u.source_system,
                u.target_system,
                u.mode,
                u.code,
                u.display,
                u.url
            ])?;
        }
        drop(unmapped);
        let mut stmt = self.tx.prepare(
            "INSERT INTO map_element (map_id, source_system, source_version, source_code,
                 source_display, target_system, target_version, target_code, target_display,
                 equivalence, comment, depends_on, product)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for e in &load.elements {
            stmt.execute(params![
                map_id,
                e.source_system,
                e.source_version,
                e.source_code,
                e.source_display,
                e.target_system,
                e.target_version,
                e.target_code,
                e.target_display,
                e.equivalence,
                e.comment,
                e.depends_on,
                e.product
            ])?;
        }
        Ok(existing)
    }

    /// Deletes the value set or concept map with the header's url and version, if stored.
    fn delete_canonical(&mut self, table: &str, h: &CanonicalHeader) -> Result<WriteOutcome> {
        let existing: Option<i64> = self
            .tx
            .query_row(
                &format!("SELECT id FROM {table} WHERE url = ?1 AND version = ?2"),
                params![h.url, h.version],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = existing else {
            return Ok(WriteOutcome::Inserted);
        };
        if table == "concept_map" {
            self.tx
                .execute("DELETE FROM map_element WHERE map_id = ?1", [id])?;
        }
        self.tx
            .execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])?;
        Ok(WriteOutcome::Replaced)
    }

    /// A logical id that no other stored resource of the table uses: the requested one,
    /// else one qualified by the version, else numbered.
    fn unique_resource_id(&self, table: &str, wanted: &str, version: &str) -> Result<String> {
        let taken = |id: &str| -> Result<bool> {
            Ok(self
                .tx
                .query_row(
                    &format!("SELECT 1 FROM {table} WHERE resource_id = ?1"),
                    [id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        };
        if !taken(wanted)? {
            return Ok(wanted.to_string());
        }
        let version: String = version
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let qualified = format!("{wanted}-{version}");
        if !version.is_empty() && qualified.len() <= 64 && !taken(&qualified)? {
            return Ok(qualified);
        }
        for n in 2.. {
            let numbered = format!("{wanted}-{n}");
            if !taken(&numbered)? {
                return Ok(numbered);
            }
        }
        unreachable!("an unbounded counter always finds a free id")
    }
}

/// A list of extensions as stored: a JSON array, or NULL when there are none.
fn json_or_null(extensions: &[serde_json::Value]) -> Option<String> {
    (!extensions.is_empty()).then(|| serde_json::Value::Array(extensions.to_vec()).to_string())
}
