//! `CodeSystem/$lookup`: everything known about one code.

use crate::model::{Designation, Value};

use super::error::{CoreError, CoreResult};
use super::Snapshot;

/// The inputs of `$lookup`, already taken out of their FHIR form.
#[derive(Debug, Clone, Default)]
pub struct LookupRequest {
    pub system: String,
    pub version: Option<String>,
    pub code: String,
    /// Preferred language of the returned display (BCP-47).
    pub display_language: Option<String>,
    /// Properties asked for; empty means "the server's choice" (all of them), `*` all.
    pub properties: Vec<String>,
    /// Supplements to apply (`useSupplement`).
    pub supplements: Vec<String>,
}

/// A property in a `$lookup` answer; `description` is the display of a related concept.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupProperty {
    pub code: String,
    pub value: Value,
    pub description: Option<String>,
}

/// The answer of `$lookup`.
#[derive(Debug, Clone)]
pub struct LookupResult {
    pub name: String,
    pub system: String,
    pub version: Option<String>,
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub abstract_: bool,
    pub designations: Vec<Designation>,
    /// Designations from supplements, with the supplement each came from.
    pub supplement_designations: Vec<(Designation, String)>,
    pub properties: Vec<LookupProperty>,
    /// `url|version` of the supplements used.
    pub used_supplements: Vec<String>,
}

/// Looks a code up: the concept, its designations, its properties, and its parents and
/// children from the stored hierarchy.
pub fn lookup(snap: &Snapshot, req: &LookupRequest) -> CoreResult<LookupResult> {
    let cs = snap
        .catalog
        .resolve(&req.system, req.version.as_deref())
        .map_err(|e| {
            e.into_error(&req.system, req.version.as_deref())
                .at("system")
        })?;
    let concept = if cs.is_case_sensitive() {
        snap.txn.concept(cs.id, &req.code)?
    } else {
        snap.txn.concept_ignoring_case(cs.id, &req.code)?
    };
    let concept = concept.ok_or_else(|| {
        CoreError::not_found(match cs.version_opt() {
            Some(v) => format!(
                "Unknown code '{}' in the CodeSystem '{}' version '{v}'",
                req.code, cs.url
            ),
            None => format!("Unknown code '{}' in the CodeSystem '{}'", req.code, cs.url),
        })
        .at("code")
    })?;
    let supplements = super::Supplements::resolve(snap, &req.supplements)?;
    // The display properties derived from extensions (label, order, weight) are reported
    // only when asked for by name.
    let wanted = |code: &str| {
        let derived =
            super::supplements::DISPLAY_PROPERTIES.contains(&code) && cs.property(code).is_none();
        req.properties.iter().any(|p| p == code)
            || (!derived && (req.properties.is_empty() || req.properties.iter().any(|p| p == "*")))
    };
    let mut designations = snap.designations(&cs, concept.id)?;
    // The code system's display is a designation in the code system's language.
    if let (Some(display), Some(language)) = (&concept.display, &cs.language) {
        designations.push(Designation::preferred_for_language(language, display));
    }
    let supplement_designations = supplements.designations(snap, &cs, &concept.code)?;
    let display = req
        .display_language
        .as_deref()
        .map(|lang| display_in(snap, &cs, concept.id, &designations, lang))
        .transpose()?
        .flatten()
        .or(concept.display.clone());

    let mut properties = Vec::new();
    if wanted("inactive") {
        properties.push(LookupProperty {
            code: "inactive".into(),
            value: Value::Boolean(concept.inactive),
            description: None,
        });
    }
    for (code, related) in [
        (
            "parent",
            wanted("parent").then(|| snap.txn.parents(concept.id)),
        ),
        (
            "child",
            wanted("child").then(|| snap.txn.children(concept.id)),
        ),
    ] {
        for r in related.transpose()?.unwrap_or_default() {
            properties.push(LookupProperty {
                code: code.into(),
                value: Value::Code(r.code),
                description: r.display,
            });
        }
    }
    let mut stored = snap.txn.properties(concept.id)?;
    stored.extend(supplements.properties(snap, &cs, &concept.code)?);
    let snomed = cs.url == crate::model::snomed::SNOMED;
    for p in stored {
        if wanted(&p.code) && !matches!(p.code.as_str(), "parent" | "child" | "inactive") {
            // SNOMED CT's attribute and association properties point at concepts: say
            // which, as parents and children do.
            let description = match (&p.value, snomed) {
                (Value::Code(code), true) if p.code.bytes().all(|b| b.is_ascii_digit()) => {
                    snap.txn.concept(cs.id, code)?.and_then(|c| c.display)
                }
                _ => None,
            };
            properties.push(LookupProperty {
                code: p.code,
                value: p.value,
                description,
            });
        }
    }
    if snomed {
        snomed_properties(snap, concept.id, &wanted, &mut properties)?;
    }
    Ok(LookupResult {
        name: cs
            .name
            .clone()
            .or_else(|| cs.title.clone())
            .unwrap_or_else(|| cs.url.clone()),
        system: cs.url.clone(),
        version: cs.version_opt().map(str::to_owned),
        code: concept.code,
        display,
        definition: concept.definition,
        abstract_: concept.abstract_,
        designations,
        supplement_designations,
        properties,
        used_supplements: supplements.used_for(&cs),
    })
}

/// SNOMED CT's concept properties, kept in its own tables: `effectiveTime`, `moduleId`,
/// `sufficientlyDefined`, and each attribute relationship and concrete value as a
/// property named by the attribute's id (a related concept with its display).
fn snomed_properties(
    snap: &Snapshot,
    concept_id: i64,
    wanted: &dyn Fn(&str) -> bool,
    properties: &mut Vec<LookupProperty>,
) -> CoreResult<()> {
    if let Some((module, effective_time, defined)) = snap.txn.sct_concept(concept_id)? {
        for (code, value) in [
            ("effectiveTime", Value::String(effective_time)),
            ("moduleId", Value::Code(module)),
            ("sufficientlyDefined", Value::Boolean(defined)),
        ] {
            if wanted(code) {
                properties.push(LookupProperty {
                    code: code.into(),
                    value,
                    description: None,
                });
            }
        }
    }
    for r in snap.txn.sct_relationships_from(concept_id)? {
        let Some(type_) = snap.txn.concept_by_id(r.type_)? else {
            continue;
        };
        if !wanted(&type_.code) {
            continue;
        }
        let (value, description) = match (r.destination, &r.value) {
            (Some(d), _) => match snap.txn.concept_by_id(d)? {
                Some(c) => (Value::Code(c.code), c.display),
                None => continue,
            },
            (None, Some(v)) => (crate::model::snomed::concrete_value(v), None),
            (None, None) => continue,
        };
        properties.push(LookupProperty {
            code: type_.code,
            value,
            description,
        });
    }
    Ok(())
}

/// The display of a concept in `language`: for SNOMED CT the preferred synonym of the
/// language reference set that dialect stands for (en-US, en-GB by their refsets; any
/// other language by the refsets holding its descriptions), else the first designation in
/// that language.
pub(super) fn display_in(
    snap: &Snapshot,
    cs: &crate::model::CodeSystemMeta,
    concept_id: i64,
    designations: &[Designation],
    language: &str,
) -> CoreResult<Option<String>> {
    if cs.url == crate::model::snomed::SNOMED {
        if let Some(term) = snomed_preferred_term(snap, concept_id, language)? {
            return Ok(Some(term));
        }
    }
    Ok(preferred_designation(designations, language))
}

/// The preferred synonym of a SNOMED CT concept for a language tag (the first of a
/// `Accept-Language` list that has one).
fn snomed_preferred_term(
    snap: &Snapshot,
    concept_id: i64,
    languages: &str,
) -> CoreResult<Option<String>> {
    use crate::model::snomed::{parse_acceptability, GB_ENGLISH, SYNONYM, US_ENGLISH};
    let synonym = SYNONYM.to_string();
    let descriptions = snap.txn.sct_descriptions_of(concept_id)?;
    for tag in languages.split(',') {
        let tag = tag
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.is_empty() || tag == "*" {
            continue;
        }
        let refset = match tag.as_str() {
            "en-us" | "en" => Some(US_ENGLISH),
            "en-gb" => Some(GB_ENGLISH),
            _ => None,
        };
        let primary = tag.split('-').next().unwrap_or(&tag);
        let found = descriptions.iter().find(|d| {
            d.active
                && d.type_id == synonym
                && parse_acceptability(&d.acceptability).iter().any(
                    |&(r, preferred)| match refset {
                        Some(wanted) => preferred && r == wanted,
                        None => preferred && d.language.eq_ignore_ascii_case(primary),
                    },
                )
        });
        if let Some(d) = found {
            return Ok(Some(d.term.clone()));
        }
    }
    Ok(None)
}

/// The first designation in `language` (or a sub-tag of it), for display selection.
pub(super) fn preferred_designation(
    designations: &[Designation],
    language: &str,
) -> Option<String> {
    let language = language.split(',').next().unwrap_or(language).trim();
    let language = language.split(';').next().unwrap_or(language).trim();
    designations
        .iter()
        .find(|d| {
            d.language.as_deref().is_some_and(|l| {
                l.eq_ignore_ascii_case(language)
                    || l.to_ascii_lowercase()
                        .starts_with(&format!("{}-", language.to_ascii_lowercase()))
            })
        })
        .map(|d| d.value.clone())
}
