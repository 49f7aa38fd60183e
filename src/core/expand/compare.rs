//! `ValueSet/$compare`: how two value sets relate (the same codes, one a subset of the
//! other, overlapping, disjoint), for validators that must tell whether a binding may
//! be replaced by another.
//!
//! The definitions are compared first, one code system at a time: identical includes,
//! whole code systems, two lists of codes, or two `is-a` subtrees (decided by the
//! precomputed closure, so exactly, also in a polyhierarchy). Anything the definitions
//! cannot settle (excludes, imports, other filters, a filter against a list, different
//! code system versions) is settled by expanding both value sets and comparing codes;
//! when an expansion fails (too large, unknown code system, not closed), the answer is
//! `indeterminate`, with the reason.

use std::collections::HashSet;
use std::hash::Hash;

use super::{expand, Engine, ExpandRequest, ValueSetSource, VersionRules};
use crate::core::error::CoreResult;
use crate::core::Snapshot;
use crate::model::{ConceptSet, ValueSetDef};

/// The largest expansion a comparison makes of either value set.
const COMPARE_LIMIT: usize = 10_000;

/// The inputs of `$compare`: the two value sets, and the version rules their code
/// systems are taken with.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    pub this: ValueSetSource,
    pub other: ValueSetSource,
    pub versions: VersionRules,
}

/// How the first value set relates to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relationship {
    Same,
    /// Every code of the first is in the other, which has more.
    Subset,
    /// Every code of the other is in the first, which has more.
    Superset,
    Overlapping,
    Disjoint,
    /// Neither value set has any code.
    Empty,
    /// The server cannot tell (an expansion failed).
    Indeterminate,
}

impl Relationship {
    /// The code answers carry (`result`).
    pub fn code(self) -> &'static str {
        match self {
            Relationship::Same => "same",
            Relationship::Subset => "subset",
            Relationship::Superset => "superset",
            Relationship::Overlapping => "overlapping",
            Relationship::Disjoint => "disjoint",
            Relationship::Empty => "empty",
            Relationship::Indeterminate => "indeterminate",
        }
    }
}

/// The answer of `$compare`.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub relationship: Relationship,
    /// The relationship in words, naming both value sets.
    pub message: String,
    /// Whether both value sets had to be expanded.
    pub performed_expansion: bool,
    /// Codes in both value sets, as far as the comparison listed them.
    pub common: Vec<String>,
    /// Codes of the first value set the other lacks.
    pub missing: Vec<String>,
    /// Codes of the other value set the first lacks.
    pub extra: Vec<String>,
    /// The code systems the comparison drew on (what the answer discloses).
    pub systems: Vec<String>,
}

/// What the comparison has found so far: whether the value sets share codes, and whether
/// either has codes the other lacks.
#[derive(Debug, Default)]
struct Tally {
    common: bool,
    left: bool,
    right: bool,
    common_codes: Vec<String>,
    missing_codes: Vec<String>,
    extra_codes: Vec<String>,
}

impl Tally {
    fn relationship(&self) -> Relationship {
        match (self.common, self.left, self.right) {
            (false, false, false) => Relationship::Empty,
            (false, _, _) => Relationship::Disjoint,
            (true, false, false) => Relationship::Same,
            (true, true, true) => Relationship::Overlapping,
            (true, true, false) => Relationship::Superset,
            (true, false, true) => Relationship::Subset,
        }
    }

    /// Compares two lists of codes, each with the key that makes it the same code in the
    /// other list (the code itself within one code system; system and code across
    /// expansions), listing what they share and lack in each list's order.
    fn lists<K: Eq + Hash>(&mut self, this: &[(K, String)], other: &[(K, String)]) {
        let theirs: HashSet<&K> = other.iter().map(|(k, _)| k).collect();
        let ours: HashSet<&K> = this.iter().map(|(k, _)| k).collect();
        for (key, code) in this {
            if theirs.contains(key) {
                self.common = true;
                self.common_codes.push(code.clone());
            } else {
                self.left = true;
                self.missing_codes.push(code.clone());
            }
        }
        for (_, code) in other.iter().filter(|(k, _)| !ours.contains(k)) {
            self.right = true;
            self.extra_codes.push(code.clone());
        }
    }
}

/// Compares two value sets.
pub fn compare(snap: &Snapshot, req: &CompareRequest) -> CoreResult<Comparison> {
    let mut engine = Engine::new(snap, &req.versions, None);
    let this = engine.source(&req.this)?;
    let other = engine.source(&req.other)?;
    let mut systems: Vec<String> = Vec::new();
    for vs in [&this, &other] {
        for set in vs
            .compose
            .iter()
            .flat_map(|c| c.include.iter().chain(&c.exclude))
        {
            if let Some(s) = &set.system {
                if !systems.contains(s) {
                    systems.push(s.clone());
                }
            }
        }
    }
    let found = match by_definition(&mut engine, &this, &other)? {
        Some(tally) => Ok((tally, false)),
        None => by_expansion(snap, req, &mut systems).map(|tally| (tally, true)),
    };
    let (relationship, tally, performed_expansion, reason) = match found {
        Ok((tally, expanded)) => (tally.relationship(), tally, expanded, String::new()),
        Err(reason) => (Relationship::Indeterminate, Tally::default(), true, reason),
    };
    let (a, b) = (name(&this), name(&other));
    let message = match relationship {
        Relationship::Same => format!("The value sets {a} and {b} contain the same codes"),
        Relationship::Subset => format!("The valueSet {a} is a sub-set of the valueSet {b}"),
        Relationship::Superset => format!("The valueSet {a} is a super-set of the valueSet {b}"),
        Relationship::Overlapping => format!(
            "Both value sets {a} and {b} contain the codes the other doesn't, but there is some overlap"
        ),
        Relationship::Disjoint => format!("No shared codes between the value sets {a} and {b}"),
        Relationship::Empty => format!("Both the value sets {a} and {b} are empty"),
        Relationship::Indeterminate => format!("Unable to compare {a} and {b}: {reason}"),
    };
    // Two expansions found to be the same are not listed back: the list is either one.
    let listed = !(performed_expansion && relationship == Relationship::Same);
    let keep = |codes: Vec<String>| if listed { codes } else { Vec::new() };
    Ok(Comparison {
        relationship,
        message,
        performed_expansion,
        common: keep(tally.common_codes),
        missing: keep(tally.missing_codes),
        extra: keep(tally.extra_codes),
        systems,
    })
}

/// How answers name a value set: `url|version`, or its title for one without a url.
fn name(vs: &ValueSetDef) -> String {
    vs.canonical()
        .or_else(|| vs.title.clone())
        .unwrap_or_else(|| "(unnamed value set)".into())
}

/// Compares the two definitions, one code system at a time; `None` when the
/// definitions cannot settle it and the expansions must.
fn by_definition(
    engine: &mut Engine,
    this: &ValueSetDef,
    other: &ValueSetDef,
) -> CoreResult<Option<Tally>> {
    let (Some(a), Some(b)) = (&this.compose, &other.compose) else {
        return Ok(None);
    };
    let simple = |c: &crate::model::Compose| {
        c.exclude.is_empty()
            && c.locked_date.is_none()
            && c.include
                .iter()
                .all(|i| i.system.is_some() && i.value_sets.is_empty())
    };
    if !simple(a) || !simple(b) || a.inactive != b.inactive {
        return Ok(None);
    }
    // Includes grouped by code system, in the order the systems first appear.
    let mut groups: Vec<(&str, Vec<&ConceptSet>, Vec<&ConceptSet>)> = Vec::new();
    for (side, sets) in [(0, &a.include), (1, &b.include)] {
        for set in sets {
            let system = set.system.as_deref().unwrap_or_default();
            let at = match groups.iter().position(|g| g.0 == system) {
                Some(at) => at,
                None => {
                    groups.push((system, Vec::new(), Vec::new()));
                    groups.len() - 1
                }
            };
            if side == 0 {
                groups[at].1.push(set);
            } else {
                groups[at].2.push(set);
            }
        }
    }
    let mut tally = Tally::default();
    for (system, ours, theirs) in groups {
        if ours.is_empty() {
            tally.right = true;
            continue;
        }
        if theirs.is_empty() {
            tally.left = true;
            continue;
        }
        if !compare_system(engine, system, &ours, &theirs, &mut tally)? {
            return Ok(None);
        }
    }
    Ok(Some(tally))
}

/// Compares the includes both value sets make of one code system; `false` when the
/// definitions cannot tell.
fn compare_system(
    engine: &mut Engine,
    system: &str,
    ours: &[&ConceptSet],
    theirs: &[&ConceptSet],
    tally: &mut Tally,
) -> CoreResult<bool> {
    let version = ours[0].version.as_deref();
    let one_version = ours
        .iter()
        .chain(theirs)
        .all(|s| s.version.as_deref() == version);
    let mixed = |s: &&ConceptSet| !s.concepts.is_empty() && !s.filters.is_empty();
    if !one_version || ours.iter().chain(theirs).any(mixed) {
        return Ok(false);
    }
    let whole = |sets: &[&ConceptSet]| {
        sets.iter()
            .any(|s| s.concepts.is_empty() && s.filters.is_empty())
    };
    // A whole code system holds every include of it the other side makes.
    let (whole_ours, whole_theirs) = (whole(ours), whole(theirs));
    if whole_ours || whole_theirs {
        tally.common = true;
        tally.left |= !whole_theirs;
        tally.right |= !whole_ours;
        return Ok(true);
    }
    let keyed = |codes: &[String]| -> Vec<(String, String)> {
        codes.iter().map(|c| (c.clone(), c.clone())).collect()
    };
    match (parts(ours).as_slice(), parts(theirs).as_slice()) {
        // Two lists are compared code by code, and listed, even when equal.
        ([Part::Codes(a)], [Part::Codes(b)]) => {
            tally.lists(&keyed(a), &keyed(b));
            Ok(true)
        }
        (a, b) if a == b => {
            tally.common = true;
            Ok(true)
        }
        ([Part::Filters(a)], [Part::Filters(b)]) => match (subtree(a), subtree(b)) {
            (Some(x), Some(y)) => compare_subtrees(engine, system, version, x, y, tally),
            _ => Ok(false),
        },
        _ => Ok(false),
    }
}

/// One part of a code system's includes: listed codes, or one include's filters.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Codes(Vec<String>),
    Filters(Vec<(String, String, String)>),
}

/// One code system's includes with order made irrelevant: the listed codes of all
/// includes in one sorted list first, then each include's filters, sorted.
fn parts(sets: &[&ConceptSet]) -> Vec<Part> {
    let mut codes: Vec<String> = Vec::new();
    let mut parts: Vec<Part> = Vec::new();
    for set in sets {
        if set.filters.is_empty() {
            for c in &set.concepts {
                if !codes.contains(&c.code) {
                    codes.push(c.code.clone());
                }
            }
        } else {
            let mut filters: Vec<(String, String, String)> = set
                .filters
                .iter()
                .map(|f| (f.property.clone(), f.op.clone(), f.value.clone()))
                .collect();
            filters.sort();
            parts.push(Part::Filters(filters));
        }
    }
    parts.sort();
    if !codes.is_empty() {
        codes.sort();
        parts.insert(0, Part::Codes(codes));
    }
    parts
}

/// The root code of an include that is exactly one `is-a` subtree.
fn subtree(filters: &[(String, String, String)]) -> Option<&str> {
    match filters {
        [(property, op, value)] if property == "concept" && op == "is-a" => Some(value),
        _ => None,
    }
}

/// Two `is-a` subtrees of one code system, decided by the closure: one contains the
/// other, or they share a descendant (overlapping), or none (disjoint).
fn compare_subtrees(
    engine: &mut Engine,
    system: &str,
    version: Option<&str>,
    ours: &str,
    theirs: &str,
    tally: &mut Tally,
) -> CoreResult<bool> {
    let Ok(cs) = engine.code_system(system, version) else {
        return Ok(false);
    };
    let txn = &engine.snap.txn;
    let (Some(a), Some(b)) = (txn.concept(cs.id, ours)?, txn.concept(cs.id, theirs)?) else {
        return Ok(false);
    };
    if a.id == b.id {
        tally.common = true;
    } else if txn.is_ancestor(a.id, b.id)? {
        tally.common = true;
        tally.left = true;
    } else if txn.is_ancestor(b.id, a.id)? {
        tally.common = true;
        tally.right = true;
    } else {
        let below_a: HashSet<i64> = txn.descendant_ids(a.id)?.into_iter().collect();
        let shared = txn
            .descendant_ids(b.id)?
            .into_iter()
            .any(|id| below_a.contains(&id));
        tally.common |= shared;
        tally.left = true;
        tally.right = true;
    }
    Ok(true)
}

/// Expands both value sets and compares their codes (system and code; the code system
/// version does not make a code different). `Err` is why the expansions cannot tell.
fn by_expansion(
    snap: &Snapshot,
    req: &CompareRequest,
    systems: &mut Vec<String>,
) -> Result<Tally, String> {
    let expand_one = |source: &ValueSetSource| {
        let request = ExpandRequest {
            source: source.clone(),
            filter: None,
            offset: 0,
            count: None,
            active_only: false,
            include_designations: false,
            include_definition: false,
            display_language: None,
            limit: COMPARE_LIMIT,
            exclude_not_for_ui: false,
            properties: Vec::new(),
            versions: req.versions.clone(),
            date: None,
            designations: Vec::new(),
            supplements: Vec::new(),
            exclude_nested: Some(true),
        };
        expand(snap, &request).map_err(|e| format!("This expansion failed: {}", e.message))
    };
    let this = expand_one(&req.this)?;
    let other = expand_one(&req.other)?;
    for e in [&this, &other] {
        if let Some(fragment) = e.used_fragments.first() {
            return Err(format!(
                "The code system {fragment} is a fragment, so the expansion is not complete"
            ));
        }
        for used in &e.used_code_systems {
            let url = used.split('|').next().unwrap_or_default().to_string();
            if !systems.contains(&url) {
                systems.push(url);
            }
        }
    }
    let keyed = |e: &super::Expansion| -> Vec<((String, String), String)> {
        e.items
            .iter()
            .map(|i| ((i.system.clone(), i.code.clone()), i.code.clone()))
            .collect()
    };
    let mut tally = Tally::default();
    tally.lists(&keyed(&this), &keyed(&other));
    Ok(tally)
}
