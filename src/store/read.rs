//! Read snapshots: one pooled connection inside one deferred transaction, with
//! domain-level queries that return model types.

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{params, OptionalExtension, Row};

use super::closure;
use super::{Result, StoreError};
use crate::model::{
    CanonicalHeader, CodeSystemMeta, Coding, Concept, Designation, PropertyDef, PropertyType,
    PropertyValue, Value, ValueSetDef,
};
use crate::model::{MapElement, UnmappedRule};

/// A concept's encoded proper ancestors, and its proper descendants (see `closure.rs`).
const ANCESTORS: &str = "SELECT ancestors FROM concept_closure WHERE concept = ?1";
const DESCENDANTS: &str = "SELECT descendants FROM concept_closure WHERE concept = ?1";

/// A consistent read snapshot of the store. Every query made through one `ReadTxn` sees
/// the same committed state; dropping it ends the snapshot.
///
/// A scratch snapshot ([`super::Store::with_scratch`]) reads through the writer's open
/// transaction instead, and so also sees what the request added to it.
pub struct ReadTxn<'c> {
    conn: Conn<'c>,
}

enum Conn<'c> {
    Pooled(PooledConnection<SqliteConnectionManager>),
    Scratch(&'c rusqlite::Connection),
}

impl std::ops::Deref for Conn<'_> {
    type Target = rusqlite::Connection;

    fn deref(&self) -> &rusqlite::Connection {
        match self {
            Conn::Pooled(c) => c,
            Conn::Scratch(c) => c,
        }
    }
}

/// A concept as seen from another one (a parent or child): enough to render it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptRef {
    pub id: i64,
    pub code: String,
    pub display: Option<String>,
}

const CONCEPT_COLUMNS: &str = "id, code, display, definition, inactive, abstract";

fn concept_from_row(row: &Row) -> rusqlite::Result<Concept> {
    Ok(Concept {
        id: row.get(0)?,
        code: row.get(1)?,
        display: row.get(2)?,
        definition: row.get(3)?,
        inactive: row.get(4)?,
        abstract_: row.get(5)?,
    })
}

impl<'c> ReadTxn<'c> {
    pub(super) fn begin(
        conn: PooledConnection<SqliteConnectionManager>,
    ) -> Result<ReadTxn<'static>> {
        conn.prepare_cached("BEGIN")?.execute([])?;
        Ok(ReadTxn {
            conn: Conn::Pooled(conn),
        })
    }

    /// Reads inside a transaction someone else owns (and will end).
    pub(super) fn within(conn: &'c rusqlite::Connection) -> ReadTxn<'c> {
        ReadTxn {
            conn: Conn::Scratch(conn),
        }
    }

    /// The content generation: it changes whenever an import or delete commits.
    pub fn generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'generation'")?
            .query_row([], |r| r.get(0))?)
    }

    /// The module of the SNOMED CT edition chosen as the default, if one was chosen.
    pub fn default_snomed_edition(&self) -> Result<Option<u64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'snomed_default_edition'")?
            .query_row([], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|v| v as u64))
    }

    /// Every loaded code system version with its property definitions.
    pub fn code_systems(&self) -> Result<Vec<CodeSystemMeta>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, resource_id, url, version, name, title, status, content,
                    hierarchy_meaning, case_sensitive, value_set, language, supplements,
                    concept_count, date, experimental, standards_status, licensed
             FROM code_system ORDER BY url, version",
        )?;
        let mut systems = stmt
            .query_map([], |r| {
                Ok(CodeSystemMeta {
                    id: r.get(0)?,
                    resource_id: r.get(1)?,
                    url: r.get(2)?,
                    version: r.get(3)?,
                    name: r.get(4)?,
                    title: r.get(5)?,
                    status: r.get(6)?,
                    content: r.get(7)?,
                    hierarchy_meaning: r.get(8)?,
                    case_sensitive: r.get(9)?,
                    value_set: r.get(10)?,
                    language: r.get(11)?,
                    supplements: r.get(12)?,
                    concept_count: r.get(13)?,
                    date: r.get(14)?,
                    experimental: r.get(15)?,
                    standards_status: r.get(16)?,
                    licensed: r.get(17)?,
                    properties: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT cs_id, code, uri, type, description FROM cs_property ORDER BY cs_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let cs_id: i64 = row.get(0)?;
            let type_: String = row.get(3)?;
            let def = PropertyDef {
                code: row.get(1)?,
                uri: row.get(2)?,
                type_: PropertyType::parse(&type_).unwrap_or(PropertyType::String),
                description: row.get(4)?,
            };
            if let Some(cs) = systems.iter_mut().find(|cs| cs.id == cs_id) {
                cs.properties.push(def);
            }
        }
        Ok(systems)
    }

    /// The stored resource JSON of a code system.
    pub fn code_system_resource(&self, cs_id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT resource FROM code_system WHERE id = ?1")?
            .query_row([cs_id], |r| r.get(0))
            .optional()?)
    }

    /// The concept with exactly this code in a code system version.
    pub fn concept(&self, cs_id: i64, code: &str) -> Result<Option<Concept>> {
        let sql = format!("SELECT {CONCEPT_COLUMNS} FROM concept WHERE cs_id = ?1 AND code = ?2");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![cs_id, code], concept_from_row)
            .optional()?)
    }

    /// The concept whose code equals this one ignoring ASCII case (for code systems
    /// declared case-insensitive).
    ///
    /// The exact code, then its all-upper and all-lower spellings, are looked up through
    /// the `(cs_id, code)` index first: `COLLATE NOCASE` cannot use that index, so the
    /// fallback scans the whole version (0.7 s for a SNOMED CT edition). Only a code with
    /// letters in mixed case that matches none of those spellings pays for the scan, and
    /// a code without letters (every SCTID) never does.
    pub fn concept_ignoring_case(&self, cs_id: i64, code: &str) -> Result<Option<Concept>> {
        if let Some(found) = self.concept(cs_id, code)? {
            return Ok(Some(found));
        }
        if !code.bytes().any(|b| b.is_ascii_alphabetic()) {
            return Ok(None);
        }
        for spelling in [code.to_ascii_uppercase(), code.to_ascii_lowercase()] {
            if spelling != code {
                if let Some(found) = self.concept(cs_id, &spelling)? {
                    return Ok(Some(found));
                }
            }
        }
        let sql = format!(
            "SELECT {CONCEPT_COLUMNS} FROM concept WHERE cs_id = ?1 AND code = ?2 COLLATE NOCASE \
             ORDER BY code = ?2 DESC LIMIT 1"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![cs_id, code], concept_from_row)
            .optional()?)
    }

    /// Every concept of a code system version, in code order.
    pub fn concepts(&self, cs_id: i64) -> Result<Vec<Concept>> {
        let sql = format!("SELECT {CONCEPT_COLUMNS} FROM concept WHERE cs_id = ?1 ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([cs_id], concept_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The designations of a concept, in import order.
    pub fn designations(&self, concept_id: i64) -> Result<Vec<Designation>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT language, use_system, use_code, use_display, value, extensions
             FROM designation WHERE concept_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([concept_id], |r| {
            let use_code: Option<String> = r.get(2)?;
            Ok(Designation {
                language: r.get(0)?,
                use_: use_code.map(|code| Coding {
                    system: r.get(1).ok().flatten(),
                    version: None,
                    code: Some(code),
                    display: r.get(3).ok().flatten(),
                }),
                value: r.get(4)?,
                extensions: parse_extensions(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The rendering extensions stored with a concept.
    pub fn concept_extensions(&self, concept_id: i64) -> Result<Vec<serde_json::Value>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT extensions FROM concept WHERE id = ?1")?;
        let text: Option<Option<String>> = stmt.query_row([concept_id], |r| r.get(0)).optional()?;
        Ok(parse_extensions(text.flatten()))
    }

    /// The property values of a concept, in import order.
    pub fn properties(&self, concept_id: i64) -> Result<Vec<PropertyValue>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, type, value, system, display
             FROM concept_property WHERE concept_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([concept_id], |r| {
            let type_: String = r.get(1)?;
            let value: String = r.get(2)?;
            let value = match PropertyType::parse(&type_).unwrap_or(PropertyType::String) {
                PropertyType::Code => Value::Code(value),
                PropertyType::String => Value::String(value),
                PropertyType::DateTime => Value::DateTime(value),
                PropertyType::Decimal => Value::Decimal(value),
                PropertyType::Integer => Value::Integer(value.parse().unwrap_or_default()),
                PropertyType::Boolean => Value::Boolean(value == "true"),
                PropertyType::Coding => Value::Coding(Coding {
                    system: r.get(3)?,
                    version: None,
                    code: Some(value),
                    display: r.get(4)?,
                }),
            };
            Ok(PropertyValue {
                code: r.get(0)?,
                value,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The direct parents of a concept.
    pub fn parents(&self, concept_id: i64) -> Result<Vec<ConceptRef>> {
        self.related(
            "SELECT c.id, c.code, c.display FROM parent_link l JOIN concept c ON c.id = l.parent
             WHERE l.child = ?1 ORDER BY c.id",
            concept_id,
        )
    }

    /// The direct children of a concept.
    pub fn children(&self, concept_id: i64) -> Result<Vec<ConceptRef>> {
        self.related(
            "SELECT c.id, c.code, c.display FROM parent_link l JOIN concept c ON c.id = l.child
             WHERE l.parent = ?1 ORDER BY c.id",
            concept_id,
        )
    }

    fn related(&self, sql: &str, concept_id: i64) -> Result<Vec<ConceptRef>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([concept_id], |r| {
            Ok(ConceptRef {
                id: r.get(0)?,
                code: r.get(1)?,
                display: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Whether `ancestor` is a proper ancestor of `descendant`: one closure lookup.
    pub fn is_ancestor(&self, ancestor: i64, descendant: i64) -> Result<bool> {
        Ok(self
            .closure_set(ANCESTORS, descendant)?
            .is_some_and(|set| closure::contains(&set, ancestor)))
    }

    /// One concept's encoded ancestor or descendant set (`sql`: [`ANCESTORS`] or
    /// [`DESCENDANTS`]), if it has one.
    fn closure_set(&self, sql: &str, concept_id: i64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row([concept_id], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()?
            .flatten())
    }

    /// Headers of every stored value set.
    pub fn value_set_headers(&self) -> Result<Vec<(i64, CanonicalHeader)>> {
        self.canonical_headers("SELECT id, resource_id, url, version, name, title, status FROM value_set ORDER BY url, version")
    }

    /// Headers of every stored concept map.
    pub fn concept_map_headers(&self) -> Result<Vec<(i64, CanonicalHeader)>> {
        self.canonical_headers("SELECT id, resource_id, url, version, name, title, status FROM concept_map ORDER BY url, version")
    }

    fn canonical_headers(&self, sql: &str) -> Result<Vec<(i64, CanonicalHeader)>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                CanonicalHeader {
                    resource_id: r.get(1)?,
                    url: r.get(2)?,
                    version: r.get(3)?,
                    name: r.get(4)?,
                    title: r.get(5)?,
                    status: r.get(6)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The stored resource JSON of a value set.
    pub fn value_set_resource(&self, id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT resource FROM value_set WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// The parsed definition of a stored value set.
    pub fn value_set_definition(&self, id: i64) -> Result<Option<ValueSetDef>> {
        let text: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT definition FROM value_set WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match text.flatten() {
            None => Ok(None),
            Some(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("value set definition: {e}"))),
        }
    }

    /// Ids of the value sets whose definition names `canonical` (an included or excluded
    /// code system, or an imported value set), other than the value set itself.
    pub fn value_sets_referencing(&self, canonical: &str) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM value_set
             WHERE url <> ?1 AND instr(definition, json_quote(?1)) > 0
             ORDER BY id",
        )?;
        let rows = stmt.query_map([canonical], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// Ids of every concept of a code system version, in definition order.
    pub fn concept_ids(&self, cs_id: i64) -> Result<Vec<i64>> {
        self.ids("SELECT id FROM concept WHERE cs_id = ?1 ORDER BY id", cs_id)
    }

    /// Ids of every proper descendant of a concept, ascending (closure lookup).
    pub fn descendant_ids(&self, concept_id: i64) -> Result<Vec<i64>> {
        Ok(self
            .closure_set(DESCENDANTS, concept_id)?
            .map(|set| closure::decode(&set))
            .unwrap_or_default())
    }

    /// Ids of every proper ancestor of a concept, ascending (closure lookup).
    pub fn ancestor_ids(&self, concept_id: i64) -> Result<Vec<i64>> {
        Ok(self
            .closure_set(ANCESTORS, concept_id)?
            .map(|set| closure::decode(&set))
            .unwrap_or_default())
    }

    /// Ids of the direct children of a concept.
    pub fn child_ids(&self, concept_id: i64) -> Result<Vec<i64>> {
        self.ids(
            "SELECT child FROM parent_link WHERE parent = ?1 ORDER BY child",
            concept_id,
        )
    }

    /// Whether a concept has any child.
    pub fn has_children(&self, concept_id: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM parent_link WHERE parent = ?1 LIMIT 1")?
            .query_row([concept_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Ids of the concepts of a code system with a property `code` whose stored value is
    /// `value` (any value when `None`).
    /// (A Coding-valued property matches by its code or its display, so a LOINC filter
    /// may say `SCALE_TYP = LP7753-9` or `SCALE_TYP = Qn`.)
    pub fn ids_with_property(
        &self,
        cs_id: i64,
        code: &str,
        value: Option<&str>,
    ) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT p.concept_id FROM concept_property p JOIN concept c ON c.id = p.concept_id
             WHERE c.cs_id = ?1 AND p.code = ?2
               AND (?3 IS NULL OR p.value = ?3 OR (p.type = 'Coding' AND p.display = ?3))
             ORDER BY p.concept_id",
        )?;
        let rows = stmt.query_map(params![cs_id, code, value], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// The concept with this id.
    pub fn concept_by_id(&self, id: i64) -> Result<Option<Concept>> {
        let sql = format!("SELECT {CONCEPT_COLUMNS} FROM concept WHERE id = ?1");
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], concept_from_row)
            .optional()?)
    }

    /// Concepts whose designations or display match every word of `text` as a word
    /// prefix, case- and accent-insensitively, best match first (FTS5 bm25).
    pub fn text_matches(&self, text: &str) -> Result<Vec<i64>> {
        let query: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{w}\"*"))
            .collect();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT concept_id FROM concept_text WHERE concept_text MATCH ?1 ORDER BY rank",
        )?;
        let rows = stmt.query_map([query.join(" ")], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// The connection, for the queries of sibling modules (SNOMED CT's tables).
    pub(super) fn connection(&self) -> &rusqlite::Connection {
        &self.conn
    }

    pub(super) fn ids(&self, sql: &str, arg: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([arg], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// Mapping rows for a code: from its source side (`reverse` false) or its target side,
    /// optionally only in the given maps.
    pub fn map_elements(
        &self,
        system: Option<&str>,
        code: &str,
        reverse: bool,
        map_id: Option<i64>,
    ) -> Result<Vec<(i64, MapElement)>> {
        let sql = if reverse {
            "SELECT map_id, source_system, source_version, source_code, source_display,
                    target_system, target_version, target_code, target_display, equivalence,
                    comment, depends_on, product
             FROM map_element
             WHERE target_code = ?1 AND (?2 IS NULL OR target_system = ?2)
               AND (?3 IS NULL OR map_id = ?3)
             ORDER BY map_id, rowid"
        } else {
            "SELECT map_id, source_system, source_version, source_code, source_display,
                    target_system, target_version, target_code, target_display, equivalence,
                    comment, depends_on, product
             FROM map_element
             WHERE source_code = ?1 AND (?2 IS NULL OR source_system = ?2)
               AND (?3 IS NULL OR map_id = ?3)
             ORDER BY map_id, rowid"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![code, system, map_id], |r| {
            Ok((
                r.get(0)?,
                MapElement {
                    source_system: r.get(1)?,
                    source_version: r.get(2)?,
                    source_code: r.get(3)?,
                    source_display: r.get(4)?,
                    target_system: r.get(5)?,
                    target_version: r.get(6)?,
                    target_code: r.get(7)?,
                    target_display: r.get(8)?,
                    equivalence: r.get(9)?,
                    comment: r.get(10)?,
                    depends_on: r.get(11)?,
                    product: r.get(12)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The `group.unmapped` rules of a stored concept map.
    pub fn unmapped_rules(&self, map_id: i64) -> Result<Vec<UnmappedRule>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT source_system, target_system, mode, code, display, url
             FROM map_unmapped WHERE map_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([map_id], |r| {
            Ok(UnmappedRule {
                source_system: r.get(0)?,
                target_system: r.get(1)?,
                mode: r.get(2)?,
                code: r.get(3)?,
                display: r.get(4)?,
                url: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The `source` and `target` scopes of a stored concept map.
    pub fn concept_map_scope(&self, id: i64) -> Result<(Option<String>, Option<String>)> {
        Ok(self
            .conn
            .prepare_cached("SELECT source, target FROM concept_map WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((None, None)))
    }

    /// The stored resource JSON of a concept map.
    pub fn concept_map_resource(&self, id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT resource FROM concept_map WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }
}

impl Drop for ReadTxn<'_> {
    fn drop(&mut self) {
        // A read-only snapshot has nothing to commit; ending it releases the WAL read mark.
        if let Conn::Pooled(conn) = &self.conn {
            if let Ok(mut stmt) = conn.prepare_cached("ROLLBACK") {
                let _ = stmt.execute([]);
            }
        }
    }
}

/// Stored extensions (a JSON array, or NULL) as values.
fn parse_extensions(text: Option<String>) -> Vec<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}
