//! `ValueSet/$validate-code`: is a coding a member of a value set? Answered from the
//! compose rules directly — one closure lookup per hierarchy filter — never by expanding
//! the value set. The code's own validity (display, inactive, abstract) comes from the
//! code-system check, which this builds on.

use super::{Engine, ValueSetSource};
use crate::core::error::CoreResult;
use crate::core::validate::{
    validate_code, Issue, IssueSeverity, ValidateCodeRequest, ValidateCodeResult,
};
use crate::core::Snapshot;
use crate::model::{CodeSystemMeta, Concept, ConceptSet, ValueSetDef};

use super::filter::filter_matches;

/// The inputs of `ValueSet/$validate-code`: the value set and the code-system-level
/// request for the coding(s).
#[derive(Debug, Clone)]
pub struct ValueSetValidateRequest {
    pub source: ValueSetSource,
    pub coding: ValidateCodeRequest,
    /// Validate as of this date (`date`): code systems without a stated version are taken
    /// at their newest version published on or before it.
    pub date: Option<String>,
    /// `system-version`, `force-system-version` and `check-system-version`.
    pub versions: super::VersionRules,
    /// `activeOnly`: inactive codes are not members.
    pub active_only: bool,
    /// `valueset-membership-only`: report membership only, not the codes' validity in
    /// their code systems (unknown codes, displays).
    pub membership_only: bool,
}

/// Validates the coding(s) against the value set: valid when a coding is a member and
/// valid in its code system.
pub fn validate_in_value_set(
    snap: &Snapshot,
    req: &ValueSetValidateRequest,
) -> CoreResult<ValidateCodeResult> {
    let mut engine = Engine::new(snap, &req.versions, req.date.clone());
    let vs = engine.source(&req.source)?;
    engine.prepare(&vs)?;
    match check_membership(&mut engine, &vs, req) {
        // A value set it imports that cannot be found makes the answer "not valid", with
        // the reason, rather than an error about the request.
        Err(e)
            if e.tx
                .as_ref()
                .is_some_and(|t| t.message_id == "Unable_to_resolve_value_Set_") =>
        {
            let issues = vec![Issue {
                severity: IssueSeverity::Error,
                issue_type: "not-found",
                tx_type: "not-found",
                message_id: "Unable_to_resolve_value_Set_",
                text: e.message.clone(),
                expression: String::new(),
            }];
            Ok(ValidateCodeResult {
                result: false,
                message: crate::core::validate::summary_message(&issues),
                issues,
                ..ValidateCodeResult::default()
            })
        }
        other => other,
    }
}

/// The membership check proper, once the value set is known.
fn check_membership(
    engine: &mut Engine,
    vs: &ValueSetDef,
    req: &ValueSetValidateRequest,
) -> CoreResult<ValidateCodeResult> {
    let snap = engine.snap;
    let vs_name = vs
        .canonical()
        .unwrap_or_else(|| "(unidentified)".to_string());
    let mut coding_req = req.coding.clone();
    if let Some(date) = &req.date {
        let stated = coding_req.version.clone();
        let default_system = coding_req.url.clone();
        for c in &mut coding_req.codings {
            if c.version.is_none() && stated.is_none() {
                if let Some(system) = c.system.clone().or_else(|| default_system.clone()) {
                    c.version = engine.version_as_of(&system, date).ok();
                }
            }
        }
    }
    // A bare code: the system is the one code system of the value set that has it.
    if coding_req.source == crate::core::CodingSource::Code && coding_req.url.is_none() {
        let code = coding_req.codings[0].code.clone().unwrap_or_default();
        let systems = engine.systems_with_code(vs, &code)?;
        if let [only] = systems.as_slice() {
            coding_req.url = Some(only.clone());
            coding_req.codings[0].system = Some(only.clone());
        } else {
            let (id, text) = if systems.is_empty() {
                (
                    "UNABLE_TO_INFER_CODESYSTEM",
                    format!("The System URI could not be determined for the code '{code}' in the ValueSet '{vs_name}'"),
                )
            } else {
                (
                    "Unable_to_resolve_system__value_set_has_multiple_matches",
                    format!("The System URI could not be determined for the code '{code}' in the ValueSet '{vs_name}': value set expansion has multiple matches: [{}]", systems.join(", ")),
                )
            };
            let issues = vec![
                Issue {
                    severity: IssueSeverity::Error,
                    issue_type: "code-invalid",
                    tx_type: "not-in-vs",
                    message_id: "None_of_the_provided_codes_are_in_the_value_set_one",
                    text: format!(
                        "The provided code '#{code}' was not found in the value set '{vs_name}'"
                    ),
                    expression: "code".into(),
                },
                Issue {
                    severity: IssueSeverity::Error,
                    issue_type: "not-found",
                    tx_type: "cannot-infer",
                    message_id: id,
                    text,
                    expression: "code".into(),
                },
            ];
            return Ok(ValidateCodeResult {
                result: false,
                code: Some(code),
                message: crate::core::validate::summary_message(&issues),
                issues,
                ..ValidateCodeResult::default()
            });
        }
    }
    coding_req
        .supplements
        .extend(vs.supplements.iter().cloned());
    // Displays are judged in the language the value set asks for when the request names
    // none.
    if coding_req.display_language.is_none() {
        coding_req.display_language = vs.parameter("displayLanguage").or_else(|| {
            vs.envelope
                .get("language")
                .and_then(|l| l.as_str())
                .map(str::to_owned)
        });
    }
    let mut decided = Vec::new();
    for (index, coding) in coding_req.codings.iter_mut().enumerate() {
        let Some(system) = coding.system.clone().or_else(|| coding_req.url.clone()) else {
            decided.push(VersionDecision::default());
            continue;
        };
        let path = coding_req.source.path(index);
        let given = coding
            .version
            .clone()
            .or_else(|| coding_req.version.clone());
        let decision = decide_version(
            snap,
            &req.versions,
            vs,
            &system,
            given.as_deref(),
            coding,
            &path,
        );
        coding.version = decision.check_version.clone();
        decided.push(decision);
    }
    if coding_req.codings.len() == 1 {
        coding_req.version = None;
    }
    let mut result = validate_code(snap, &coding_req)?;
    if req.membership_only {
        result.issues.clear();
        result.message = None;
        result.result = true;
    }
    for d in &decided {
        result.issues.extend(d.issues.iter().cloned());
        for u in &d.unknown {
            if !result.unknown_systems.contains(u) {
                result.unknown_systems.push(u.clone());
            }
        }
    }
    if decided.iter().any(|d| d.failed) {
        result.result = false;
        result.message = crate::core::validate::summary_message(&result.issues);
    }
    let cc_mode = coding_req.source == crate::core::CodingSource::CodeableConcept;
    let mut notes = Vec::new();
    engine.status_notes(vs, &mut notes, 0);
    for note in notes {
        result.issues.push(Issue {
            severity: IssueSeverity::Information,
            issue_type: "business-rule",
            tx_type: "status-check",
            message_id: match note.status {
                "deprecated" => "MSG_DEPRECATED",
                "withdrawn" => "MSG_WITHDRAWN",
                "retired" => "MSG_RETIRED",
                "experimental" => "MSG_EXPERIMENTAL",
                _ => "MSG_DRAFT",
            },
            text: format!(
                "Reference to {} {} {}",
                note.status, note.resource_type, note.canonical
            ),
            expression: String::new(),
        });
    }
    let mut any_member = false;
    let mut membership_issues = Vec::new();
    let mut listed = Vec::new();
    for (index, coding) in coding_req.codings.iter().enumerate() {
        let system = coding.system.clone().or_else(|| coding_req.url.clone());
        let (Some(system), Some(code)) = (system, coding.code.clone()) else {
            // A code without a system cannot be a member of anything.
            if let (None, Some(code)) = (&coding.system, &coding.code) {
                listed.push(format!("'#{code}'"));
            }
            continue;
        };
        let version = coding
            .version
            .clone()
            .or_else(|| coding_req.version.clone());

        let member = match snap.catalog.resolve(&system, version.as_deref()) {
            Ok(cs) => {
                let mut concept = snap.txn.concept(cs.id, &code)?;
                if concept.is_none() && !cs.is_case_sensitive() {
                    concept = snap.txn.concept_ignoring_case(cs.id, &code)?;
                }
                match concept {
                    Some(concept) => {
                        // An abstract code where abstract codes are not allowed is not
                        // a member either.
                        let member = engine.contains(vs, &cs, &concept)?
                            && !(req.active_only && concept.inactive)
                            && (!concept.abstract_ || coding_req.abstract_allowed);
                        let active_only = req.active_only
                            || vs
                                .compose
                                .as_ref()
                                .is_some_and(|c| c.inactive == Some(false));
                        if !member && concept.inactive && active_only {
                            let path = coding_req.source.path(index);
                            result.issues.push(Issue {
                                severity: IssueSeverity::Error,
                                issue_type: "business-rule",
                                tx_type: "code-rule",
                                message_id: "STATUS_CODE_WARNING_CODE",
                                text: format!(
                                    "The concept '{}' is valid but is not active",
                                    concept.code
                                ),
                                expression: format!("{path}code"),
                            });
                        }
                        member
                    }
                    // A code a fragment does not list cannot be ruled out.
                    None if cs.content.as_deref() == Some("fragment") => true,
                    None => false,
                }
            }
            Err(_) => {
                if !draws_on(vs, &system) {
                    // The code system is unknown, but the value set does not use it: the
                    // code is simply not a member.
                    let unknown = std::mem::take(&mut result.unknown_systems);
                    result.unknown_systems_outside.extend(unknown);
                } else {
                    // Membership cannot be decided without the code system.
                    continue;
                }
                false
            }
        };
        if member {
            any_member = true;
            if let Some(status) = deprecated_in(vs, &system, &code) {
                let path = coding_req.source.path(index);
                result.issues.push(Issue {
                    severity: IssueSeverity::Warning,
                    issue_type: "business-rule",
                    tx_type: "code-comment",
                    message_id: "CONCEPT_DEPRECATED_IN_VALUESET",
                    text: format!("The presence of the concept '{code}' in the system '{system}' in the value set {vs_name} is marked with a status of {status} and its use should be reviewed"),
                    expression: format!("{path}code"),
                });
            }
            continue;
        }
        let original = &req.coding.codings[index];
        let mut shown = match original.version.as_ref().or(req.coding.version.as_ref()) {
            Some(v) => format!("{system}|{v}#{code}"),
            None => format!("{system}#{code}"),
        };
        if let Some(d) = original.display.as_deref().filter(|d| !d.is_empty()) {
            shown = format!("{shown} ('{d}')");
        }
        let shown = format!("'{shown}'");
        if cc_mode {
            membership_issues.push(Issue {
                severity: IssueSeverity::Information,
                issue_type: "code-invalid",
                tx_type: "this-code-not-in-vs",
                message_id: "None_of_the_provided_codes_are_in_the_value_set_one",
                text: format!(
                    "The provided code {shown} was not found in the value set '{vs_name}'"
                ),
                expression: format!("CodeableConcept.coding[{index}].code"),
            });
        }
        listed.push(shown);
    }
    result.result = result.result && any_member;
    if !any_member {
        if cc_mode && !listed.is_empty() {
            membership_issues.insert(
                0,
                Issue {
                    severity: IssueSeverity::Error,
                    issue_type: "code-invalid",
                    tx_type: "not-in-vs",
                    message_id: "TX_GENERAL_CC_ERROR_MESSAGE",
                    text: format!("No valid coding was found for the value set '{vs_name}'"),
                    expression: String::new(),
                },
            );
        } else if !listed.is_empty() && !cc_mode {
            let path = match coding_req.source {
                crate::core::CodingSource::Coding => "Coding.code",
                _ => "code",
            };
            membership_issues.push(Issue {
                severity: IssueSeverity::Error,
                issue_type: "code-invalid",
                tx_type: "not-in-vs",
                message_id: "None_of_the_provided_codes_are_in_the_value_set_one",
                text: format!(
                    "The provided code {} was not found in the value set '{vs_name}'",
                    listed.join(", ")
                ),
                expression: path.to_string(),
            });
        }
        if cc_mode {
            // A CodeableConcept names a code only when one of its codings is a member.
            result.code = None;
            result.system = None;
            result.version = None;
            result.display = None;
        }
        membership_issues.append(&mut result.issues);
        result.issues = membership_issues;
        result.message = crate::core::validate::summary_message(&result.issues);
    } else if cc_mode && !membership_issues.is_empty() {
        // Another coding is a member, but the ones that are not are still reported, and
        // an error about any coding (an unknown code) makes the concept invalid.
        result.issues.append(&mut membership_issues);
        if result
            .issues
            .iter()
            .any(|i| i.severity == IssueSeverity::Error)
        {
            result.result = false;
        }
        result.message = crate::core::validate::summary_message(&result.issues);
    }
    Ok(result)
}

/// What the value set and the version rules make of a coding's version.
#[derive(Debug, Default)]
struct VersionDecision {
    /// The version to check the code in (`None`: the newest).
    check_version: Option<String>,
    issues: Vec<Issue>,
    unknown: Vec<String>,
    /// An error was found: the coding cannot be valid.
    failed: bool,
}

/// Decides which version of `system` a coding is checked in, the way the ecosystem does:
/// the version the value set's include states (or `force-system-version`, or for a
/// versionless include `system-version`/`check-system-version`), reconciled with the
/// version the coding states. Disagreements are reported as `VALUESET_VALUE_MISMATCH*`,
/// a resolved version outside `check-system-version` as `VALUESET_VERSION_CHECK`.
fn decide_version(
    snap: &Snapshot,
    rules: &super::VersionRules,
    vs: &ValueSetDef,
    system: &str,
    given: Option<&str>,
    coding: &crate::model::Coding,
    path: &str,
) -> VersionDecision {
    let (code, display) = (coding.code.as_deref(), coding.display.as_deref());
    let mut out = VersionDecision::default();
    // The version the value set states for the system. Where it includes several versions,
    // the one the coding names, else the newest that has the code.
    let stated_versions: Vec<String> = vs
        .compose
        .as_ref()
        .map(|c| {
            c.include
                .iter()
                .filter(|set| set.system.as_deref() == Some(system))
                .filter_map(|set| set.version.clone())
                .collect()
        })
        .unwrap_or_default();
    let stated = if stated_versions.len() <= 1 {
        stated_versions.first().cloned()
    } else if let Some(g) = given.filter(|g| stated_versions.iter().any(|v| v == g)) {
        Some(g.to_string())
    } else {
        // An include offers the code when it lists it, or (listing nothing) when its version
        // of the code system has it.
        let offers = |v: &String| {
            vs.compose.iter().flat_map(|c| &c.include).any(|set| {
                set.system.as_deref() == Some(system)
                    && set.version.as_ref() == Some(v)
                    && match code {
                        Some(c) if !set.concepts.is_empty() => {
                            set.concepts.iter().any(|l| l.code == c)
                        }
                        Some(c) => snap
                            .catalog
                            .resolve(system, Some(v))
                            .ok()
                            .and_then(|cs| snap.txn.concept(cs.id, c).ok().flatten())
                            .is_some(),
                        None => false,
                    }
            })
        };
        let mut candidates: Vec<&String> = stated_versions.iter().filter(|v| offers(v)).collect();
        // With a display given, versions whose display for the code it is come first.
        let shows = |v: &&String| {
            snap.catalog
                .resolve(system, Some(v))
                .ok()
                .and_then(|cs| code.and_then(|c| snap.txn.concept(cs.id, c).ok().flatten()))
                .is_some_and(|concept| concept.display.as_deref() == display)
        };
        if display.is_some() && candidates.iter().any(shows) {
            candidates.retain(shows);
        }
        if candidates.is_empty() {
            candidates = stated_versions.iter().collect();
        }
        candidates
            .into_iter()
            .max_by(|a, b| crate::core::compare_versions(a, b))
            .cloned()
    };
    let issue = |severity, issue_type, tx_type, message_id, text: String, at: &str| Issue {
        severity,
        issue_type,
        tx_type,
        message_id,
        text,
        expression: format!("{path}{at}"),
    };
    let forced = super::VersionRules::version_for(&rules.forced, system).map(str::to_owned);
    let checked = super::VersionRules::version_for(&rules.checked, system).map(str::to_owned);
    let default = super::VersionRules::version_for(&rules.defaults, system).map(str::to_owned);
    let mut version = forced
        .clone()
        .or_else(|| stated.clone())
        .or(default)
        .or_else(|| checked.clone());
    // check-system-version applies to a version the value set states, once the coding's
    // version has been reconciled with it (see below).
    let check_stated = |version: &Option<String>, out: &mut VersionDecision| {
        if let (Some(required), None, Some(_)) = (&checked, &forced, &stated) {
            if let Ok(cs) = snap.catalog.resolve(system, version.as_deref()) {
                if !crate::core::catalog::version_matches(&cs.version, required) {
                    out.failed = true;
                    out.issues.push(issue(
                        IssueSeverity::Error,
                        "exception",
                        "version-error",
                        "VALUESET_VERSION_CHECK",
                        format!("The version '{}' is not allowed for system '{system}': required to be '{required}' by a version-check parameter", cs.version),
                        "version",
                    ));
                }
            }
        }
    };
    let mut known: Vec<String> = snap
        .catalog
        .versions(system)
        .iter()
        .map(|cs| cs.version.clone())
        .collect();
    known.reverse();
    if let Some(given) = given {
        // A wildcard the coding's version satisfies gives way to the coding's version.
        if version
            .as_deref()
            .is_some_and(|v| v != given && crate::core::catalog::version_matches(given, v))
        {
            version = Some(given.to_string());
        }
        if version.is_none() && known.iter().any(|k| k == given) {
            version = Some(given.to_string());
        }
        match snap.catalog.resolve(system, version.as_deref()) {
            Ok(cs) if cs.version != given => {
                let (severity, id, text) = match &version {
                    None => (
                        IssueSeverity::Warning,
                        "VALUESET_VALUE_MISMATCH_DEFAULT",
                        format!("The code system '{system}' version '{}' for the versionless include in the ValueSet include is different to the one in the value ('{given}')", cs.version),
                    ),
                    Some(v) if Some(v) != stated.as_ref() => (
                        IssueSeverity::Error,
                        "VALUESET_VALUE_MISMATCH_CHANGED",
                        format!("The code system '{system}' version '{v}' resulting from the version '{}' in the ValueSet include is different to the one in the value ('{given}')", stated.as_deref().unwrap_or("")),
                    ),
                    Some(v) => (
                        IssueSeverity::Error,
                        "VALUESET_VALUE_MISMATCH",
                        format!("The code system '{system}' version '{v}' in the ValueSet include is different to the one in the value ('{given}')"),
                    ),
                };
                out.failed |= severity == IssueSeverity::Error;
                out.issues.push(issue(
                    severity,
                    "invalid",
                    "vs-invalid",
                    id,
                    text,
                    "version",
                ));
                if snap.catalog.resolve(system, Some(given)).is_err() {
                    out.failed = true;
                    out.unknown.push(format!("{system}|{given}"));
                    out.issues.push(issue(
                        IssueSeverity::Error,
                        "not-found",
                        "not-found",
                        "UNKNOWN_CODESYSTEM_VERSION",
                        format!("A definition for CodeSystem '{system}' version '{given}' could not be found, so the code cannot be validated. Valid versions: {}", super::or_list(&known)),
                        "system",
                    ));
                }
            }
            Err(_) if version.as_deref().is_some_and(|v| v != given) => {
                out.failed = true;
                out.issues.push(issue(
                    IssueSeverity::Error,
                    "invalid",
                    "vs-invalid",
                    "VALUESET_VALUE_MISMATCH",
                    format!("The code system '{system}' version '{}' in the ValueSet include is different to the one in the value ('{given}')", version.as_deref().unwrap_or("")),
                    "version",
                ));
            }
            _ => {}
        }
    }
    check_stated(&version, &mut out);
    // For a code system not known at all, the coding's own version is what it asked for.
    out.check_version = if known.is_empty() {
        given.map(str::to_owned).or(version)
    } else {
        version
    };
    out
}

/// The status a value set gives a concept it lists (`valueset-deprecated`, or the
/// standards-status extension), when it marks it deprecated.
fn deprecated_in(vs: &ValueSetDef, system: &str, code: &str) -> Option<&'static str> {
    let compose = vs.compose.as_ref()?;
    let listed = compose
        .include
        .iter()
        .filter(|set| set.system.as_deref() == Some(system))
        .flat_map(|set| &set.concepts)
        .find(|c| c.code == code)?;
    listed.extensions.iter().find_map(|e| {
        let url = e.get("url")?.as_str()?;
        let value = e.get("valueCode").or_else(|| e.get("valueBoolean"))?;
        let on = value.as_bool() == Some(true) || value.as_str() == Some("true");
        match url {
            "http://hl7.org/fhir/StructureDefinition/valueset-deprecated" if on => {
                Some("deprecated")
            }
            "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
                if value.as_str() == Some("deprecated") =>
            {
                Some("deprecated")
            }
            _ => None,
        }
    })
}

/// Whether a value set's compose includes `system` directly.
fn draws_on(vs: &ValueSetDef, system: &str) -> bool {
    vs.compose.as_ref().is_some_and(|c| {
        c.include
            .iter()
            .any(|set| set.system.as_deref() == Some(system))
    })
}

impl Engine<'_> {
    /// The code systems of a value set that have `code`: from the includes' code systems
    /// when every include names one, otherwise from the value set's members.
    fn systems_with_code(&mut self, vs: &ValueSetDef, code: &str) -> CoreResult<Vec<String>> {
        let mut systems: Vec<String> = Vec::new();
        let Some(compose) = &vs.compose else {
            return Ok(systems);
        };
        let direct = compose
            .include
            .iter()
            .all(|set| set.system.is_some() && set.value_sets.is_empty());
        if direct {
            for set in &compose.include {
                let system = set.system.as_deref().unwrap_or_default();
                if let Ok(cs) = self.snap.catalog.resolve(system, set.version.as_deref()) {
                    if self.snap.txn.concept(cs.id, code)?.is_some() && !systems.contains(&cs.url) {
                        systems.push(cs.url.clone());
                    }
                }
            }
        } else {
            let members = self.members(vs)?;
            for id in &members.order {
                if let Some(c) = self.snap.txn.concept_by_id(*id)? {
                    let url = &members.systems[id].url;
                    if c.code == code && !systems.contains(url) {
                        systems.push(url.clone());
                    }
                }
            }
        }
        Ok(systems)
    }

    /// Whether `concept` of `cs` is a member of `vs`.
    pub(super) fn contains(
        &mut self,
        vs: &ValueSetDef,
        cs: &CodeSystemMeta,
        concept: &Concept,
    ) -> CoreResult<bool> {
        let (key, compose) = self.enter(vs)?;
        if compose.inactive == Some(false) && concept.inactive {
            return Ok(false);
        }
        self.stack.push(key);
        let mut member = false;
        for set in &compose.include {
            if self.set_contains(set, cs, concept)? {
                member = true;
                break;
            }
        }
        if member {
            let versions_match = vs.parameter("versionsMatch");
            for set in &compose.exclude {
                if self.set_contains(set, cs, concept)? {
                    member = false;
                    break;
                }
                // An exclude of another version of the system excludes by code (see
                // `Engine::members`).
                let other_version = set.system.as_deref() == Some(cs.url.as_str())
                    && set.version.is_some()
                    && !compose.include.iter().any(|i| {
                        i.system.as_deref() == Some(cs.url.as_str()) && i.version == set.version
                    });
                let by_code = match versions_match.as_deref() {
                    Some("true") => set.system.as_deref() == Some(cs.url.as_str()),
                    Some(_) => false,
                    None => other_version,
                };
                if by_code {
                    if let Ok(other) = self.snap.catalog.resolve(&cs.url, set.version.as_deref()) {
                        if let Some(there) = self.snap.txn.concept(other.id, &concept.code)? {
                            if self.set_contains(set, &other, &there)? {
                                member = false;
                                break;
                            }
                        }
                    }
                }
            }
        }
        self.stack.pop();
        Ok(member)
    }

    fn set_contains(
        &mut self,
        set: &ConceptSet,
        cs: &CodeSystemMeta,
        concept: &Concept,
    ) -> CoreResult<bool> {
        if set.system.is_none() && set.value_sets.is_empty() {
            return Ok(false);
        }
        if let Some(system) = &set.system {
            let forced = super::VersionRules::version_for(&self.versions.forced, system);
            if system != &cs.url
                || forced
                    .or(set.version.as_deref())
                    .is_some_and(|v| !crate::core::catalog::version_matches(&cs.version, v))
            {
                return Ok(false);
            }
            if !set.concepts.is_empty() {
                if !set.concepts.iter().any(|c| c.code == concept.code) {
                    return Ok(false);
                }
            } else {
                for f in &set.filters {
                    if !filter_matches(self.snap, cs, f, concept)? {
                        return Ok(false);
                    }
                }
            }
        }
        for canonical in &set.value_sets {
            let vs = self.resolve_value_set(&self.pinned(canonical))?;
            if !self.contains(&vs, cs, concept)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
