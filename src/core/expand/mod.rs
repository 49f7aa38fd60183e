//! Value set expansion and membership: the compose of a value set evaluated as sets of
//! concept ids (`include` unions, `exclude` differences, filters intersect, imported value
//! sets intersect), then filtered by text, paged, and only the page rendered.

mod compare;
mod filter;
mod membership;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::catalog::{compare_versions, split_canonical, Unresolved};
use super::error::{CoreError, CoreResult, ErrorKind};
use super::Snapshot;
use crate::model::{
    CodeSystemMeta, Compose, ConceptSet, DefinitionOrigin, Designation, PropertyValue, ValueSetDef,
};

pub use compare::{compare, CompareRequest, Comparison, Relationship};
pub use filter::filter_ids;
pub use membership::{validate_in_value_set, ValueSetValidateRequest};

/// Which value set to expand.
#[derive(Debug, Clone)]
pub enum ValueSetSource {
    /// A stored value set by canonical url, optionally with a version.
    Canonical {
        url: String,
        version: Option<String>,
    },
    /// A value set sent with the request.
    Inline(Box<ValueSetDef>),
}

/// The inputs of `$expand`.
#[derive(Debug, Clone)]
pub struct ExpandRequest {
    pub source: ValueSetSource,
    /// Text that every returned concept's display or a designation must match (word
    /// prefixes, case- and accent-insensitive).
    pub filter: Option<String>,
    pub offset: usize,
    pub count: Option<usize>,
    pub active_only: bool,
    pub include_designations: bool,
    pub include_definition: bool,
    pub display_language: Option<String>,
    /// Largest expansion returned whole (without `count`); beyond it, `too-costly`.
    pub limit: usize,
    /// Leave out abstract (not-selectable) concepts.
    pub exclude_not_for_ui: bool,
    /// Properties to return with each code (`property`).
    pub properties: Vec<String>,
    /// Version rules for the code systems drawn from.
    pub versions: VersionRules,
    /// Expand as of this date (`date`): code systems whose version the value set does not
    /// name are taken at their newest version published on or before it.
    pub date: Option<String>,
    /// Designations to return (`designation`): languages or `system|code` uses.
    pub designations: Vec<String>,
    /// Code system supplements to apply (`useSupplement`).
    pub supplements: Vec<String>,
    /// `excludeNested`: `Some(true)` asks for a flat list; otherwise a value set that is
    /// one code system's hierarchy is returned nested (see [`nests`]).
    pub exclude_nested: Option<bool>,
}

/// Whether an expansion is returned nested by its code system's hierarchy (as
/// tx.fhir.org does, and the HL7 terminology test suite expects): unless the client asks
/// for a flat list (`excludeNested=true`), a value set that is one code system's
/// hierarchy, the whole code system without a text search or one `is-a` subtree, comes
/// back as that hierarchy. Value sets that list, import or exclude codes, or combine
/// several includes, stay flat: their codes are a selection, not a hierarchy. SNOMED CT
/// is a polyhierarchy (a concept under several parents) and always stays flat; so does
/// any page asked for with `count` or `offset`, since a page of a tree is not a tree.
fn nests(vs: &ValueSetDef, req: &ExpandRequest, systems: &[Arc<CodeSystemMeta>]) -> bool {
    // Paging (`count`, `offset`) is checked per page: a selection serves every page.
    if req.exclude_nested == Some(true) {
        return false;
    }
    let Some(compose) = vs.compose.as_ref() else {
        return false;
    };
    let [include] = compose.include.as_slice() else {
        return false;
    };
    let whole = include.filters.is_empty() && req.filter.is_none();
    let subtree = matches!(include.filters.as_slice(), [f] if f.op == "is-a");
    compose.exclude.is_empty()
        && include.concepts.is_empty()
        && include.value_sets.is_empty()
        && (whole || subtree)
        && systems.iter().all(|cs| cs.url != super::SNOMED_CT)
}

/// For each item, the index of its nearest ancestor among the earlier items, or `None`
/// (a top-level entry). A concept with several parents makes the whole page flat: a
/// polyhierarchy is not a tree.
fn nest_items(snap: &Snapshot, ids: &[i64]) -> CoreResult<Vec<Option<usize>>> {
    let position: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut parents = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let mut current = *id;
        let mut found = None;
        // Walk up through ancestors the expansion leaves out (inactive ones, say).
        for _ in 0..64 {
            let up = snap.txn.parents(current)?;
            match up.as_slice() {
                [] => break,
                [p] => match position.get(&p.id) {
                    Some(&at) if at < index => {
                        found = Some(at);
                        break;
                    }
                    _ => current = p.id,
                },
                _ => return Ok(vec![None; ids.len()]),
            }
        }
        parents.push(found);
    }
    Ok(parents)
}

/// The `$expand` (and `$validate-code`) parameters that steer code system versions, each
/// a list of `system|version` canonicals.
#[derive(Debug, Clone, Default)]
pub struct VersionRules {
    /// `system-version`: the version to use where the value set does not say.
    pub defaults: Vec<String>,
    /// `force-system-version`: the version to use whatever the value set says.
    pub forced: Vec<String>,
    /// `check-system-version`: a version the value set must not contradict.
    pub checked: Vec<String>,
    /// `exclude-system`: code systems (optionally versions) to leave out.
    pub excluded: Vec<String>,
    /// `default-valueset-version`: the version of an imported value set to use where the
    /// import does not say.
    pub value_set_defaults: Vec<String>,
}

impl VersionRules {
    pub(super) fn version_for<'a>(list: &'a [String], system: &str) -> Option<&'a str> {
        list.iter().find_map(|c| match split_canonical(c) {
            (url, Some(v)) if url == system => Some(v),
            _ => None,
        })
    }

    fn canonical_for<'a>(list: &'a [String], system: &str) -> Option<(&'a str, &'a String)> {
        list.iter().find_map(|c| match split_canonical(c) {
            (url, Some(v)) if url == system => Some((v, c)),
            _ => None,
        })
    }

    /// The version to resolve `system` at, given what the value set says, and the rule
    /// (`system-version` or `check-system-version`, with its canonical) that supplied it
    /// when the value set said nothing: an expansion reports the rules it applied.
    fn effective<'a>(
        &'a self,
        system: &str,
        stated: Option<&'a str>,
    ) -> CoreResult<(Option<&'a str>, Option<AppliedRule>)> {
        if let Some(v) = Self::version_for(&self.forced, system) {
            return Ok((Some(v), None));
        }
        if let Some((required, canonical)) = Self::canonical_for(&self.checked, system) {
            // A stated version is checked once resolved (see `Engine::code_system`).
            if stated.is_none() {
                return Ok((
                    Some(required),
                    Some(("check-system-version", canonical.clone())),
                ));
            }
        }
        if stated.is_some() {
            return Ok((stated, None));
        }
        Ok(match Self::canonical_for(&self.defaults, system) {
            Some((v, canonical)) => (Some(v), Some(("system-version", canonical.clone()))),
            None => (None, None),
        })
    }

    fn excludes(&self, cs: &CodeSystemMeta) -> bool {
        self.excluded.iter().any(|c| match split_canonical(c) {
            (url, None) => url == cs.url,
            (url, Some(v)) => url == cs.url && v == cs.version,
        })
    }
}

/// A version rule that decided a version: its parameter name and the canonical given.
pub type AppliedRule = (&'static str, String);

/// One code of an expansion.
#[derive(Debug, Clone)]
pub struct ExpansionItem {
    pub system: String,
    pub version: Option<String>,
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub inactive: bool,
    pub abstract_: bool,
    pub designations: Vec<Designation>,
    pub properties: Vec<PropertyValue>,
    /// Extensions the value set lists on the concept.
    pub extensions: Vec<serde_json::Value>,
    /// In a nested expansion, the index (in `items`) of the nearest ancestor that the
    /// expansion also contains: this item goes in that item's `contains`.
    pub parent: Option<usize>,
}

/// The answer of `$expand`.
#[derive(Debug, Clone)]
pub struct Expansion {
    pub value_set: ValueSetDef,
    /// The value set resource as given, when the request asked for the definition to be
    /// included (`includeDefinition`) and the value set has one.
    pub definition: Option<Arc<serde_json::Value>>,
    pub total: usize,
    pub offset: usize,
    /// `system|version` of every code system the expansion drew from.
    pub used_code_systems: Vec<String>,
    /// `url|version` of every value set the expansion imported.
    pub used_value_sets: Vec<String>,
    /// Version rules that decided a version (`system-version` or `check-system-version`,
    /// with the canonical given).
    pub applied_rules: Vec<AppliedRule>,
    /// Whether each code carries its code system version: when the value set draws on
    /// more than one version of a code system.
    pub show_versions: bool,
    /// The URI each returned property code has in its code system.
    pub property_uris: Vec<(String, String)>,
    /// Statuses of the value set and what it draws on that users should hear about.
    pub status_notes: Vec<StatusNote>,
    /// `url|version` of the code system supplements applied.
    pub used_supplements: Vec<String>,
    /// Excludes matched codes across versions (reported as `versionsMatch`).
    pub versions_matched: bool,
    /// `system|version` of the code systems used that are fragments (content
    /// `fragment`): the expansion may be incomplete.
    pub used_fragments: Vec<String>,
    pub items: Vec<ExpansionItem>,
}

/// The ordered, duplicate-free members of a value set.
#[derive(Default)]
struct Members {
    order: Vec<i64>,
    systems: HashMap<i64, Arc<CodeSystemMeta>>,
    /// Extensions the value set lists on a concept.
    extensions: HashMap<i64, Vec<serde_json::Value>>,
    /// Designations the value set gives a concept.
    designations: HashMap<i64, Vec<serde_json::Value>>,
}

impl Members {
    fn add(&mut self, id: i64, cs: &Arc<CodeSystemMeta>) {
        if self.systems.insert(id, cs.clone()).is_none() {
            self.order.push(id);
        }
    }

    fn retain(&mut self, keep: impl Fn(i64) -> bool) {
        self.order.retain(|id| keep(*id));
        let kept: HashSet<i64> = self.order.iter().copied().collect();
        self.systems.retain(|id, _| kept.contains(id));
    }
}

/// Evaluates compose definitions against one snapshot, tracking the value sets being
/// evaluated (to refuse cycles) and the code systems used.
struct Engine<'s> {
    snap: &'s Snapshot<'s>,
    stack: Vec<String>,
    used: Vec<String>,
    used_value_sets: Vec<String>,
    applied: Vec<AppliedRule>,
    versions: VersionRules,
    /// The date versions are resolved at (request `date`, or the `lockedDate` of the
    /// value set being evaluated).
    as_of: Option<String>,
    /// Value sets contained in the one asked about, imported as `#id`.
    contained: Vec<ValueSetDef>,
    /// An exclude matched codes across code system versions without the value set
    /// saying so: the expansion reports `versionsMatch`.
    versions_matched: bool,
}

impl<'s> Engine<'s> {
    /// An engine for one request: its version rules and the date versions are resolved at.
    fn new(snap: &'s Snapshot<'s>, versions: &VersionRules, as_of: Option<String>) -> Self {
        Engine {
            snap,
            stack: Vec::new(),
            used: Vec::new(),
            used_value_sets: Vec::new(),
            applied: Vec::new(),
            versions: versions.clone(),
            as_of,
            contained: Vec::new(),
            versions_matched: false,
        }
    }

    /// Checks that `vs` is not already being evaluated (a cycle) and has a compose;
    /// returns the key to push on the stack while it is evaluated, and the compose.
    fn enter<'v>(&self, vs: &'v ValueSetDef) -> CoreResult<(String, &'v Compose)> {
        let key = format!(
            "{}|{}",
            vs.url.as_deref().unwrap_or("(inline)"),
            vs.version.as_deref().unwrap_or("")
        );
        if self.stack.contains(&key) {
            return Err(self.cycle(vs));
        }
        let compose = vs.compose.as_ref().ok_or_else(|| Self::no_compose(vs))?;
        for (kind, sets) in [("include", &compose.include), ("exclude", &compose.exclude)] {
            for (i, set) in sets.iter().enumerate() {
                if let Some((j, f)) = set
                    .filters
                    .iter()
                    .enumerate()
                    .find(|(_, f)| f.value.is_empty())
                {
                    return Err(CoreError::invalid(format!(
                        "The system {} filter with property = {}, op = {} has no value",
                        set.system.as_deref().unwrap_or(""),
                        f.property,
                        f.op
                    ))
                    .with_tx(
                        "invalid",
                        "vs-invalid",
                        "UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE",
                    )
                    .at(format!("ValueSet.compose.{kind}[{i}].filter[{j}]")));
                }
            }
        }
        Ok((key, compose))
    }

    /// The newest version of `system` published on or before `as_of` (dates compared by
    /// their `YYYY-MM-DD` part; undated versions never qualify).
    fn version_as_of(&self, system: &str, as_of: &str) -> CoreResult<String> {
        let day = |d: &str| d.chars().take(10).collect::<String>();
        let limit = day(as_of);
        self.snap
            .catalog
            .versions(system)
            .into_iter()
            .filter(|cs| cs.date.as_deref().is_some_and(|d| day(d) <= limit))
            .max_by(|a, b| {
                day(a.date.as_deref().unwrap_or(""))
                    .cmp(&day(b.date.as_deref().unwrap_or("")))
                    .then_with(|| compare_versions(&a.version, &b.version))
            })
            .map(|cs| cs.version.clone())
            .ok_or_else(|| {
                CoreError::not_found(format!(
                    "No version of the CodeSystem '{system}' was published on or before {as_of}"
                ))
            })
    }

    fn cycle(&self, vs: &ValueSetDef) -> CoreError {
        let key = format!(
            "{}|{}",
            vs.url.as_deref().unwrap_or("(inline)"),
            vs.version.as_deref().unwrap_or("")
        );
        CoreError::invalid(format!(
            "Found a circularity pointing to {key} processing ValueSet with pathway [{}]",
            self.stack.join(", ")
        ))
        .with_tx("processing", "vs-invalid", "VALUESET_CIRCULAR_REFERENCE")
    }

    fn no_compose(vs: &ValueSetDef) -> CoreError {
        CoreError::not_supported(format!(
            "The value set '{}' has no compose, so it cannot be evaluated",
            vs.url.as_deref().unwrap_or("(inline)")
        ))
    }

    /// The value set asked about; the value sets it contains become importable as `#id`.
    fn source(&mut self, source: &ValueSetSource) -> CoreResult<ValueSetDef> {
        let vs = match source {
            ValueSetSource::Canonical { url, version } => {
                let canonical = match version {
                    Some(v) => format!("{url}|{v}"),
                    None => url.clone(),
                };
                self.resolve_value_set(&canonical)
            }
            ValueSetSource::Inline(vs) => Ok((**vs).clone()),
        }?;
        self.contained = vs.contained.clone();
        Ok(vs)
    }

    /// An imported value set: as `resolve_value_set`, but an unversioned import takes the
    /// version `default-valueset-version` gives, which must then exist.
    fn resolve_import(&self, canonical: &str) -> CoreResult<ValueSetDef> {
        let pinned = self.pinned(canonical);
        if pinned == canonical {
            return self.resolve_value_set(canonical);
        }
        self.resolve_value_set(&pinned).map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                let (url, version) = split_canonical(&pinned);
                CoreError::not_found(format!(
                    "Unable to find included value set '{url}' version '{}'",
                    version.unwrap_or_default()
                ))
                .with_tx("not-found", "not-found", "VS_EXP_IMPORT_UNK_PINNED")
            } else {
                e
            }
        })
    }

    /// Walks a value set's imports (included and excluded) to refuse a circular definition
    /// before anything is evaluated; imports that cannot be found are left to the
    /// evaluation to report.
    fn prepare(&mut self, vs: &ValueSetDef) -> CoreResult<()> {
        let (key, compose) = self.enter(vs)?;
        self.stack.push(key);
        let imports: Vec<String> = compose
            .include
            .iter()
            .chain(&compose.exclude)
            .flat_map(|set| set.value_sets.iter().map(|c| self.pinned(c)))
            .collect();
        for canonical in imports {
            if let Ok(other) = self.resolve_value_set(&canonical) {
                self.prepare(&other)?;
            }
        }
        self.stack.pop();
        Ok(())
    }

    /// An import's canonical with the version `default-valueset-version` gives it when
    /// it states none.
    fn pinned(&self, canonical: &str) -> String {
        let (url, version) = split_canonical(canonical);
        match (
            version,
            VersionRules::version_for(&self.versions.value_set_defaults, url),
        ) {
            (None, Some(pinned)) => format!("{url}|{pinned}"),
            _ => canonical.to_string(),
        }
    }

    fn resolve_value_set(&self, canonical: &str) -> CoreResult<ValueSetDef> {
        if let Some(id) = canonical.strip_prefix('#') {
            return self
                .contained
                .iter()
                .find(|c| c.envelope.get("id").and_then(|v| v.as_str()) == Some(id))
                .cloned()
                .ok_or_else(|| {
                    CoreError::not_found(format!(
                        "A definition for the value Set '{canonical}' could not be found"
                    ))
                    .with_tx(
                        "not-found",
                        "not-found",
                        "Unable_to_resolve_value_Set_",
                    )
                });
        }
        // ECL in an implicit value set URL may hold `|term|`s: the whole URL is the url.
        let (url, version) = if canonical.contains("?fhir_vs=ecl/") {
            (canonical, None)
        } else {
            split_canonical(canonical)
        };
        let candidates = self
            .snap
            .catalog
            .value_sets
            .iter()
            .filter(|(_, h)| h.url == url && version.is_none_or(|v| h.version == v));
        let best = candidates.max_by(|a, b| compare_versions(&a.1.version, &b.1.version));
        let Some((id, _)) = best else {
            return self.implicit_value_set(url, version).ok_or_else(|| {
                CoreError::not_found(format!(
                    "A definition for the value Set '{canonical}' could not be found"
                ))
                .with_tx("not-found", "not-found", "Unable_to_resolve_value_Set_")
            });
        };
        let mut definition = self.snap.txn.value_set_definition(*id)?.ok_or_else(|| {
            CoreError::not_found(format!(
                "The value set '{canonical}' has no stored definition"
            ))
        })?;
        definition.origin = DefinitionOrigin::Stored(*id);
        Ok(definition)
    }

    /// The implicit value sets: all codes of a code system (`{system}?fhir_vs`, or the
    /// `CodeSystem.valueSet` a code system declares, when no such value set is stored),
    /// and LOINC's part value sets (`http://loinc.org/vs/LP…`: the LOINC terms under the
    /// part in the multiaxial hierarchy).
    fn implicit_value_set(&self, url: &str, version: Option<&str>) -> Option<ValueSetDef> {
        if let Some(part) = url.strip_prefix("http://loinc.org/vs/LP") {
            return self.loinc_part_value_set(url, &format!("LP{part}"), version);
        }
        if let Some(query) = url.strip_prefix("http://snomed.info/sct?fhir_vs=") {
            return self.snomed_value_set(url, query, version);
        }
        let system = match url.strip_suffix("?fhir_vs") {
            Some(system) => system.to_string(),
            None => self
                .snap
                .catalog
                .code_systems
                .iter()
                .find(|cs| cs.value_set.as_deref() == Some(url))?
                .url
                .clone(),
        };
        self.snap.catalog.versions(&system).first()?;
        Some(implicit_definition(
            url,
            version,
            None,
            ConceptSet {
                system: Some(system),
                version: version.map(str::to_owned),
                ..ConceptSet::default()
            },
        ))
    }

    /// SNOMED CT's implicit value sets: `?fhir_vs=isa/{id}` (the concept and its
    /// descendants), `?fhir_vs=refset` (every reference set with members),
    /// `?fhir_vs=refset/{id}` (the members of one) and `?fhir_vs=ecl/{expression}`.
    fn snomed_value_set(
        &self,
        url: &str,
        query: &str,
        version: Option<&str>,
    ) -> Option<ValueSetDef> {
        let filter = |property: &str, op: &str, value: &str| crate::model::FilterDef {
            property: property.into(),
            op: op.into(),
            value: value.into(),
        };
        let filter = if let Some(id) = query.strip_prefix("isa/") {
            filter("concept", "is-a", id)
        } else if query == "refset" {
            filter("refset", "exists", "true")
        } else if let Some(id) = query.strip_prefix("refset/") {
            filter("constraint", "=", &format!("^ {id}"))
        } else if let Some(ecl) = query.strip_prefix("ecl/") {
            let decoded = crate::core::ecl::percent_decode(ecl);
            filter("constraint", "=", &decoded)
        } else {
            return None;
        };
        self.snap
            .catalog
            .resolve(crate::model::snomed::SNOMED, version)
            .ok()?;
        Some(implicit_definition(
            url,
            version,
            None,
            ConceptSet {
                system: Some(crate::model::snomed::SNOMED.into()),
                version: version.map(str::to_owned),
                filters: vec![filter],
                ..ConceptSet::default()
            },
        ))
    }

    /// `http://loinc.org/vs/{LP}`: the terms (concepts with a `CLASSTYPE`, which parts and
    /// answers lack) that descend from the part in the multiaxial hierarchy.
    fn loinc_part_value_set(
        &self,
        url: &str,
        part: &str,
        version: Option<&str>,
    ) -> Option<ValueSetDef> {
        let loinc = self
            .snap
            .catalog
            .resolve("http://loinc.org", version)
            .ok()?;
        self.snap.txn.concept(loinc.id, part).ok()??;
        let filter = |property: &str, op: &str, value: &str| crate::model::FilterDef {
            property: property.into(),
            op: op.into(),
            value: value.into(),
        };
        Some(implicit_definition(
            url,
            version,
            Some(part),
            ConceptSet {
                system: Some("http://loinc.org".into()),
                version: version.map(str::to_owned),
                filters: vec![
                    filter("concept", "descendent-of", part),
                    filter("CLASSTYPE", "exists", "true"),
                ],
                ..ConceptSet::default()
            },
        ))
    }

    fn members(&mut self, vs: &ValueSetDef) -> CoreResult<Members> {
        let (key, compose) = self.enter(vs)?;
        self.stack.push(key);
        let outer_date = self.as_of.clone();
        if let Some(locked) = &compose.locked_date {
            self.as_of = Some(locked.clone());
        }
        let mut members = Members::default();
        for set in &compose.include {
            let included = self.concept_set(set)?;
            for id in included.order {
                members.add(id, &included.systems[&id]);
            }
            for (id, exts) in included.extensions {
                members.extensions.entry(id).or_insert(exts);
            }
            for (id, ds) in included.designations {
                members.designations.entry(id).or_insert(ds);
            }
        }
        let versions_match = vs.parameter("versionsMatch");
        if versions_match.as_deref() == Some("true") {
            self.merge_versions(&mut members)?;
        }
        for set in &compose.exclude {
            let excluded_set = self.concept_set(set)?;
            // An exclude naming a version of a system the value set does not include
            // excludes those codes from every included version (versionsMatch), unless
            // the value set says versions must not match.
            let other_version = set.system.as_ref().is_some_and(|system| {
                set.version.is_some()
                    && !compose
                        .include
                        .iter()
                        .any(|i| i.system.as_ref() == Some(system) && i.version == set.version)
            });
            let by_code = match versions_match.as_deref() {
                Some("true") => true,
                Some(_) => false,
                None => other_version,
            };
            if by_code {
                if versions_match.is_none() {
                    self.versions_matched = true;
                }
                let mut codes = HashSet::new();
                for id in &excluded_set.order {
                    if let Some(c) = self.snap.txn.concept_by_id(*id)? {
                        codes.insert((excluded_set.systems[id].url.clone(), c.code));
                    }
                }
                let mut drop = HashSet::new();
                for id in &members.order {
                    if let Some(c) = self.snap.txn.concept_by_id(*id)? {
                        if codes.contains(&(members.systems[id].url.clone(), c.code)) {
                            drop.insert(*id);
                        }
                    }
                }
                members.retain(|id| !drop.contains(&id));
            } else {
                let excluded: HashSet<i64> = excluded_set.order.into_iter().collect();
                members.retain(|id| !excluded.contains(&id));
            }
        }
        if compose.inactive == Some(false) {
            let mut inactive = HashSet::new();
            for id in &members.order {
                if self
                    .snap
                    .txn
                    .concept_by_id(*id)?
                    .is_some_and(|c| c.inactive)
                {
                    inactive.insert(*id);
                }
            }
            members.retain(|id| !inactive.contains(&id));
        }
        self.stack.pop();
        self.as_of = outer_date;
        Ok(members)
    }

    /// `versionsMatch`: the value set treats a code as one member whatever version of its
    /// code system it came from. Each code keeps the place of its first occurrence and
    /// takes the latest version that has it.
    fn merge_versions(&self, members: &mut Members) -> CoreResult<()> {
        let mut first: HashMap<(String, String), usize> = HashMap::new();
        let mut order: Vec<i64> = Vec::with_capacity(members.order.len());
        for id in &members.order {
            let Some(concept) = self.snap.txn.concept_by_id(*id)? else {
                continue;
            };
            let cs = &members.systems[id];
            match first.entry((cs.url.clone(), concept.code)) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(order.len());
                    order.push(*id);
                }
                std::collections::hash_map::Entry::Occupied(slot) => {
                    let kept = &mut order[*slot.get()];
                    let newer = compare_versions(&cs.version, &members.systems[kept].version)
                        == std::cmp::Ordering::Greater;
                    if newer {
                        *kept = *id;
                    }
                }
            }
        }
        let kept: HashSet<i64> = order.iter().copied().collect();
        members.order = order;
        members.systems.retain(|id, _| kept.contains(id));
        Ok(())
    }

    fn code_system(
        &mut self,
        system: &str,
        stated: Option<&str>,
    ) -> CoreResult<Arc<CodeSystemMeta>> {
        let rules = self.versions.clone();
        let (version, applied) = rules.effective(system, stated)?;
        let mut version = version.map(str::to_owned);
        if let Some(applied) = applied {
            if !self.applied.contains(&applied) {
                self.applied.push(applied);
            }
        }
        if version.is_none() {
            if let Some(as_of) = &self.as_of {
                version = Some(self.version_as_of(system, as_of)?);
            }
        }
        let version = version.as_deref();
        let cs = self.snap.catalog.resolve(system, version).map_err(|e| match e {
            Unresolved::UnknownSystem => CoreError::not_found(format!(
                "A definition for CodeSystem '{system}' could not be found, so the value set cannot be expanded"
            )),
            Unresolved::UnknownVersion { known } => CoreError::not_found(format!(
                "A definition for CodeSystem '{system}' version '{}' could not be found, so the value set cannot be expanded. Valid versions: {}",
                version.unwrap_or_default(),
                or_list(&known.iter().rev().cloned().collect::<Vec<_>>())
            ))
            .with_tx("not-found", "not-found", "UNKNOWN_CODESYSTEM_VERSION_EXP"),
        })?;
        if let (Some(required), Some(_), None) = (
            VersionRules::version_for(&rules.checked, system),
            stated,
            VersionRules::version_for(&rules.forced, system),
        ) {
            if !super::catalog::version_matches(&cs.version, required) {
                return Err(CoreError::invalid(format!(
                    "The version '{}' is not allowed for system '{system}': required to be '{required}' by a version-check parameter",
                    cs.version
                ))
                .with_tx("exception", "version-error", "VALUESET_VERSION_CHECK"));
            }
        }
        let used = cs.canonical();
        if !self.used.contains(&used) {
            self.used.push(used);
        }
        Ok(cs)
    }

    fn concept_set(&mut self, set: &ConceptSet) -> CoreResult<Members> {
        let mut from_system: Option<Members> = None;
        if let Some(system) = &set.system {
            let cs = self.code_system(system, set.version.as_deref())?;
            let mut members = Members::default();
            if self.versions.excludes(&cs) {
                return Ok(members);
            }
            if !set.concepts.is_empty() {
                for listed in &set.concepts {
                    if let Some(c) = self.snap.txn.concept(cs.id, &listed.code)? {
                        members.add(c.id, &cs);
                        if !listed.extensions.is_empty() {
                            members.extensions.insert(c.id, listed.extensions.clone());
                        }
                        if !listed.designations.is_empty() {
                            members
                                .designations
                                .insert(c.id, listed.designations.clone());
                        }
                    }
                }
            } else {
                let mut ids: Option<Vec<i64>> = None;
                for f in &set.filters {
                    let selected = filter_ids(self.snap, &cs, f)?;
                    ids = Some(match ids {
                        None => selected,
                        Some(prev) => {
                            let keep: HashSet<i64> = selected.into_iter().collect();
                            prev.into_iter().filter(|id| keep.contains(id)).collect()
                        }
                    });
                }
                let ids = match ids {
                    Some(ids) => ids,
                    None => self.snap.txn.concept_ids(cs.id)?,
                };
                for id in ids {
                    members.add(id, &cs);
                }
            }
            from_system = Some(members);
        }
        let mut result = from_system;
        for canonical in &set.value_sets {
            let vs = self.resolve_import(canonical)?;
            let used = vs.canonical().unwrap_or_else(|| canonical.clone());
            // Contained value sets are part of the one asked about, not used from elsewhere.
            if !canonical.starts_with('#') && !self.used_value_sets.contains(&used) {
                self.used_value_sets.push(used);
            }
            let imported = self.members(&vs)?;
            result = Some(match result {
                None => imported,
                Some(mut prev) => {
                    let keep: HashSet<i64> = imported.order.iter().copied().collect();
                    prev.retain(|id| keep.contains(&id));
                    prev
                }
            });
        }
        Ok(result.unwrap_or_default())
    }
}

/// The members of a value set under one request's selection rules, before paging: what
/// the expansion cache keeps.
pub struct Selection {
    value_set: ValueSetDef,
    order: Vec<i64>,
    systems: HashMap<i64, Arc<CodeSystemMeta>>,
    /// The distinct code system versions of `systems`, so a page never walks every
    /// member to find them (150,000 for `<< 404684003`).
    distinct_systems: Vec<Arc<CodeSystemMeta>>,
    used: Vec<String>,
    used_value_sets: Vec<String>,
    applied: Vec<AppliedRule>,
    status_notes: Vec<StatusNote>,
    extensions: HashMap<i64, Vec<serde_json::Value>>,
    listed_designations: HashMap<i64, Vec<serde_json::Value>>,
    supplements: super::Supplements,
    versions_matched: bool,
    /// Whether the page may be nested by the code system's hierarchy ([`nests`]); an
    /// unpaged page only.
    hierarchical: bool,
}

/// Cached selections, keyed by everything that decides them (every [`ExpandRequest`]
/// field that changes which codes are selected, or in what order) and the store
/// generation, so paging through a large value set evaluates its compose once.
pub struct ExpansionCache {
    entries: quick_cache::sync::Cache<String, Arc<Selection>>,
}

impl Default for ExpansionCache {
    fn default() -> Self {
        ExpansionCache {
            entries: quick_cache::sync::Cache::new(256),
        }
    }
}

impl ExpansionCache {
    /// The key of a request at a generation, or `None` when it must not be cached (a
    /// scratch snapshot with request resources, whose generation is negative).
    fn key(snap: &Snapshot, req: &ExpandRequest) -> Option<String> {
        let generation = snap.catalog.generation;
        if generation < 0 {
            return None;
        }
        // Every field decides the selection except those that only shape the page, which
        // are reset here; a field added later is part of the key unless reset too.
        let selection = ExpandRequest {
            offset: 0,
            count: None,
            limit: 0,
            include_designations: false,
            include_definition: false,
            display_language: None,
            properties: Vec::new(),
            designations: Vec::new(),
            ..req.clone()
        };
        Some(format!("{generation}\u{0}{selection:?}"))
    }
}

/// Expands a value set: computes (or takes from `cache`) its selected members, then
/// renders only the requested page.
pub fn expand(snap: &Snapshot, req: &ExpandRequest) -> CoreResult<Expansion> {
    expand_with(snap, req, None)
}

/// [`expand`] with an expansion cache.
pub fn expand_with(
    snap: &Snapshot,
    req: &ExpandRequest,
    cache: Option<&ExpansionCache>,
) -> CoreResult<Expansion> {
    let key = cache.and_then(|_| ExpansionCache::key(snap, req));
    let cached = match (cache, &key) {
        (Some(c), Some(k)) => c.entries.get(k),
        _ => None,
    };
    let selection = match cached {
        Some(hit) => hit,
        None => {
            let fresh = Arc::new(select(snap, req)?);
            if let (Some(c), Some(k)) = (cache, key) {
                c.entries.insert(k, fresh.clone());
            }
            fresh
        }
    };
    render_page(snap, req, &selection)
}

fn select(snap: &Snapshot, req: &ExpandRequest) -> CoreResult<Selection> {
    let mut engine = Engine::new(snap, &req.versions, req.date.clone());
    let vs = engine.source(&req.source)?;
    let mut wanted_supplements = req.supplements.clone();
    wanted_supplements.extend(vs.supplements.iter().cloned());
    let supplements = super::Supplements::resolve(snap, &wanted_supplements)?;
    let mut members = engine.members(&vs)?;
    let mut status_notes = Vec::new();
    engine.status_notes(&vs, &mut status_notes, 0);
    if let Some(text) = req.filter.as_deref().filter(|t| !t.trim().is_empty()) {
        let ranked = snap.txn.text_matches(text)?;
        let mut seen = HashSet::new();
        let order: Vec<i64> = ranked
            .into_iter()
            .filter(|id| members.systems.contains_key(id) && seen.insert(*id))
            .collect();
        members.order = order;
    }
    if req.active_only || req.exclude_not_for_ui {
        let mut kept = Vec::with_capacity(members.order.len());
        for id in &members.order {
            let keep = snap.txn.concept_by_id(*id)?.is_some_and(|c| {
                let hidden =
                    (req.active_only && c.inactive) || (req.exclude_not_for_ui && c.abstract_);
                !hidden
            });
            if keep {
                kept.push(*id);
            }
        }
        members.order = kept;
    }
    let mut distinct_systems: Vec<Arc<CodeSystemMeta>> = Vec::new();
    for cs in members.systems.values() {
        if !distinct_systems.iter().any(|known| known.id == cs.id) {
            distinct_systems.push(cs.clone());
        }
    }
    distinct_systems.sort_by_key(|cs| cs.id);
    let hierarchical = nests(&vs, req, &distinct_systems);
    Ok(Selection {
        hierarchical,
        value_set: vs,
        order: members.order,
        systems: members.systems,
        distinct_systems,
        used: engine.used,
        used_value_sets: engine.used_value_sets,
        applied: engine.applied,
        status_notes,
        extensions: members.extensions,
        listed_designations: members.designations,
        supplements,
        versions_matched: engine.versions_matched,
    })
}

fn render_page(
    snap: &Snapshot,
    req: &ExpandRequest,
    selection: &Selection,
) -> CoreResult<Expansion> {
    let members = selection;
    let vs = &selection.value_set;
    let total = members.order.len();
    let wanted = req.count.unwrap_or(total.saturating_sub(req.offset));
    // Unpaged, the whole expansion must fit the limit; a page asked for with `count` may
    // be up to ten times larger.
    let limit = if req.count.is_some() {
        req.limit.saturating_mul(10)
    } else {
        req.limit
    };
    if wanted > limit {
        let name = vs.canonical().unwrap_or_else(|| "??".to_string());
        return Err(CoreError::new(
            ErrorKind::TooCostly,
            format!("The value set '{name}' expansion has too many codes to produce (>{limit})"),
        )
        .with_tx("too-costly", "", "VALUESET_TOO_COSTLY"));
    }
    let mut items = Vec::new();
    let mut item_ids: Vec<i64> = Vec::new();
    let mut property_uris: Vec<(String, String)> = Vec::new();
    for id in members.order.iter().skip(req.offset).take(wanted) {
        let cs = &members.systems[id];
        let Some(c) = snap.txn.concept_by_id(*id)? else {
            continue;
        };
        let wants_designations = req.include_designations || !req.designations.is_empty();
        let display_language = req.display_language.clone().or_else(|| vs_language(vs));
        let designations = if wants_designations || display_language.is_some() {
            snap.designations(cs, c.id)?
        } else {
            Vec::new()
        };
        // The code system's own display wins when it is in the language asked for.
        let from_designation = display_language
            .as_deref()
            .filter(|l| {
                !cs.language
                    .as_deref()
                    .is_some_and(|cl| language_matches(cl, l))
            })
            .map(|l| super::lookup::display_in(snap, cs, c.id, &designations, l))
            .transpose()?
            .flatten();
        let cs_display = c.display.clone();
        // "*; q=0" rules out every language not listed: no display rather than another
        // language's.
        let only_listed = display_language
            .as_deref()
            .is_some_and(|l| l.replace(' ', "").contains("*;q=0"));
        let cs_display_allowed = !only_listed
            || cs.language.as_deref().is_some_and(|cl| {
                display_language
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .any(|l| language_matches(cl, l))
            });
        let display = from_designation
            .clone()
            .or(c.display.filter(|_| cs_display_allowed));
        // Requested properties, and always the display properties (label, order,
        // weight) from the code system and its supplements in force.
        let supplements = &selection.supplements;
        let inactive = c.inactive;
        let mut stored = snap.txn.properties(c.id)?;
        stored.extend(supplements.properties(snap, cs, &c.code)?);
        let properties: Vec<PropertyValue> = stored
            .into_iter()
            .filter(|p| {
                req.properties.iter().any(|w| w == "*" || w == &p.code)
                    || (super::supplements::DISPLAY_PROPERTIES.contains(&p.code.as_str())
                        && cs.property(&p.code).is_none())
                    // A deprecated concept always says so, and so does an inactive one
                    // with a status (`retired`, say), as tx.fhir.org's expansions do.
                    || (p.code == "status" && (p.value.lexical() == "deprecated" || inactive))
            })
            .collect();
        let mut designations = designations;
        if wants_designations {
            // Designations the value set itself gives the concept.
            for d in selection.listed_designations.get(id).into_iter().flatten() {
                if let Some(value) = d.get("value").and_then(|v| v.as_str()) {
                    designations.push(Designation {
                        language: d
                            .get("language")
                            .and_then(|v| v.as_str())
                            .map(str::to_owned),
                        use_: None,
                        value: value.to_string(),
                        extensions: d
                            .get("extension")
                            .and_then(|e| e.as_array())
                            .cloned()
                            .unwrap_or_default(),
                    });
                }
            }
            designations.extend(
                supplements
                    .designations(snap, cs, &c.code)?
                    .into_iter()
                    .map(|(d, _)| d),
            );
        }
        for p in &properties {
            let uri = cs
                .property(&p.code)
                .and_then(|d| d.uri.clone())
                .or_else(|| supplements.property_uri(cs, &p.code));
            if let Some(uri) = uri {
                if !property_uris.iter().any(|(c, _)| c == &p.code) {
                    property_uris.push((p.code.clone(), uri));
                }
            }
        }
        // The concept's rendering extensions (code system, then supplements), then those
        // the value set lists on it.
        let mut extensions = snap.txn.concept_extensions(c.id)?;
        extensions.extend(supplements.concept_extensions(snap, cs, &c.code)?);
        // Of the value set's own extensions on the concept, its deprecation markers are
        // repeated, and its order and label override the code system's.
        let mut properties = properties;
        for e in selection.extensions.get(id).into_iter().flatten() {
            let url = e.get("url").and_then(|u| u.as_str()).unwrap_or_default();
            let (code, value) = match url {
                "http://hl7.org/fhir/StructureDefinition/valueset-deprecated"
                | "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition"
                | "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status" => {
                    extensions.push(e.clone());
                    continue;
                }
                "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder" => (
                    "order",
                    e.get("valueInteger")
                        .or_else(|| e.get("valueDecimal"))
                        .map(|v| PropertyValue {
                            code: "order".into(),
                            value: crate::model::Value::Decimal(v.to_string()),
                        }),
                ),
                "http://hl7.org/fhir/StructureDefinition/itemWeight" => (
                    "weight",
                    e.get("valueDecimal")
                        .or_else(|| e.get("valueInteger"))
                        .map(|v| PropertyValue {
                            code: "weight".into(),
                            value: crate::model::Value::Decimal(v.to_string()),
                        }),
                ),
                u if u.starts_with("http://hl7.org/fhir/StructureDefinition/rendering-") => {
                    extensions.push(e.clone());
                    continue;
                }
                "http://hl7.org/fhir/StructureDefinition/valueset-label" => (
                    "label",
                    e.get("valueString")
                        .and_then(|v| v.as_str())
                        .map(|v| PropertyValue {
                            code: "label".into(),
                            value: crate::model::Value::String(v.to_string()),
                        }),
                ),
                _ => continue,
            };
            if let Some(value) = value {
                properties.retain(|p| p.code != code);
                properties.push(value);
            }
        }
        item_ids.push(c.id);
        items.push(ExpansionItem {
            parent: None,
            extensions,
            properties,
            system: cs.url.clone(),
            version: cs.version_opt().map(str::to_owned),
            code: c.code,
            display,
            definition: if req.properties.iter().any(|p| p == "definition" || p == "*") {
                c.definition
            } else {
                None
            },
            inactive: c.inactive,
            abstract_: c.abstract_,
            designations: if !req.designations.is_empty() {
                designations
                    .into_iter()
                    .filter(|d| designation_wanted(d, &req.designations))
                    .collect()
            } else if req.include_designations {
                // When a designation became the display, the code system's display is
                // listed in its place.
                match from_designation
                    .clone()
                    .or_else(|| (!cs_display_allowed).then(String::new))
                {
                    Some(shown) => {
                        let mut list: Vec<Designation> = Vec::new();
                        if let (Some(d), Some(l)) = (&cs_display, &cs.language) {
                            list.push(Designation::preferred_for_language(l, d));
                        }
                        let mut skipped = false;
                        for d in designations {
                            if !skipped && d.value == shown {
                                skipped = true;
                            } else {
                                list.push(d);
                            }
                        }
                        list
                    }
                    None => designations,
                }
            } else {
                Vec::new()
            },
        });
    }
    if selection.hierarchical && req.count.is_none() && req.offset == 0 {
        for (item, parent) in items.iter_mut().zip(nest_items(snap, &item_ids)?) {
            item.parent = parent;
        }
    }
    // A value set sent inline is read from this request: a cached selection may come
    // from another request whose resource differed only outside its compose.
    let origin = match &req.source {
        ValueSetSource::Inline(def) => &def.origin,
        ValueSetSource::Canonical { .. } => &vs.origin,
    };
    let definition = if req.include_definition {
        match origin {
            DefinitionOrigin::Stored(id) => snap
                .txn
                .value_set_resource(*id)?
                .and_then(|text| serde_json::from_str(&text).ok())
                .map(Arc::new),
            DefinitionOrigin::Inline(resource) => Some(resource.clone()),
            DefinitionOrigin::Derived => None,
        }
    } else {
        None
    };
    Ok(Expansion {
        value_set: vs.clone(),
        definition,
        total,
        offset: req.offset,
        used_code_systems: selection.used.clone(),
        used_value_sets: selection.used_value_sets.clone(),
        applied_rules: selection.applied.clone(),
        show_versions: states_several_versions(vs),
        property_uris,
        status_notes: selection.status_notes.clone(),
        versions_matched: selection.versions_matched,
        used_supplements: {
            let mut used: Vec<String> = Vec::new();
            for cs in &selection.distinct_systems {
                for u in selection.supplements.used_for(cs) {
                    if !used.contains(&u) {
                        used.push(u);
                    }
                }
            }
            used
        },
        used_fragments: selection
            .distinct_systems
            .iter()
            .filter(|cs| cs.content.as_deref() == Some("fragment"))
            .map(|cs| cs.canonical())
            .fold(Vec::new(), |mut acc, u| {
                if !acc.contains(&u) {
                    acc.push(u);
                }
                acc
            }),
        items,
    })
}

/// A status a referenced resource carries that its users should hear about: `deprecated`,
/// `withdrawn`, `retired`, `experimental` or `draft`, with the resource type and canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusNote {
    pub status: &'static str,
    pub resource_type: &'static str,
    pub canonical: String,
}

/// What about a resource's status is worth a note, the ecosystem's way: its standards
/// status (deprecated, withdrawn), a retired status, or, relative to the value set that
/// refers to it, being experimental or draft when the referrer is not.
fn status_worth_noting(
    standards: Option<&str>,
    status: Option<&str>,
    experimental: bool,
    referrer: Option<(bool, bool)>,
) -> Option<&'static str> {
    match (standards, status) {
        (Some("deprecated"), _) => Some("deprecated"),
        (Some("withdrawn"), _) => Some("withdrawn"),
        (_, Some("retired")) => Some("retired"),
        _ => {
            let (referrer_experimental, referrer_draft) = referrer?;
            if experimental && !referrer_experimental {
                Some("experimental")
            } else if (status == Some("draft") || standards == Some("draft")) && !referrer_draft {
                Some("draft")
            } else {
                None
            }
        }
    }
}

impl Engine<'_> {
    /// The status notes of a value set and of everything its compose refers to.
    fn status_notes(&self, vs: &ValueSetDef, notes: &mut Vec<StatusNote>, depth: usize) {
        let mut push = |note: StatusNote| {
            if !notes.contains(&note) {
                notes.push(note);
            }
        };
        let vs_status = vs.envelope.get("status").and_then(|v| v.as_str());
        if let Some(status) =
            status_worth_noting(vs.standards_status.as_deref(), vs_status, false, None)
        {
            push(StatusNote {
                status,
                resource_type: "ValueSet",
                canonical: vs.canonical().unwrap_or_default(),
            });
        }
        let referrer = (
            vs.envelope
                .get("experimental")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            vs_status == Some("draft") || vs.standards_status.as_deref() == Some("draft"),
        );
        let Some(compose) = &vs.compose else { return };
        for set in compose.include.iter().chain(&compose.exclude) {
            if let Some(system) = &set.system {
                let forced = VersionRules::version_for(&self.versions.forced, system);
                let version = forced
                    .or(set.version.as_deref())
                    .or_else(|| VersionRules::version_for(&self.versions.defaults, system));
                if let Ok(cs) = self.snap.catalog.resolve(system, version) {
                    if let Some(status) = status_worth_noting(
                        cs.standards_status.as_deref(),
                        cs.status.as_deref(),
                        cs.experimental.unwrap_or(false),
                        Some(referrer),
                    ) {
                        push(StatusNote {
                            status,
                            resource_type: "CodeSystem",
                            canonical: cs.canonical(),
                        });
                    }
                }
            }
            if depth < 8 {
                for imported in &set.value_sets {
                    if let Ok(other) = self.resolve_value_set(imported) {
                        let mut nested = Vec::new();
                        self.status_notes(&other, &mut nested, depth + 1);
                        for n in nested {
                            push(n);
                        }
                    }
                }
            }
        }
    }
}

/// An implicit value set (one the server defines rather than stores) of one include.
fn implicit_definition(
    url: &str,
    version: Option<&str>,
    name: Option<&str>,
    include: ConceptSet,
) -> ValueSetDef {
    ValueSetDef {
        url: Some(url.to_string()),
        version: version.map(str::to_owned),
        name: name.map(str::to_owned),
        title: None,
        status: Some("active".into()),
        envelope: Default::default(),
        standards_status: None,
        parameters: Vec::new(),
        contained: Vec::new(),
        supplements: Vec::new(),
        origin: DefinitionOrigin::Derived,
        compose: Some(Compose {
            include: vec![include],
            ..Compose::default()
        }),
    }
}

/// `a`, `a or b`, `a, b or c`: how tx.fhir.org lists alternatives in messages.
pub fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Whether the value set's includes (and excludes) name more than one version of the same
/// code system.
fn states_several_versions(vs: &ValueSetDef) -> bool {
    let Some(compose) = &vs.compose else {
        return false;
    };
    // Several includes of one system that state different versions (no version counts
    // as one of them).
    let mut seen: HashMap<&str, Option<&str>> = HashMap::new();
    compose
        .include
        .iter()
        .chain(&compose.exclude)
        .any(|set| match &set.system {
            Some(system) => {
                let version = set.version.as_deref();
                let first = *seen.entry(system.as_str()).or_insert(version);
                first != version
            }
            None => false,
        })
}

/// The language a value set declares, used for displays when the request names none.
fn vs_language(vs: &ValueSetDef) -> Option<String> {
    vs.parameter("displayLanguage")
}

/// Whether a language tag satisfies a requested one (`de-CH` satisfies `de`).
fn language_matches(tag: &str, requested: &str) -> bool {
    let requested = requested
        .split([',', ';'])
        .next()
        .unwrap_or(requested)
        .trim();
    tag.eq_ignore_ascii_case(requested)
        || tag
            .to_ascii_lowercase()
            .starts_with(&format!("{}-", requested.to_ascii_lowercase()))
}

/// Whether a designation matches one of the `designation` tokens: a language (or its
/// primary subtag), or a `system|code` use.
fn designation_wanted(d: &Designation, tokens: &[String]) -> bool {
    tokens.iter().any(|t| match t.split_once('|') {
        Some(("urn:ietf:bcp:47", language)) => d
            .language
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(language)),
        Some((system, code)) => d.use_.as_ref().is_some_and(|u| {
            u.code.as_deref() == Some(code)
                && (system.is_empty() || u.system.as_deref() == Some(system))
        }),
        None => d.language.as_deref().is_some_and(|l| {
            l.eq_ignore_ascii_case(t)
                || l.to_ascii_lowercase()
                    .starts_with(&format!("{}-", t.to_ascii_lowercase()))
        }),
    })
}
