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

use super::{expand, Engine, ExpandRequest, ValueSetSource, VersionRules};
use crate::core::error::CoreResult;
use crate::core::Snapshot;
use crate::model::{ConceptSet, FilterDef, ValueSetDef};

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

    /// Compares two lists of codes of one code system, listing what they share and lack.
    fn lists(&mut self, this: &[String], other: &[String]) {
        let theirs: HashSet<&String> = other.iter().collect();
        let ours: HashSet<&String> = this.iter().collect();
        for code in this {
            if theirs.contains(code) {
                self.common = true;
                self.common_codes.push(code.clone());
            } else {
                self.left = true;
                self.missing_codes.push(code.clone());
            }
        }
        for code in other.iter().filter(|c| !ours.contains(c)) {
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
    let names = (name(&this), name(&other));
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
    let (tally, performed_expansion) = match by_definition(&mut engine, &this, &other)? {
        Some(tally) => (tally, false),
        None => match by_expansion(snap, req, &mut systems) {
            Ok(tally) => (tally, true),
            Err(reason) => {
                return Ok(Comparison {
                    relationship: Relationship::Indeterminate,
                    message: format!("Unable to compare {} and {}: {reason}", names.0, names.1),
                    performed_expansion: true,
                    common: Vec::new(),
                    missing: Vec::new(),
                    extra: Vec::new(),
                    systems,
                })
            }
        },
    };
    let relationship = tally.relationship();
    let (a, b) = names;
    let message = match relationship {
        Relationship::Same => format!("The value sets {a} and {b} contain the same codes"),
        Relationship::Subset => format!("The valueSet {a} is a sub-set of the valueSet {b}"),
        Relationship::Superset => format!("The valueSet {a} is a super-set of the valueSet {b}"),
        Relationship::Overlapping => format!(
            "Both value sets {a} and {b} contain the codes the other doesn't, but there is some overlap"
        ),
        Relationship::Disjoint => format!("No shared codes between the value sets {a} and {b}"),
        Relationship::Empty => format!("Both the value sets {a} and {b} are empty"),
        Relationship::Indeterminate => format!("Unable to compare {a} and {b}"),
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
    match (whole(ours), whole(theirs)) {
        (true, true) => {
            tally.common = true;
            return Ok(true);
        }
        (true, false) => {
            tally.common = true;
            tally.left = true;
            return Ok(true);
        }
        (false, true) => {
            tally.common = true;
            tally.right = true;
            return Ok(true);
        }
        (false, false) => {}
    }
    let (ours, theirs) = (Normalised::of(ours), Normalised::of(theirs));
    match (ours.sets.as_slice(), theirs.sets.as_slice()) {
        ([Part::Codes(a)], [Part::Codes(b)]) => {
            tally.lists(a, b);
            Ok(true)
        }
        ([Part::Filters(a)], [Part::Filters(b)]) if a == b => {
            tally.common = true;
            Ok(true)
        }
        ([Part::Filters(a)], [Part::Filters(b)]) => match (subtree(a), subtree(b)) {
            (Some(x), Some(y)) => compare_subtrees(engine, system, version, x, y, tally),
            _ => Ok(false),
        },
        (a, b) if a == b => {
            tally.common = true;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// One code system's includes with order made irrelevant: the listed codes of all
/// includes in one sorted list, and each include's filters sorted.
struct Normalised {
    sets: Vec<Part>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Codes(Vec<String>),
    Filters(Vec<(String, String, String)>),
}

impl Normalised {
    fn of(sets: &[&ConceptSet]) -> Self {
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
                    .map(
                        |FilterDef {
                             property,
                             op,
                             value,
                         }| (property.clone(), op.clone(), value.clone()),
                    )
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
        Normalised { sets: parts }
    }
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
    let key = |i: &super::ExpansionItem| (i.system.clone(), i.code.clone());
    let theirs: HashSet<(String, String)> = other.items.iter().map(key).collect();
    let ours: HashSet<(String, String)> = this.items.iter().map(key).collect();
    let mut tally = Tally::default();
    for item in &this.items {
        if theirs.contains(&key(item)) {
            tally.common = true;
            tally.common_codes.push(item.code.clone());
        } else {
            tally.left = true;
            tally.missing_codes.push(item.code.clone());
        }
    }
    for item in other.items.iter().filter(|i| !ours.contains(&key(i))) {
        tally.right = true;
        tally.extra_codes.push(item.code.clone());
    }
    Ok(tally)
}
