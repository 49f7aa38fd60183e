//! An independent reading of the synthetic RF2 fixture, for the SNOMED CT tests' expected
//! answers: plain maps built straight from the tab-separated files, with the hierarchy
//! walked breadth-first here rather than read from the server's closure. Nothing in this
//! module uses the importer or the ECL evaluator.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

pub const IS_A: &str = "116680003";
pub const FSN: &str = "900000000000003001";
pub const SYNONYM: &str = "900000000000013009";
pub const PREFERRED: &str = "900000000000548007";
pub const US: &str = "900000000000509007";
pub const GB: &str = "900000000000508004";
pub const DEFINED: &str = "900000000000073002";

/// One release folder's rows, by file kind.
pub struct Rf2 {
    pub concepts: BTreeMap<String, Row>,
    /// description id → row
    pub descriptions: BTreeMap<String, Row>,
    /// active inferred relationships
    pub relationships: Vec<Row>,
    pub concrete: Vec<Row>,
    /// active members of every refset file, with the file's header
    pub members: Vec<Row>,
}

/// A row as column name → value.
pub type Row = HashMap<String, String>;

fn read_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split('\t')
        .map(str::to_owned)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

impl Rf2 {
    /// Reads the Snapshot files of every release folder under `root` whose name contains
    /// one of `folders` (the International release, and for an edition its extension).
    pub fn read(root: &Path, folders: &[&str]) -> Rf2 {
        let mut all = Vec::new();
        files(root, &mut all);
        all.sort();
        let mut rf2 = Rf2 {
            concepts: BTreeMap::new(),
            descriptions: BTreeMap::new(),
            relationships: Vec::new(),
            concrete: Vec::new(),
            members: Vec::new(),
        };
        for path in all {
            let p = path.to_string_lossy().to_string();
            if !folders.iter().any(|f| p.contains(f)) || !p.contains("/Snapshot/") {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let rows = || read_rows(&path);
            let active = |r: &Row| r["active"] == "1";
            if name.starts_with("sct2_Concept_") {
                for r in rows() {
                    rf2.concepts.insert(r["id"].clone(), r);
                }
            } else if name.starts_with("sct2_Description_")
                || name.starts_with("sct2_TextDefinition_")
            {
                for r in rows() {
                    rf2.descriptions.insert(r["id"].clone(), r);
                }
            } else if name.starts_with("sct2_Relationship_") {
                rf2.relationships.extend(
                    rows()
                        .into_iter()
                        .filter(|r| active(r) && r["characteristicTypeId"] == "900000000000011006"),
                );
            } else if name.starts_with("sct2_RelationshipConcreteValues_") {
                rf2.concrete.extend(rows().into_iter().filter(active));
            } else if name.starts_with("der2_") {
                rf2.members.extend(rows().into_iter().filter(active));
            }
        }
        rf2
    }

    pub fn is_active(&self, id: &str) -> bool {
        self.concepts.get(id).is_some_and(|r| r["active"] == "1")
    }

    pub fn active(&self) -> BTreeSet<String> {
        self.concepts
            .keys()
            .filter(|id| self.is_active(id))
            .cloned()
            .collect()
    }

    /// child → parents, over active inferred is-a.
    pub fn parents(&self) -> HashMap<String, BTreeSet<String>> {
        let mut map: HashMap<String, BTreeSet<String>> = HashMap::new();
        for r in self.relationships.iter().filter(|r| r["typeId"] == IS_A) {
            map.entry(r["sourceId"].clone())
                .or_default()
                .insert(r["destinationId"].clone());
        }
        map
    }

    /// parent → children.
    pub fn children(&self) -> HashMap<String, BTreeSet<String>> {
        let mut map: HashMap<String, BTreeSet<String>> = HashMap::new();
        for r in self.relationships.iter().filter(|r| r["typeId"] == IS_A) {
            map.entry(r["destinationId"].clone())
                .or_default()
                .insert(r["sourceId"].clone());
        }
        map
    }

    /// Proper descendants, breadth-first over the children map.
    pub fn descendants(&self, id: &str) -> BTreeSet<String> {
        walk(&self.children(), id)
    }

    /// Proper ancestors, breadth-first over the parents map.
    pub fn ancestors(&self, id: &str) -> BTreeSet<String> {
        walk(&self.parents(), id)
    }

    /// Active attribute relationships (not is-a) as (source, type, destination, group).
    pub fn attributes(&self) -> Vec<(String, String, String, u32)> {
        self.relationships
            .iter()
            .filter(|r| r["typeId"] != IS_A)
            .map(|r| {
                (
                    r["sourceId"].clone(),
                    r["typeId"].clone(),
                    r["destinationId"].clone(),
                    r["relationshipGroup"].parse().unwrap(),
                )
            })
            .collect()
    }

    /// Active members of a refset.
    pub fn members_of(&self, refset: &str) -> Vec<&Row> {
        self.members
            .iter()
            .filter(|m| m["refsetId"] == refset)
            .collect()
    }

    /// The preferred synonym of a concept in a language refset.
    pub fn preferred_term(&self, concept: &str, refset: &str) -> Option<String> {
        let preferred: BTreeSet<&str> = self
            .members_of(refset)
            .into_iter()
            .filter(|m| m.get("acceptabilityId").map(String::as_str) == Some(PREFERRED))
            .map(|m| m["referencedComponentId"].as_str())
            .collect();
        self.descriptions
            .values()
            .find(|d| {
                d["conceptId"] == concept
                    && d["active"] == "1"
                    && d["typeId"] == SYNONYM
                    && preferred.contains(d["id"].as_str())
            })
            .map(|d| d["term"].clone())
    }

    /// The active FSN of a concept.
    pub fn fsn(&self, concept: &str) -> Option<String> {
        self.descriptions
            .values()
            .find(|d| d["conceptId"] == concept && d["active"] == "1" && d["typeId"] == FSN)
            .map(|d| d["term"].clone())
    }
}

fn walk(edges: &HashMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&str> = VecDeque::from([start]);
    while let Some(id) = queue.pop_front() {
        for next in edges.get(id).into_iter().flatten() {
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    seen
}
