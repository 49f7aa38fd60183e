//! `ConceptMap/$translate` (R4): mappings of a code, forward (source → target) or in
//! reverse, from one named map or from every loaded map, answered from the map element
//! table indexed both ways.

use super::catalog::{compare_versions, split_canonical};
use super::error::{CoreError, CoreResult};
use super::Snapshot;
use crate::model::{CanonicalHeader, Coding};

/// The inputs of `$translate`.
#[derive(Debug, Clone, Default)]
pub struct TranslateRequest {
    /// The concept map's canonical (`url`), if one is named.
    pub map_url: Option<String>,
    pub map_version: Option<String>,
    pub system: Option<String>,
    pub code: String,
    /// Value set scope of the source side (`source`), matched against the map's.
    pub source_scope: Option<String>,
    /// Value set scope of the target side (`target`), matched against the map's.
    pub target_scope: Option<String>,
    /// Only mappings into this code system (`targetsystem`).
    pub target_system: Option<String>,
    /// Translate from target to source.
    pub reverse: bool,
    /// Facts about the source that mappings may depend on (`dependency`).
    pub dependencies: Vec<Dependency>,
}

/// One `dependency` of a `$translate` request: an element (property) and its value(s).
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub element: String,
    pub values: Vec<Coding>,
}

/// A stored `target.dependsOn` entry (kept in FHIR's own shape).
#[derive(Debug, Clone, serde::Deserialize)]
struct DependsOn {
    property: String,
    system: Option<String>,
    value: String,
}

/// Whether every `dependsOn` of a mapping is satisfied by the request's dependencies.
fn dependencies_hold(depends_on: Option<&str>, given: &[Dependency]) -> bool {
    let Some(json) = depends_on else {
        return true;
    };
    let Ok(required) = serde_json::from_str::<Vec<DependsOn>>(json) else {
        return false;
    };
    required.iter().all(|r| {
        given.iter().any(|d| {
            d.element == r.property
                && d.values.iter().any(|v| {
                    v.code.as_deref() == Some(r.value.as_str())
                        && (r.system.is_none() || v.system.is_none() || v.system == r.system)
                })
        })
    })
}

/// One mapping found.
#[derive(Debug, Clone)]
pub struct TranslateMatch {
    pub equivalence: String,
    pub concept: Option<Coding>,
    /// `url|version` of the concept map that holds the mapping.
    pub source: String,
    pub comment: Option<String>,
    /// The mapping's `product` entries, as stored (FHIR `target.product` JSON).
    pub product: Option<String>,
}

/// The answer of `$translate`.
#[derive(Debug, Clone)]
pub struct TranslateResult {
    pub result: bool,
    pub message: Option<String>,
    pub matches: Vec<TranslateMatch>,
}

/// Equivalences that say the concepts do not match.
const NEGATIVE: &[&str] = &["unmatched", "disjoint"];

/// How many `other-map` hops an unmapped code may take before the chain is refused.
const MAX_MAP_CHAIN: usize = 5;

/// Translates a code through the named map, or through every loaded map.
pub fn translate(snap: &Snapshot, req: &TranslateRequest) -> CoreResult<TranslateResult> {
    let matches = find_matches(snap, req, 0)?;
    let result = matches
        .iter()
        .any(|m| !NEGATIVE.contains(&m.equivalence.as_str()));
    let message = (!result).then(|| match &req.system {
        Some(system) => format!("No mappings could be found for {system}#{}", req.code),
        None => format!("No mappings could be found for the code '{}'", req.code),
    });
    Ok(TranslateResult {
        result,
        message,
        matches,
    })
}

fn find_matches(
    snap: &Snapshot,
    req: &TranslateRequest,
    depth: usize,
) -> CoreResult<Vec<TranslateMatch>> {
    if depth > MAX_MAP_CHAIN {
        return Err(CoreError::invalid(format!(
            "The concept maps' unmapped 'other-map' rules chain more than {MAX_MAP_CHAIN} maps deep"
        )));
    }
    let maps: Vec<&(i64, CanonicalHeader)> = match &req.map_url {
        Some(url) => {
            let (url, pipe_version) = split_canonical(url);
            let version = req.map_version.as_deref().or(pipe_version);
            let best = snap
                .catalog
                .concept_maps
                .iter()
                .filter(|(_, h)| h.url == url && version.is_none_or(|v| h.version == v))
                .max_by(|a, b| compare_versions(&a.1.version, &b.1.version))
                .ok_or_else(|| {
                    CoreError::not_found(format!(
                        "A definition for the ConceptMap '{url}' could not be found"
                    ))
                    .at("url")
                })?;
            vec![best]
        }
        None => snap.catalog.concept_maps.iter().collect(),
    };
    let mut matches = Vec::new();
    for (map_id, header) in maps {
        if req.source_scope.is_some() || req.target_scope.is_some() {
            let (source, target) = snap.txn.concept_map_scope(*map_id)?;
            let (source, target) = if req.reverse {
                (target, source)
            } else {
                (source, target)
            };
            if req
                .source_scope
                .as_ref()
                .is_some_and(|s| Some(s) != source.as_ref())
                || req
                    .target_scope
                    .as_ref()
                    .is_some_and(|t| Some(t) != target.as_ref())
            {
                continue;
            }
        }
        let map_name = if header.version.is_empty() {
            header.url.clone()
        } else {
            format!("{}|{}", header.url, header.version)
        };
        let rows =
            snap.txn
                .map_elements(req.system.as_deref(), &req.code, req.reverse, Some(*map_id))?;
        if rows.is_empty() && !req.reverse {
            matches.extend(unmapped(snap, req, *map_id, &map_name, depth)?);
        }
        for (_, e) in rows {
            if !req.reverse && !dependencies_hold(e.depends_on.as_deref(), &req.dependencies) {
                continue;
            }
            let (system, version, code, display) = if req.reverse {
                (
                    e.source_system,
                    e.source_version,
                    Some(e.source_code),
                    e.source_display,
                )
            } else {
                (
                    e.target_system,
                    e.target_version,
                    e.target_code,
                    e.target_display,
                )
            };
            if req
                .target_system
                .as_ref()
                .is_some_and(|t| system.as_ref() != Some(t))
            {
                continue;
            }
            matches.push(TranslateMatch {
                equivalence: e.equivalence,
                concept: code.map(|code| Coding {
                    system,
                    version,
                    code: Some(code),
                    display,
                }),
                source: map_name.clone(),
                comment: e.comment,
                product: e.product,
            });
        }
    }
    Ok(matches)
}

/// Applies a map's `group.unmapped` rules to a code the map has no element for.
fn unmapped(
    snap: &Snapshot,
    req: &TranslateRequest,
    map_id: i64,
    map_name: &str,
    depth: usize,
) -> CoreResult<Vec<TranslateMatch>> {
    let mut out = Vec::new();
    for rule in snap.txn.unmapped_rules(map_id)? {
        if req.system.is_some() && rule.source_system.is_some() && rule.source_system != req.system
        {
            continue;
        }
        if req.target_system.is_some()
            && rule.target_system != req.target_system
            && rule.mode != "other-map"
        {
            continue;
        }
        let fixed =
            |code: Option<String>, display: Option<String>, equivalence: &str| TranslateMatch {
                equivalence: equivalence.to_string(),
                concept: Some(Coding {
                    system: rule.target_system.clone(),
                    version: None,
                    code,
                    display,
                }),
                source: map_name.to_string(),
                comment: None,
                product: None,
            };
        match rule.mode.as_str() {
            "provided" => out.push(fixed(Some(req.code.clone()), None, "equal")),
            "fixed" => out.push(fixed(rule.code.clone(), rule.display.clone(), "equivalent")),
            "other-map" => {
                if let Some(url) = &rule.url {
                    let next = TranslateRequest {
                        map_url: Some(url.clone()),
                        map_version: None,
                        ..req.clone()
                    };
                    out.extend(find_matches(snap, &next, depth + 1)?);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}
