//! Reads of SNOMED CT's own tables (relationships in role groups, concrete values,
//! reference set members, descriptions with acceptability), for ECL evaluation. Concepts
//! are concept ids, as everywhere in the store.

use rusqlite::{params, OptionalExtension};

use super::{ReadTxn, Result};
use crate::model::snomed;
use crate::model::Designation;

/// A column of `sct_concept`, for ECL's concept filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SctConceptColumn {
    Module,
    EffectiveTime,
    Defined,
}

/// An attribute relationship, or a concrete value (`destination` None, `value` set).
#[derive(Debug, Clone, PartialEq)]
pub struct SctRelationship {
    pub source: i64,
    pub type_: i64,
    pub destination: Option<i64>,
    /// The RF2 lexical form of a concrete value (`#250`, `"text"`, `true`).
    pub value: Option<String>,
    pub group: i64,
}

/// A reference set member: the referenced concept (when it is one), the referenced
/// component's id, and the additional fields as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct SctMember {
    pub referenced: Option<i64>,
    pub component: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A description as RF2 has it.
#[derive(Debug, Clone, PartialEq)]
pub struct SctDescriptionRow {
    pub concept: i64,
    pub id: String,
    pub term: String,
    pub language: String,
    pub type_id: String,
    pub active: bool,
    pub module: String,
    pub effective_time: String,
    /// `refsetId:P` / `refsetId:A` pairs, space-separated.
    pub acceptability: String,
}

impl ReadTxn<'_> {
    /// Attribute relationships whose type is `type_` (concept id), in source order.
    pub fn sct_relationships_of_type(&self, type_: i64) -> Result<Vec<SctRelationship>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT source, destination, grp FROM sct_relationship WHERE type = ?1
             ORDER BY source, grp",
        )?;
        let rows = stmt.query_map([type_], |r| {
            Ok(SctRelationship {
                source: r.get(0)?,
                type_,
                destination: Some(r.get(1)?),
                value: None,
                group: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Concrete values whose type is `type_`, in source order.
    pub fn sct_concrete_of_type(&self, type_: i64) -> Result<Vec<SctRelationship>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT source, value, grp FROM sct_concrete WHERE type = ?1 ORDER BY source, grp",
        )?;
        let rows = stmt.query_map([type_], |r| {
            Ok(SctRelationship {
                source: r.get(0)?,
                type_,
                destination: None,
                value: Some(r.get(1)?),
                group: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every attribute type (concept id) used by a relationship or concrete value of the
    /// code system version `cs_id`.
    pub fn sct_attribute_types(&self, cs_id: i64) -> Result<Vec<i64>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT DISTINCT type FROM sct_relationship WHERE type IN (SELECT id FROM concept WHERE cs_id = ?1)
             UNION SELECT DISTINCT type FROM sct_concrete WHERE type IN (SELECT id FROM concept WHERE cs_id = ?1)
             ORDER BY 1",
        )?;
        let rows = stmt.query_map([cs_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// The active members of a reference set (concept id).
    pub fn sct_members(&self, refset: i64) -> Result<Vec<SctMember>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT referenced, component, fields FROM sct_member WHERE refset = ?1
             ORDER BY referenced",
        )?;
        let rows = stmt.query_map([refset], |r| {
            let fields: Option<String> = r.get(2)?;
            Ok(SctMember {
                referenced: r.get(0)?,
                component: r.get(1)?,
                fields: fields
                    .and_then(|f| serde_json::from_str(&f).ok())
                    .unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The reference sets (concept ids) with at least one member in `cs_id`.
    pub fn sct_refsets(&self, cs_id: i64) -> Result<Vec<i64>> {
        self.ids(
            "SELECT DISTINCT refset FROM sct_member WHERE cs_id = ?1 ORDER BY refset",
            cs_id,
        )
    }

    /// A concept's module, effective time and definition status (`true`: defined).
    pub fn sct_concept(&self, concept_id: i64) -> Result<Option<(String, String, bool)>> {
        Ok(self
            .connection()
            .prepare_cached(
                "SELECT module, effective_time, defined FROM sct_concept WHERE concept = ?1",
            )?
            .query_row([concept_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
    }

    /// One column of `sct_concept` (`module`, `effective_time` or `defined`, the latter as
    /// `true`/`false`) for every concept of `cs_id`.
    pub fn sct_concept_column(
        &self,
        cs_id: i64,
        column: SctConceptColumn,
    ) -> Result<Vec<(i64, String)>> {
        let value = match column {
            SctConceptColumn::Module => "s.module",
            SctConceptColumn::EffectiveTime => "s.effective_time",
            SctConceptColumn::Defined => "CASE s.defined WHEN 1 THEN 'true' ELSE 'false' END",
        };
        let sql = format!(
            "SELECT s.concept, {value} FROM sct_concept s JOIN concept c ON c.id = s.concept
             WHERE c.cs_id = ?1"
        );
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map([cs_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The attribute relationships and concrete values of one concept, by group.
    pub fn sct_relationships_from(&self, source: i64) -> Result<Vec<SctRelationship>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT type, destination, NULL, grp FROM sct_relationship WHERE source = ?1
             UNION ALL
             SELECT type, NULL, value, grp FROM sct_concrete WHERE source = ?1
             ORDER BY 4, 1",
        )?;
        let rows = stmt.query_map([source], |r| {
            Ok(SctRelationship {
                source,
                type_: r.get(0)?,
                destination: r.get(1)?,
                value: r.get(2)?,
                group: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Ids of the inactive concepts of a code system version.
    pub fn inactive_ids(&self, cs_id: i64) -> Result<Vec<i64>> {
        self.ids(
            "SELECT id FROM concept WHERE cs_id = ?1 AND inactive = 1 ORDER BY id",
            cs_id,
        )
    }

    /// Direct parents' ids of a concept.
    pub fn parent_ids(&self, concept_id: i64) -> Result<Vec<i64>> {
        self.ids(
            "SELECT parent FROM parent_link WHERE child = ?1 ORDER BY parent",
            concept_id,
        )
    }

    /// Every description of the code system version `cs_id`.
    pub fn sct_descriptions(&self, cs_id: i64) -> Result<Vec<SctDescriptionRow>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT d.concept, d.id, d.term, d.language, d.type_id, d.active, d.module,
                    d.effective_time, d.acceptability
             FROM sct_description d JOIN concept c ON c.id = d.concept
             WHERE c.cs_id = ?1 ORDER BY d.concept",
        )?;
        let rows = stmt.query_map(params![cs_id], description_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The descriptions of one concept.
    pub fn sct_descriptions_of(&self, concept_id: i64) -> Result<Vec<SctDescriptionRow>> {
        let mut stmt = self.connection().prepare_cached(
            "SELECT concept, id, term, language, type_id, active, module, effective_time,
                    acceptability
             FROM sct_description WHERE concept = ?1",
        )?;
        let rows = stmt.query_map([concept_id], description_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A SNOMED CT concept's active descriptions as designations, in the order the
    /// importer ranks them (see [`crate::model::snomed::designation_rank`]), then by
    /// description id. SNOMED CT designations live only in `sct_description`; the
    /// generic `designation` table would hold a second copy of 1.3 million terms per
    /// edition.
    pub fn sct_designations(&self, concept_id: i64) -> Result<Vec<Designation>> {
        let mut ranked: Vec<(u8, u64, Designation)> = self
            .sct_descriptions_of(concept_id)?
            .into_iter()
            .filter(|d| d.active)
            .map(|d| {
                let type_id = d.type_id.parse().unwrap_or_default();
                let rank = snomed::designation_rank(
                    type_id,
                    &snomed::parse_acceptability(&d.acceptability),
                );
                let designation = Designation {
                    language: Some(d.language),
                    use_: Some(snomed::description_use(type_id)),
                    value: d.term,
                    extensions: Vec::new(),
                };
                (rank, d.id.parse().unwrap_or_default(), designation)
            })
            .collect();
        ranked.sort_by_key(|(rank, id, _)| (*rank, *id));
        Ok(ranked.into_iter().map(|(_, _, d)| d).collect())
    }
}

fn description_row(r: &rusqlite::Row) -> rusqlite::Result<SctDescriptionRow> {
    Ok(SctDescriptionRow {
        concept: r.get(0)?,
        id: r.get(1)?,
        term: r.get(2)?,
        language: r.get(3)?,
        type_id: r.get(4)?,
        active: r.get(5)?,
        module: r.get(6)?,
        effective_time: r.get(7)?,
        acceptability: r.get(8)?,
    })
}
