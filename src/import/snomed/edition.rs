//! The components of one edition, read from its releases' Snapshot files (later
//! releases overlay earlier ones component by component), and their conversion into the
//! canonical model: concepts with designations and properties, the is-a hierarchy and its
//! closure, the SNOMED tables, and the implicit ConceptMaps.

use std::collections::{BTreeMap, HashMap};

use indicatif::ProgressBar;
use serde_json::{json, Map, Value as Json};

use super::rf2::{self, FileKind, Release, Rows};
use super::EditionLoad;
use crate::import::release::ReleaseFiles;
use crate::import::{transitive_closure, ImportError};
use crate::model::snomed::{
    ConcreteValue, RefsetMember, Relationship, SctConcept, SctDescription, SnomedTables,
};
use crate::model::{
    CodeSystemLoad, CodeSystemMeta, ConceptLoad, Designation, PropertyDef, PropertyType,
    PropertyValue, Value,
};

use crate::model::snomed::DEFINITION;
pub use crate::model::snomed::{CORE_MODULE, SNOMED};
const IS_A: u64 = 116680003;
const PREFERRED: u64 = 900000000000548007;
const DEFINED: u64 = 900000000000073002;
const INFERRED: u64 = 900000000000011006;
const ADDITIONAL: u64 = 900000000000227009;
const MODULE_DEPENDENCY: u64 = 900000000000534007;

struct ConceptRow {
    effective: String,
    active: bool,
    module: u64,
    defined: bool,
}

struct DescriptionRow {
    concept: u64,
    effective: String,
    active: bool,
    module: u64,
    language: String,
    type_id: u64,
    term: String,
}

struct RelationshipRow {
    active: bool,
    source: u64,
    destination: u64,
    group: u32,
    type_id: u64,
    characteristic: u64,
}

struct ConcreteRow {
    active: bool,
    source: u64,
    value: String,
    group: u32,
    type_id: u64,
    characteristic: u64,
}

struct MemberRow {
    module: u64,
    refset: u64,
    referenced: String,
    /// The additional columns' values, in the order of `RefsetKind::columns`.
    fields: Vec<String>,
}

/// The additional columns of one reference set, from the header of the file it came in.
#[derive(Clone)]
struct RefsetKind {
    columns: Vec<String>,
}

/// The components read so far, by id (a later release's row replaces an earlier one's).
#[derive(Default)]
pub struct Tables {
    concepts: BTreeMap<u64, ConceptRow>,
    descriptions: HashMap<u64, DescriptionRow>,
    relationships: HashMap<u64, RelationshipRow>,
    concrete: HashMap<u64, ConcreteRow>,
    /// Active language reference set members: description → (refset, preferred).
    acceptability: HashMap<u64, Vec<(u64, bool)>>,
    /// Active members of the other reference sets.
    members: Vec<MemberRow>,
    refsets: HashMap<u64, RefsetKind>,
}

fn number(field: &str, name: &str) -> Result<u32, String> {
    field
        .parse()
        .map_err(|_| format!("{name} '{field}' is not a number"))
}

impl Tables {
    /// Reads the Snapshot files of `release` over what is already held.
    pub fn read(
        &mut self,
        files: &ReleaseFiles,
        release: &Release,
        progress: &ProgressBar,
    ) -> Result<(), ImportError> {
        for (kind, paths) in &release.files {
            for path in paths {
                progress.set_message(files.describe(path));
                let rows = Rows::open(files, path, *kind)?;
                match kind {
                    FileKind::Concept => self.read_concepts(&rows)?,
                    FileKind::Description | FileKind::TextDefinition => {
                        self.read_descriptions(&rows)?
                    }
                    FileKind::Relationship => self.read_relationships(&rows)?,
                    FileKind::ConcreteValues => self.read_concrete(&rows)?,
                    FileKind::Refset => self.read_members(&rows)?,
                }
                progress.inc(1);
            }
        }
        Ok(())
    }

    /// Reads only the module dependency members of `release` (enough to tell which
    /// International release an extension was built on).
    pub fn read_module_dependencies(
        &mut self,
        files: &ReleaseFiles,
        release: &Release,
    ) -> Result<(), ImportError> {
        for path in release.files.get(&FileKind::Refset).into_iter().flatten() {
            if path.to_ascii_lowercase().contains("moduledependency") {
                self.read_members(&Rows::open(files, path, FileKind::Refset)?)?;
            }
        }
        Ok(())
    }

    fn read_concepts(&mut self, rows: &Rows) -> Result<(), ImportError> {
        rows.for_each(|_, f| {
            let id = rf2::sctid(f[0], "id")?;
            self.concepts.insert(
                id,
                ConceptRow {
                    effective: rf2::effective_time(f[1])?.to_string(),
                    active: rf2::active(f[2])?,
                    module: rf2::sctid(f[3], "moduleId")?,
                    defined: rf2::sctid(f[4], "definitionStatusId")? == DEFINED,
                },
            );
            Ok(())
        })
    }

    fn read_descriptions(&mut self, rows: &Rows) -> Result<(), ImportError> {
        rows.for_each(|_, f| {
            let id = rf2::sctid(f[0], "id")?;
            if f[7].is_empty() {
                return Err("the term is empty".into());
            }
            self.descriptions.insert(
                id,
                DescriptionRow {
                    effective: rf2::effective_time(f[1])?.to_string(),
                    active: rf2::active(f[2])?,
                    module: rf2::sctid(f[3], "moduleId")?,
                    concept: rf2::sctid(f[4], "conceptId")?,
                    language: f[5].to_string(),
                    type_id: rf2::sctid(f[6], "typeId")?,
                    term: f[7].to_string(),
                },
            );
            Ok(())
        })
    }

    fn read_relationships(&mut self, rows: &Rows) -> Result<(), ImportError> {
        rows.for_each(|_, f| {
            let id = rf2::sctid(f[0], "id")?;
            rf2::effective_time(f[1])?;
            self.relationships.insert(
                id,
                RelationshipRow {
                    active: rf2::active(f[2])?,
                    source: rf2::sctid(f[4], "sourceId")?,
                    destination: rf2::sctid(f[5], "destinationId")?,
                    group: number(f[6], "relationshipGroup")?,
                    type_id: rf2::sctid(f[7], "typeId")?,
                    characteristic: rf2::sctid(f[8], "characteristicTypeId")?,
                },
            );
            Ok(())
        })
    }

    fn read_concrete(&mut self, rows: &Rows) -> Result<(), ImportError> {
        rows.for_each(|_, f| {
            let id = rf2::sctid(f[0], "id")?;
            rf2::effective_time(f[1])?;
            let value = f[5];
            let well_formed = value
                .strip_prefix('#')
                .is_some_and(|n| n.parse::<f64>().is_ok())
                || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"'))
                || value == "true"
                || value == "false";
            if !well_formed {
                return Err(format!(
                    "the concrete value '{value}' is not #number, \"string\" or a boolean"
                ));
            }
            self.concrete.insert(
                id,
                ConcreteRow {
                    active: rf2::active(f[2])?,
                    source: rf2::sctid(f[4], "sourceId")?,
                    value: value.to_string(),
                    group: number(f[6], "relationshipGroup")?,
                    type_id: rf2::sctid(f[7], "typeId")?,
                    characteristic: rf2::sctid(f[8], "characteristicTypeId")?,
                },
            );
            Ok(())
        })
    }

    fn read_members(&mut self, rows: &Rows) -> Result<(), ImportError> {
        let columns: Vec<String> = rows.header[6..].to_vec();
        let language = columns == ["acceptabilityId"];
        rows.for_each(|_, f| {
            if f[0].len() != 36 {
                return Err(format!("the member id '{}' is not a UUID", f[0]));
            }
            rf2::effective_time(f[1])?;
            let active = rf2::active(f[2])?;
            let module = rf2::sctid(f[3], "moduleId")?;
            let refset = rf2::sctid(f[4], "refsetId")?;
            if f[5].is_empty() {
                return Err("referencedComponentId is empty".into());
            }
            self.refsets.entry(refset).or_insert_with(|| RefsetKind {
                columns: columns.clone(),
            });
            if !active {
                return Ok(());
            }
            if language {
                let description = rf2::sctid(f[5], "referencedComponentId")?;
                let preferred = rf2::sctid(f[6], "acceptabilityId")? == PREFERRED;
                self.acceptability
                    .entry(description)
                    .or_default()
                    .push((refset, preferred));
            } else {
                self.members.push(MemberRow {
                    module,
                    refset,
                    referenced: f[5].to_string(),
                    fields: f[6..].iter().map(|s| s.to_string()).collect(),
                });
            }
            Ok(())
        })
    }

    /// An extension's edition module and the date of the International Edition it depends
    /// on, from its module dependency members (module → 900000000000207008).
    pub fn extension_module(
        &self,
        files: &ReleaseFiles,
        release: &Release,
    ) -> Result<(u64, String), ImportError> {
        let mut candidates: BTreeMap<u64, (usize, Option<String>)> = BTreeMap::new();
        let target_time = self
            .refsets
            .get(&MODULE_DEPENDENCY)
            .and_then(|k| k.columns.iter().position(|c| c == "targetEffectiveTime"));
        for m in self
            .members
            .iter()
            .filter(|m| m.refset == MODULE_DEPENDENCY)
        {
            if m.module == CORE_MODULE || m.module == 900000000000012004 {
                continue;
            }
            let entry = candidates.entry(m.module).or_default();
            entry.0 += 1;
            if m.referenced == CORE_MODULE.to_string() {
                entry.1 = target_time.and_then(|i| m.fields.get(i)).cloned();
            }
        }
        candidates
            .into_iter()
            .filter_map(|(module, (count, date))| date.map(|d| (count, module, d)))
            .max()
            .map(|(_, module, date)| (module, date))
            .ok_or_else(|| {
                ImportError::Usage(format!(
                    "{}: the extension {} {} has no module dependency on the International core module {CORE_MODULE}, so the edition it belongs to is unknown",
                    files.origin().display(),
                    release.code,
                    release.date
                ))
            })
    }

    /// The edition of everything read, named by `release` (the last one read) and
    /// `module` (None: the International Edition).
    pub fn edition(
        &self,
        files: &ReleaseFiles,
        release: &Release,
        module: Option<u64>,
    ) -> Result<EditionLoad, ImportError> {
        let started = std::time::Instant::now();
        let module = module.unwrap_or(CORE_MODULE);
        let version = format!("{SNOMED}/{module}/version/{}", release.date);
        let index: HashMap<u64, u32> = self
            .concepts
            .keys()
            .enumerate()
            .map(|(i, id)| (*id, i as u32))
            .collect();
        let ids: Vec<u64> = self.concepts.keys().copied().collect();
        let missing = |what: &str, id: u64| ImportError::Format {
            origin: files.describe(&release.folder),
            line: 0,
            reason: format!("{what} {id} is not a concept of the edition"),
        };

        let mut concepts: Vec<ConceptLoad> = ids
            .iter()
            .map(|id| {
                let row = &self.concepts[id];
                ConceptLoad {
                    code: id.to_string(),
                    display: None,
                    definition: None,
                    inactive: !row.active,
                    abstract_: false,
                    designations: Vec::new(),
                    properties: Vec::new(),
                    extensions: Vec::new(),
                }
            })
            .collect();

        // Descriptions: designations (active ones) and the ECL table (all of them).
        let mut descriptions = Vec::with_capacity(self.descriptions.len());
        let mut ranked: Vec<Vec<(u8, Designation)>> = vec![Vec::new(); concepts.len()];
        let mut description_ids: Vec<&u64> = self.descriptions.keys().collect();
        description_ids.sort_unstable();
        for id in description_ids {
            let d = &self.descriptions[id];
            let Some(&concept) = index.get(&d.concept) else {
                return Err(missing("the concept of description", *id));
            };
            let memberships = self.acceptability.get(id).map(Vec::as_slice).unwrap_or(&[]);
            descriptions.push(SctDescription {
                concept,
                id: id.to_string(),
                term: d.term.clone(),
                language: d.language.clone(),
                type_id: d.type_id.to_string(),
                active: d.active,
                module: d.module.to_string(),
                effective_time: d.effective.clone(),
                acceptability: crate::model::snomed::format_acceptability(memberships),
            });
            if !d.active {
                continue;
            }
            // One designation per description, in its own language; the dialects'
            // preferred terms are chosen from the description table (core::lookup).
            let rank = crate::model::snomed::designation_rank(d.type_id, memberships);
            ranked[concept as usize].push((
                rank,
                Designation {
                    language: Some(d.language.clone()),
                    use_: Some(crate::model::snomed::description_use(d.type_id)),
                    value: d.term.clone(),
                    extensions: Vec::new(),
                },
            ));
            if d.type_id == DEFINITION && concepts[concept as usize].definition.is_none() {
                concepts[concept as usize].definition = Some(d.term.clone());
            }
        }
        for (concept, mut list) in concepts.iter_mut().zip(ranked) {
            list.sort_by_key(|(rank, _)| *rank);
            concept.display = list.first().map(|(_, d)| d.value.clone());
            concept.designations = list.into_iter().map(|(_, d)| d).collect();
        }

        // The hierarchy, attribute relationships and concrete values (inferred only).
        let mut links = Vec::new();
        let mut relationships = Vec::new();
        let mut attribute_types: BTreeMap<u64, ()> = BTreeMap::new();
        let mut rel_ids: Vec<&u64> = self.relationships.keys().collect();
        rel_ids.sort_unstable();
        for id in rel_ids {
            let r = &self.relationships[id];
            if !r.active || !matches!(r.characteristic, INFERRED | ADDITIONAL) {
                continue;
            }
            let source = *index
                .get(&r.source)
                .ok_or_else(|| missing("sourceId", r.source))?;
            let destination = *index
                .get(&r.destination)
                .ok_or_else(|| missing("destinationId", r.destination))?;
            if r.type_id == IS_A {
                links.push((source, destination));
                continue;
            }
            let type_ = *index
                .get(&r.type_id)
                .ok_or_else(|| missing("typeId", r.type_id))?;
            attribute_types.insert(r.type_id, ());
            relationships.push(Relationship {
                source,
                type_,
                destination,
                group: r.group,
            });
        }
        let mut concrete = Vec::new();
        let mut concrete_ids: Vec<&u64> = self.concrete.keys().collect();
        concrete_ids.sort_unstable();
        for id in concrete_ids {
            let c = &self.concrete[id];
            if !c.active || !matches!(c.characteristic, INFERRED | ADDITIONAL) {
                continue;
            }
            let source = *index
                .get(&c.source)
                .ok_or_else(|| missing("sourceId", c.source))?;
            let type_ = *index
                .get(&c.type_id)
                .ok_or_else(|| missing("typeId", c.type_id))?;
            attribute_types.insert(c.type_id, ());
            concrete.push(ConcreteValue {
                source,
                type_,
                value: c.value.clone(),
                group: c.group,
            });
        }

        // Reference set members; historical associations are also properties of the
        // inactive concept they come from.
        let mut members = Vec::with_capacity(self.members.len());
        let mut association_refsets: BTreeMap<u64, ()> = BTreeMap::new();
        for m in &self.members {
            let Some(&refset) = index.get(&m.refset) else {
                return Err(missing("refsetId", m.refset));
            };
            let referenced = m
                .referenced
                .parse::<u64>()
                .ok()
                .and_then(|id| index.get(&id).copied());
            let columns = &self.refsets[&m.refset].columns;
            let fields: Map<String, Json> = columns
                .iter()
                .cloned()
                .zip(m.fields.iter().map(|v| Json::String(v.clone())))
                .collect();
            if let (Some(source), Some(target)) = (referenced, fields.get("targetComponentId")) {
                association_refsets.insert(m.refset, ());
                concepts[source as usize].properties.push(PropertyValue {
                    code: m.refset.to_string(),
                    value: Value::Code(target.as_str().unwrap_or_default().to_string()),
                });
            }
            members.push(RefsetMember {
                refset,
                referenced,
                component: m.referenced.clone(),
                fields: Json::Object(fields).to_string(),
            });
        }

        links.sort_unstable();
        links.dedup();
        let closure = transitive_closure(concepts.len(), &links);
        let display_of = |id: u64| {
            index
                .get(&id)
                .and_then(|&i| concepts[i as usize].display.clone())
        };
        let concept_maps = self.concept_maps(&index, &concepts, &version, module, &release.date);
        let mut properties = vec![
            property(
                "inactive",
                PropertyType::Boolean,
                "Whether the concept is inactive",
            ),
            property(
                "effectiveTime",
                PropertyType::String,
                "When the concept's current state took effect (YYYYMMDD)",
            ),
            property(
                "moduleId",
                PropertyType::Code,
                "The module that maintains the concept",
            ),
            property(
                "sufficientlyDefined",
                PropertyType::Boolean,
                "Whether the concept is fully defined by its relationships",
            ),
            property(
                "parent",
                PropertyType::Code,
                "A direct supertype (inferred is-a)",
            ),
            property(
                "child",
                PropertyType::Code,
                "A direct subtype (inferred is-a)",
            ),
        ];
        for id in attribute_types.keys().chain(association_refsets.keys()) {
            properties.push(PropertyDef {
                code: id.to_string(),
                uri: None,
                type_: PropertyType::Code,
                description: display_of(*id),
            });
        }
        let module_name = display_of(module).unwrap_or_else(|| module.to_string());
        let title = if module == CORE_MODULE {
            "SNOMED CT International Edition".to_string()
        } else {
            format!("SNOMED CT edition of {module_name}")
        };
        let resource_id = format!("sct-{module}-{}", release.date);
        let resource = json!({
            "resourceType": "CodeSystem",
            "id": resource_id,
            "url": SNOMED,
            "version": version,
            "name": "SNOMED_CT",
            "title": title,
            "status": "active",
            "date": format!("{}-{}-{}", &release.date[..4], &release.date[4..6], &release.date[6..]),
            "publisher": "SNOMED International",
            "copyright": "This content includes SNOMED Clinical Terms® (SNOMED CT®), used by permission of SNOMED International. All rights reserved. SNOMED CT® was originally created by the College of American Pathologists.",
            "caseSensitive": false,
            "valueSet": format!("{SNOMED}?fhir_vs"),
            "hierarchyMeaning": "is-a",
            "compositional": true,
            "versionNeeded": false,
            "content": "not-present",
            "count": concepts.len(),
            "property": crate::import::fhir_json::properties_json(&properties),
        });
        let code_system = CodeSystemLoad {
            meta: CodeSystemMeta {
                id: 0,
                resource_id,
                url: SNOMED.into(),
                version,
                name: Some("SNOMED_CT".into()),
                title: Some(title),
                status: Some("active".into()),
                content: Some("complete".into()),
                hierarchy_meaning: Some("is-a".into()),
                case_sensitive: Some(false),
                value_set: Some(format!("{SNOMED}?fhir_vs")),
                language: None,
                supplements: None,
                date: resource["date"].as_str().map(str::to_owned),
                experimental: None,
                standards_status: None,
                licensed: true,
                concept_count: concepts.len() as i64,
                properties,
            },
            resource_json: resource.to_string(),
            concepts,
            links,
            closure,
            snomed: Some(Box::new(SnomedTables {
                concepts: ids
                    .iter()
                    .map(|id| {
                        let row = &self.concepts[id];
                        SctConcept {
                            module: row.module.to_string(),
                            effective_time: row.effective.clone(),
                            defined: row.defined,
                        }
                    })
                    .collect(),
                relationships,
                concrete,
                members,
                descriptions,
            })),
        };
        tracing::info!(edition = %code_system.meta.version, seconds = started.elapsed().as_secs_f64(), "SNOMED CT edition built");
        Ok(EditionLoad {
            code_system,
            concept_maps,
        })
    }

    /// One ConceptMap per map reference set (a `mapTarget` column) and per historical
    /// association reference set (a `targetComponentId` column).
    fn concept_maps(
        &self,
        index: &HashMap<u64, u32>,
        concepts: &[ConceptLoad],
        version: &str,
        module: u64,
        date: &str,
    ) -> Vec<Json> {
        let display = |code: &str| {
            code.parse::<u64>()
                .ok()
                .and_then(|id| index.get(&id))
                .and_then(|&i| concepts[i as usize].display.clone())
        };
        let mut by_refset: BTreeMap<u64, Vec<&MemberRow>> = BTreeMap::new();
        for m in &self.members {
            by_refset.entry(m.refset).or_default().push(m);
        }
        let mut maps = Vec::new();
        for (refset, rows) in by_refset {
            let columns = &self.refsets[&refset].columns;
            let col = |name: &str| columns.iter().position(|c| c == name);
            let (target_system, target_col, association) = if let Some(i) = col("targetComponentId")
            {
                (SNOMED.to_string(), i, true)
            } else if let Some(i) = col("mapTarget") {
                let name = display(&refset.to_string())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let system = if name.contains("icd-10") || name.contains("icd10") {
                    "http://hl7.org/fhir/sid/icd-10".to_string()
                } else if name.contains("icd-o") {
                    "http://terminology.hl7.org/CodeSystem/icd-o-3".to_string()
                } else {
                    format!("{SNOMED}?fhir_cm={refset}#target")
                };
                (system, i, false)
            } else {
                continue;
            };
            let equivalence = association_equivalence(refset);
            let mut elements: BTreeMap<&str, Vec<Json>> = BTreeMap::new();
            for m in rows {
                let Some(target) = m.fields.get(target_col).filter(|t| !t.is_empty()) else {
                    continue;
                };
                let mut t = Map::new();
                t.insert("code".into(), json!(target));
                if association {
                    if let Some(d) = display(target) {
                        t.insert("display".into(), json!(d));
                    }
                    t.insert("equivalence".into(), json!(equivalence));
                } else {
                    let field = |name: &str| col(name).and_then(|i| m.fields.get(i));
                    let correlation = field("correlationId").map(String::as_str).unwrap_or("");
                    t.insert("equivalence".into(), json!(map_equivalence(correlation)));
                    let mut comment = Vec::new();
                    if let (Some(g), Some(p)) = (field("mapGroup"), field("mapPriority")) {
                        comment.push(format!("group {g}, priority {p}"));
                    }
                    if let Some(rule) = field("mapRule").filter(|r| !r.is_empty()) {
                        comment.push(format!("rule: {rule}"));
                    }
                    if let Some(advice) = field("mapAdvice").filter(|r| !r.is_empty()) {
                        comment.push(format!("advice: {advice}"));
                    }
                    if !comment.is_empty() {
                        t.insert("comment".into(), json!(comment.join("; ")));
                    }
                }
                elements
                    .entry(m.referenced.as_str())
                    .or_default()
                    .push(Json::Object(t));
            }
            let element: Vec<Json> = elements
                .into_iter()
                .map(|(code, targets)| {
                    let mut e = Map::new();
                    e.insert("code".into(), json!(code));
                    if let Some(d) = display(code) {
                        e.insert("display".into(), json!(d));
                    }
                    e.insert("target".into(), Json::Array(targets));
                    Json::Object(e)
                })
                .collect();
            let name = display(&refset.to_string()).unwrap_or_else(|| refset.to_string());
            maps.push(json!({
                "resourceType": "ConceptMap",
                "id": format!("sct-cm-{refset}-{module}-{date}"),
                "url": format!("{SNOMED}?fhir_cm={refset}"),
                "version": version,
                "name": format!("SNOMED_CT_map_{refset}"),
                "title": name,
                "status": "active",
                "sourceUri": format!("{SNOMED}?fhir_vs"),
                "targetUri": if association { format!("{SNOMED}?fhir_vs") } else { target_system.clone() },
                "group": [{
                    "source": SNOMED,
                    "sourceVersion": version,
                    "target": target_system,
                    "element": element,
                }],
            }));
        }
        maps
    }
}

fn property(code: &str, type_: PropertyType, description: &str) -> PropertyDef {
    PropertyDef {
        code: code.into(),
        uri: None,
        type_,
        description: Some(description.into()),
    }
}

/// What a historical association means as a ConceptMap equivalence.
fn association_equivalence(refset: u64) -> &'static str {
    match refset {
        900000000000527005 => "equal",      // SAME AS
        900000000000526001 => "equivalent", // REPLACED BY
        900000000000523009 => "inexact",    // POSSIBLY EQUIVALENT TO
        900000000000528000 => "wider",      // WAS A
        900000000000530003 => "inexact",    // ALTERNATIVE
        900000000000524003 => "relatedto",  // MOVED TO
        _ => "relatedto",
    }
}

/// An extended map's correlation as a ConceptMap equivalence.
fn map_equivalence(correlation: &str) -> &'static str {
    match correlation {
        "447557004" => "equivalent", // exact match
        "447558009" => "wider",      // SNOMED CT source code narrower than target
        "447559001" => "narrower",   // SNOMED CT source code broader than target
        "447560006" => "inexact",    // partial overlap
        _ => "relatedto",            // not specified (447561005), or none
    }
}
