//! `$closure` (R4): named closure tables that a client grows concept by concept, each
//! addition answered with the new subsumption pairs it creates among the table's
//! concepts (from the precomputed closure), and replayable from any earlier version.
//!
//! Tables live in memory for the life of the server process; a restart forgets them
//! (clients then re-initialise, as the specification allows a server to require).

use std::collections::HashMap;
use std::sync::Mutex;

use super::error::{CoreError, CoreResult};
use super::Snapshot;
use crate::model::Coding;

/// The inputs of `$closure`.
#[derive(Debug, Clone, Default)]
pub struct ClosureRequest {
    pub name: String,
    pub concepts: Vec<Coding>,
    /// Replay every change after this table version instead of adding concepts.
    pub version: Option<String>,
}

/// One new subsumption: `source` is subsumed by `target`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosureEntry {
    pub source: Coding,
    pub target: Coding,
}

/// The answer of `$closure`: the table's current version and the entries to add.
#[derive(Debug, Clone)]
pub struct ClosureResult {
    pub name: String,
    pub version: u64,
    pub entries: Vec<ClosureEntry>,
}

#[derive(Default)]
struct Table {
    /// (concept id, coding) of every concept added so far.
    members: Vec<(i64, Coding)>,
    /// The entries each version added; version `n` is `batches[n - 1]`.
    batches: Vec<Vec<ClosureEntry>>,
}

/// Every closure table of this server.
#[derive(Default)]
pub struct ClosureTables {
    tables: Mutex<HashMap<String, Table>>,
}

impl ClosureTables {
    /// Answers one `$closure` call.
    pub fn closure(&self, snap: &Snapshot, req: &ClosureRequest) -> CoreResult<ClosureResult> {
        if req.name.trim().is_empty() {
            return Err(
                CoreError::invalid("$closure needs the 'name' of the closure table").at("name"),
            );
        }
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        if req.concepts.is_empty() && req.version.is_none() {
            tables.entry(req.name.clone()).or_default();
            let version = tables[&req.name].batches.len() as u64;
            return Ok(ClosureResult {
                name: req.name.clone(),
                version,
                entries: Vec::new(),
            });
        }
        let table = tables.get_mut(&req.name).ok_or_else(|| {
            CoreError::not_found(format!(
                "The closure table '{}' is not known: initialise it with a $closure call without concepts",
                req.name
            ))
            .at("name")
        })?;
        if let Some(version) = &req.version {
            let since: usize = version.parse().map_err(|_| {
                CoreError::invalid(format!("The closure version '{version}' is not a number"))
                    .at("version")
            })?;
            let entries = table
                .batches
                .iter()
                .skip(since)
                .flatten()
                .cloned()
                .collect();
            return Ok(ClosureResult {
                name: req.name.clone(),
                version: table.batches.len() as u64,
                entries,
            });
        }
        // Resolve every concept first, so a bad one changes nothing.
        let mut resolved = Vec::new();
        for coding in &req.concepts {
            let (Some(system), Some(code)) = (&coding.system, &coding.code) else {
                return Err(CoreError::invalid(
                    "Every concept of $closure needs a system and a code",
                )
                .at("concept"));
            };
            let cs = snap
                .catalog
                .resolve(system, coding.version.as_deref())
                .map_err(|e| {
                    e.into_error(system, coding.version.as_deref())
                        .at("concept")
                })?;
            let concept = snap.txn.concept(cs.id, code)?.ok_or_else(|| {
                CoreError::not_found(format!(
                    "Unknown code '{code}' in the CodeSystem '{system}'"
                ))
                .at("concept")
            })?;
            let coding = Coding {
                system: Some(cs.url.clone()),
                version: None,
                code: Some(concept.code.clone()),
                display: concept.display.clone(),
            };
            resolved.push((concept.id, coding));
        }
        let mut batch = Vec::new();
        for (id, coding) in resolved {
            if table.members.iter().any(|(m, _)| *m == id) {
                continue;
            }
            for (other, other_coding) in &table.members {
                if other_coding.system != coding.system {
                    continue;
                }
                if snap.txn.is_ancestor(*other, id)? {
                    batch.push(ClosureEntry {
                        source: coding.clone(),
                        target: other_coding.clone(),
                    });
                } else if snap.txn.is_ancestor(id, *other)? {
                    batch.push(ClosureEntry {
                        source: other_coding.clone(),
                        target: coding.clone(),
                    });
                }
            }
            table.members.push((id, coding));
        }
        table.batches.push(batch.clone());
        Ok(ClosureResult {
            name: req.name.clone(),
            version: table.batches.len() as u64,
            entries: batch,
        })
    }
}
