//! `compose.include.filter` evaluation: each filter becomes the sorted set of concept ids
//! of one code system version it selects (closure lookups for the hierarchy operators),
//! or answers for one concept whether it is selected (for `$validate-code`, without
//! expanding).

use std::collections::HashSet;

use regex::{Regex, RegexBuilder};

use crate::core::error::{CoreError, CoreResult};
use crate::core::Snapshot;
use crate::model::{CodeSystemMeta, Concept, FilterDef, Value};

/// The longest regex pattern accepted, and the compiled-size budget: `regex` runs in
/// linear time, so these bound the cost of a hostile pattern.
const MAX_PATTERN: usize = 1_000;
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Concept ids of `cs` selected by `filter`, sorted ascending.
pub fn filter_ids(
    snap: &Snapshot,
    cs: &CodeSystemMeta,
    filter: &FilterDef,
) -> CoreResult<Vec<i64>> {
    let all = || snap.txn.concept_ids(cs.id);
    let by_code =
        |code: &str| -> CoreResult<Option<Concept>> { Ok(snap.txn.concept(cs.id, code)?) };
    if cs.url == crate::model::snomed::SNOMED {
        match (filter.property.as_str(), filter.op.as_str()) {
            ("constraint" | "expression", "=") => {
                return crate::core::ecl::evaluate_text(snap, cs, &filter.value)
            }
            ("refset", "exists") if filter.value == "true" => {
                return Ok(snap.txn.sct_refsets(cs.id)?)
            }
            _ => {}
        }
        // SNOMED CT's concept facts and attributes live in its own tables: the filters
        // on them are the ECL that says the same.
        if let Some(ecl) = snomed_property_as_ecl(filter)? {
            return crate::core::ecl::evaluate_text(snap, cs, &ecl);
        }
    }
    let mut ids = match (hierarchy_property(&filter.property), filter.op.as_str()) {
        (true, "is-a") => match by_code(&filter.value)? {
            Some(c) => with(snap.txn.descendant_ids(c.id)?, c.id),
            None => Vec::new(),
        },
        (true, "descendent-of") => match by_code(&filter.value)? {
            Some(c) => snap.txn.descendant_ids(c.id)?,
            None => Vec::new(),
        },
        (true, "is-not-a") => {
            let excluded: HashSet<i64> = match by_code(&filter.value)? {
                Some(c) => with(snap.txn.descendant_ids(c.id)?, c.id)
                    .into_iter()
                    .collect(),
                None => HashSet::new(),
            };
            all()?
                .into_iter()
                .filter(|id| !excluded.contains(id))
                .collect()
        }
        (true, "generalizes") => match by_code(&filter.value)? {
            Some(c) => with(snap.txn.ancestor_ids(c.id)?, c.id),
            None => Vec::new(),
        },
        (true, "child-of") => match by_code(&filter.value)? {
            Some(c) => snap.txn.child_ids(c.id)?,
            None => Vec::new(),
        },
        (true, "descendent-leaf") => match by_code(&filter.value)? {
            Some(c) => {
                let mut leaves = Vec::new();
                for id in snap.txn.descendant_ids(c.id)? {
                    if !snap.txn.has_children(id)? {
                        leaves.push(id);
                    }
                }
                leaves
            }
            None => Vec::new(),
        },
        (true, "=") => by_code(&filter.value)?
            .map(|c| vec![c.id])
            .unwrap_or_default(),
        (true, "in") | (true, "not-in") => {
            let mut listed = Vec::new();
            for code in split_list(&filter.value) {
                if let Some(c) = by_code(code)? {
                    listed.push(c.id);
                }
            }
            if filter.op == "in" {
                listed
            } else {
                let listed: HashSet<i64> = listed.into_iter().collect();
                all()?
                    .into_iter()
                    .filter(|id| !listed.contains(id))
                    .collect()
            }
        }
        (true, "regex") => {
            let re = compile(&filter.value)?;
            let mut out = Vec::new();
            for c in snap.txn.concepts(cs.id)? {
                if re.is_match(&c.code) {
                    out.push(c.id);
                }
            }
            out
        }
        (true, op) => return Err(unsupported_op(op, &filter.property)),
        (false, _) => property_filter(snap, cs, filter)?,
    };
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Whether `filter` selects `concept` of `cs`.
#[allow(dead_code)]
// the ValueSet $validate-code membership check builds on it next Hierarchy operators are one or two closure
/// lookups; property operators evaluate the filter's set once.
pub fn filter_matches(
    snap: &Snapshot,
    cs: &CodeSystemMeta,
    filter: &FilterDef,
    concept: &Concept,
) -> CoreResult<bool> {
    if hierarchy_property(&filter.property) {
        let target = || -> CoreResult<Option<i64>> {
            Ok(snap.txn.concept(cs.id, &filter.value)?.map(|c| c.id))
        };
        match filter.op.as_str() {
            "is-a" => {
                return Ok(match target()? {
                    Some(t) => t == concept.id || snap.txn.is_ancestor(t, concept.id)?,
                    None => false,
                })
            }
            "descendent-of" => {
                return Ok(match target()? {
                    Some(t) => snap.txn.is_ancestor(t, concept.id)?,
                    None => false,
                })
            }
            "is-not-a" => {
                return Ok(match target()? {
                    Some(t) => t != concept.id && !snap.txn.is_ancestor(t, concept.id)?,
                    None => true,
                })
            }
            "generalizes" => {
                return Ok(match target()? {
                    Some(t) => t == concept.id || snap.txn.is_ancestor(concept.id, t)?,
                    None => false,
                })
            }
            "=" => return Ok(concept.code == filter.value),
            _ => {}
        }
    }
    Ok(filter_ids(snap, cs, filter)?
        .binary_search(&concept.id)
        .is_ok())
}

fn with(mut ids: Vec<i64>, id: i64) -> Vec<i64> {
    ids.push(id);
    ids
}

/// `concept` and `code` name the concept itself (and so its place in the hierarchy).
fn hierarchy_property(property: &str) -> bool {
    matches!(property, "concept" | "code")
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn compile(pattern: &str) -> CoreResult<Regex> {
    if pattern.len() > MAX_PATTERN {
        return Err(CoreError::invalid(format!(
            "The regex filter is longer than {MAX_PATTERN} characters"
        )));
    }
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| CoreError::invalid(format!("The regex '{pattern}' is not valid: {e}")))
}

fn unsupported_op(op: &str, property: &str) -> CoreError {
    CoreError::not_supported(format!(
        "The filter operator '{op}' is not supported for the property '{property}'"
    ))
}

/// Filters on a concept property (declared by the code system, or one of FHIR's
/// concept-properties: `inactive`, `status`, `notSelectable`, `parent`, `child`), or on
/// `display`.
fn property_filter(
    snap: &Snapshot,
    cs: &CodeSystemMeta,
    filter: &FilterDef,
) -> CoreResult<Vec<i64>> {
    let property = filter.property.as_str();
    let op = filter.op.as_str();
    match property {
        "parent" | "child" if cs.property(property).is_none() || op == "=" => {
            if op != "=" {
                return Err(unsupported_op(op, property));
            }
            let Some(target) = snap.txn.concept(cs.id, &filter.value)? else {
                return Ok(Vec::new());
            };
            let related = if property == "parent" {
                snap.txn.children(target.id)?
            } else {
                snap.txn.parents(target.id)?
            };
            return Ok(related.into_iter().map(|r| r.id).collect());
        }
        _ => {}
    }
    // Evaluate over (concept, values) pairs of the whole code system.
    let values = |c: &Concept| -> CoreResult<Vec<String>> {
        Ok(match property {
            "display" => c.display.iter().cloned().collect(),
            "inactive" if cs.property("inactive").is_none() => vec![c.inactive.to_string()],
            _ => snap
                .txn
                .properties(c.id)?
                .into_iter()
                .filter(|p| p.code == property)
                .flat_map(|p| match p.value {
                    // A Coding matches by its code or its display.
                    Value::Coding(coding) => {
                        coding.code.into_iter().chain(coding.display).collect()
                    }
                    other => vec![other.lexical()],
                })
                .collect(),
        })
    };
    let known = matches!(
        property,
        "display" | "inactive" | "notSelectable" | "status"
    ) || cs.property(property).is_some();
    if !known {
        return Err(CoreError::not_supported(format!(
            "The property '{property}' is not defined by the code system '{}', so it cannot be filtered on",
            cs.url
        )));
    }
    // A stored property answers `=` and `exists true` from its index, without reading
    // every concept.
    let stored = cs.property(property).is_some()
        && !matches!(property, "display" | "inactive" | "notSelectable");
    if stored && op == "=" {
        return Ok(snap
            .txn
            .ids_with_property(cs.id, property, Some(&filter.value))?);
    }
    if stored && op == "exists" && filter.value == "true" {
        return Ok(snap.txn.ids_with_property(cs.id, property, None)?);
    }
    let concepts = snap.txn.concepts(cs.id)?;
    let regex = if op == "regex" {
        Some(compile(&filter.value)?)
    } else {
        None
    };
    let list: Vec<&str> = split_list(&filter.value).collect();
    let mut out = Vec::new();
    for c in &concepts {
        let vals = values(c)?;
        let selected = match op {
            "=" => vals.iter().any(|v| v == &filter.value),
            "in" => vals.iter().any(|v| list.contains(&v.as_str())),
            "not-in" => !vals.iter().any(|v| list.contains(&v.as_str())),
            "regex" => vals
                .iter()
                .any(|v| regex.as_ref().is_some_and(|r| r.is_match(v))),
            "exists" => match filter.value.as_str() {
                "true" => !vals.is_empty(),
                "false" => vals.is_empty(),
                other => {
                    return Err(CoreError::invalid(format!(
                        "The 'exists' filter needs the value true or false, not '{other}'"
                    )))
                }
            },
            other => return Err(unsupported_op(other, property)),
        };
        if selected {
            out.push(c.id);
        }
    }
    Ok(out)
}

/// A `=` filter on a SNOMED CT attribute (`363698007 = 39057004`), `moduleId`,
/// `effectiveTime` or `sufficientlyDefined`, as ECL; `None` for other filters.
fn snomed_property_as_ecl(filter: &FilterDef) -> CoreResult<Option<String>> {
    if filter.op != "=" {
        return Ok(None);
    }
    let digits = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let value = filter.value.trim();
    let bad = || {
        CoreError::invalid(format!(
            "The filter {} = '{}' needs a SNOMED CT {}",
            filter.property,
            filter.value,
            if filter.property == "effectiveTime" {
                "date (YYYYMMDD)"
            } else if filter.property == "sufficientlyDefined" {
                "true or false"
            } else {
                "concept id"
            }
        ))
    };
    let ecl = match filter.property.as_str() {
        "moduleId" if digits(value) => format!("* {{{{ C moduleId = {value} }}}}"),
        "effectiveTime" if digits(value) && value.len() == 8 => {
            format!("* {{{{ C effectiveTime = \"{value}\" }}}}")
        }
        "sufficientlyDefined" => match value {
            "true" => "* {{ C definitionStatus = defined }}".to_string(),
            "false" => "* {{ C definitionStatus = primitive }}".to_string(),
            _ => return Err(bad()),
        },
        "moduleId" | "effectiveTime" => return Err(bad()),
        attribute if digits(attribute) => {
            if !digits(value) {
                return Err(bad());
            }
            format!("* : {attribute} = {value}")
        }
        _ => return Ok(None),
    };
    Ok(Some(ecl))
}
