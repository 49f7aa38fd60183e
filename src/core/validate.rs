//! `CodeSystem/$validate-code`: is this code (with this display) valid in this code
//! system? Answers in the shape the FHIR terminology ecosystem expects: a result, a
//! message, and issues with FHIRPath locations.

use crate::model::{CodeSystemMeta, Coding};

use super::catalog::Unresolved;
use super::error::{CoreError, CoreResult};
use super::Snapshot;

/// How the codes reached the operation; decides the FHIRPath of reported issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodingSource {
    /// `code` (+ `url`/`system`, `version`, `display`) parameters.
    Code,
    /// A `coding` parameter.
    Coding,
    /// A `codeableConcept` parameter: valid if any of its codings is.
    CodeableConcept,
}

impl CodingSource {
    /// The FHIRPath prefix of the `index`th coding's elements in issues: `""` for bare
    /// `code` parameters, `Coding.`, or `CodeableConcept.coding[i].`.
    pub fn path(self, index: usize) -> String {
        match self {
            CodingSource::Code => String::new(),
            CodingSource::Coding => "Coding.".to_string(),
            CodingSource::CodeableConcept => format!("CodeableConcept.coding[{index}]."),
        }
    }
}

/// The inputs of `$validate-code` against a code system.
#[derive(Debug, Clone)]
pub struct ValidateCodeRequest {
    /// The code system (`url` parameter); a coding's own system takes precedence.
    pub url: Option<String>,
    pub version: Option<String>,
    pub codings: Vec<Coding>,
    pub source: CodingSource,
    pub display_language: Option<String>,
    /// Whether abstract (not-selectable) concepts are acceptable (default true).
    pub abstract_allowed: bool,
    /// Report a wrong display as a warning instead of an error.
    pub lenient_display: bool,
    /// The `text` of a CodeableConcept, echoed back with it.
    pub text: Option<String>,
    /// Code system supplements to apply (`useSupplement`, or a value set's).
    pub supplements: Vec<String>,
}

/// Severity of an [`Issue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSeverity {
    Error,
    Warning,
    Information,
}

/// One finding of a validation, rendered as an OperationOutcome issue.
#[derive(Debug, Clone)]
pub struct Issue {
    pub severity: IssueSeverity,
    /// FHIR `IssueType` code (`code-invalid`, `invalid`, `not-found`, `business-rule`).
    pub issue_type: &'static str,
    /// Code from `http://hl7.org/fhir/tools/CodeSystem/tx-issue-type`.
    pub tx_type: &'static str,
    /// The message id other servers use for the same finding.
    pub message_id: &'static str,
    pub text: String,
    /// FHIRPath of the element the issue is about.
    pub expression: String,
}

/// The answer of `$validate-code`.
#[derive(Debug, Clone, Default)]
pub struct ValidateCodeResult {
    pub result: bool,
    pub code: Option<String>,
    pub system: Option<String>,
    pub version: Option<String>,
    pub display: Option<String>,
    pub inactive: bool,
    /// The concept's `status` property, when it is not plain active (retired,
    /// deprecated, ...).
    pub status: Option<String>,
    /// The code in the code system's own case, when the input differed only by case.
    pub normalized_code: Option<String>,
    pub message: Option<String>,
    pub issues: Vec<Issue>,
    /// Code systems that could not be found, so that validity could not be decided (the
    /// ecosystem's `x-caused-by-unknown-system`).
    pub unknown_systems: Vec<String>,
    /// Code systems that could not be found but that the value set does not draw on, so
    /// the code is simply not in it (`x-unknown-system`).
    pub unknown_systems_outside: Vec<String>,
}

/// The summary message of a validation: the distinct texts of its errors (and display
/// warnings), sorted, joined with "; " as tx.fhir.org does.
pub fn summary_message(issues: &[Issue]) -> Option<String> {
    let mut texts: Vec<&str> = issues
        .iter()
        .filter(|i| {
            i.severity == IssueSeverity::Error
                || i.message_id.starts_with("Display_Name")
                || i.message_id.starts_with("NO_VALID_DISPLAY")
                || i.message_id == "INACTIVE_CONCEPT_FOUND"
                || i.message_id == "DEPRECATED_CONCEPT_FOUND"
                || i.message_id == "Coding_has_no_system__cannot_validate"
        })
        .map(|i| i.text.as_str())
        .collect();
    texts.sort_unstable();
    texts.dedup();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// Validates the request's coding(s) against their code system(s).
pub fn validate_code(snap: &Snapshot, req: &ValidateCodeRequest) -> CoreResult<ValidateCodeResult> {
    if req.codings.is_empty() {
        return Err(CoreError::invalid(
            "No code to validate: provide code (with url), coding or codeableConcept",
        ));
    }
    let supplements = super::Supplements::resolve(snap, &req.supplements)?;
    let mut out = ValidateCodeResult::default();
    let mut first_valid: Option<Checked> = None;
    let mut first_seen: Option<Checked> = None;
    for (index, coding) in req.codings.iter().enumerate() {
        let path = req.source.path(index);
        let checked = check_coding(snap, req, &supplements, coding, &path, &mut out)?;
        if checked.valid && first_valid.is_none() {
            first_valid = Some(checked.clone());
        }
        if first_seen.is_none() {
            first_seen = Some(checked);
        }
    }
    out.result = first_valid.is_some();
    if let Some(chosen) = first_valid.or(first_seen) {
        out.code = chosen.code;
        out.system = chosen.system;
        out.version = chosen.version;
        out.display = chosen.display;
        out.inactive = chosen.inactive;
        out.status = chosen.status;
    }
    out.message = summary_message(&out.issues);
    Ok(out)
}

/// What was found for one coding.
#[derive(Debug, Clone, Default)]
struct Checked {
    valid: bool,
    code: Option<String>,
    system: Option<String>,
    version: Option<String>,
    display: Option<String>,
    inactive: bool,
    status: Option<String>,
}

fn check_coding(
    snap: &Snapshot,
    req: &ValidateCodeRequest,
    supplements: &super::Supplements,
    coding: &Coding,
    path: &str,
    out: &mut ValidateCodeResult,
) -> CoreResult<Checked> {
    let mut checked = Checked {
        code: coding.code.clone(),
        system: coding.system.clone().or_else(|| req.url.clone()),
        ..Checked::default()
    };
    let Some(system) = checked.system.clone() else {
        out.issues.push(Issue {
            severity: IssueSeverity::Warning,
            issue_type: "invalid",
            tx_type: "invalid-data",
            message_id: "Coding_has_no_system__cannot_validate",
            text: "Coding has no system. A code with no system has no defined meaning, and it cannot be validated. A system should be provided".into(),
            expression: match path.strip_suffix('.') {
                Some(element) => element.to_string(),
                None => "system".to_string(),
            },
        });
        return Ok(checked);
    };
    let Some(code) = coding.code.clone().filter(|c| !c.is_empty()) else {
        out.issues.push(error(
            "invalid",
            "invalid-data",
            "Coding_has_no_code",
            "No code provided".into(),
            format!("{path}code"),
        ));
        return Ok(checked);
    };
    let version = coding.version.clone().or_else(|| req.version.clone());
    let cs = match snap.catalog.resolve(&system, version.as_deref()) {
        Ok(cs) => cs,
        Err(Unresolved::UnknownSystem)
            if snap.catalog.value_sets.iter().any(|(_, h)| h.url == system) =>
        {
            out.issues.push(error(
                "invalid",
                "invalid-data",
                "Terminology_TX_System_ValueSet2",
                format!("The Coding references a value set, not a code system ('{system}')"),
                format!("{path}system"),
            ));
            return Ok(checked);
        }
        Err(Unresolved::UnknownSystem) => {
            if !system.contains(':') {
                out.issues.push(error(
                    "invalid",
                    "invalid-data",
                    "Terminology_TX_System_Relative",
                    "Coding.system must be an absolute reference, not a local reference".into(),
                    format!("{path}system"),
                ));
            }
            out.unknown_systems.push(system.clone());
            out.issues.push(match &version {
                Some(v) => error(
                    "not-found",
                    "not-found",
                    "UNKNOWN_CODESYSTEM_VERSION_NONE",
                    format!("A definition for CodeSystem '{system}' version '{v}' could not be found, so the code cannot be validated. No versions of this code system are known"),
                    format!("{path}system"),
                ),
                None => error(
                    "not-found",
                    "not-found",
                    "UNKNOWN_CODESYSTEM",
                    format!("A definition for CodeSystem '{system}' could not be found, so the code cannot be validated"),
                    format!("{path}system"),
                ),
            });
            return Ok(checked);
        }
        Err(Unresolved::UnknownVersion { mut known }) => {
            known.reverse();
            let version = version.unwrap_or_default();
            out.unknown_systems.push(format!("{system}|{version}"));
            out.issues.push(error(
                "not-found",
                "not-found",
                "UNKNOWN_CODESYSTEM_VERSION",
                format!(
                    "A definition for CodeSystem '{system}' version '{version}' could not be found, so the code cannot be validated. Valid versions: {}",
                    super::expand::or_list(&known)
                ),
                format!("{path}system"),
            ));
            return Ok(checked);
        }
    };
    checked.system = Some(cs.url.clone());
    checked.version = cs.version_opt().map(str::to_owned);
    if cs.content.as_deref() == Some("supplement") {
        out.unknown_systems.push(cs.url.clone());
        out.issues.push(error(
            "invalid",
            "invalid-data",
            "CODESYSTEM_CS_NO_SUPPLEMENT",
            format!(
                "CodeSystem {}|{} is a supplement, so can't be used as a value in Coding.system",
                cs.url, cs.version
            ),
            format!("{path}system"),
        ));
        checked.version = None;
        return Ok(checked);
    }
    let mut concept = snap.txn.concept(cs.id, &code)?;
    if concept.is_none() && !cs.is_case_sensitive() {
        concept = snap.txn.concept_ignoring_case(cs.id, &code)?;
        if let Some(found) = &concept {
            out.normalized_code = Some(found.code.clone());
            out.issues.push(Issue {
                severity: IssueSeverity::Information,
                issue_type: "business-rule",
                tx_type: "code-rule",
                message_id: "CODE_CASE_DIFFERENCE",
                text: format!(
                    "The code '{code}' differs from the correct code '{}' by case. Although the code system '{}' is case insensitive, implementers are strongly encouraged to use the correct case anyway",
                    found.code,
                    cs.canonical()
                ),
                expression: format!("{path}code"),
            });
        }
    }
    let Some(concept) = concept else {
        // A fragment does not list every code: an unknown code may be valid elsewhere.
        if cs.content.as_deref() == Some("fragment") {
            out.issues.push(Issue {
                severity: IssueSeverity::Warning,
                issue_type: "code-invalid",
                tx_type: "invalid-code",
                message_id: "UNKNOWN_CODE_IN_FRAGMENT",
                text: format!(
                    "Unknown Code '{code}' in the CodeSystem '{}' version '{}' - note that the code system is labeled as a fragment, so the code may be valid in some other fragment",
                    cs.url, cs.version
                ),
                expression: format!("{path}code"),
            });
            checked.valid = true;
            return Ok(checked);
        }
        out.issues.push(error(
            "code-invalid",
            "invalid-code",
            if cs.version_opt().is_some() {
                "Unknown_Code_in_Version"
            } else {
                "Unknown_Code_in"
            },
            unknown_code_text(&code, &cs),
            format!("{path}code"),
        ));
        return Ok(checked);
    };
    let mut designations = snap.designations(&cs, concept.id)?;
    designations.extend(
        supplements
            .designations(snap, &cs, &concept.code)?
            .into_iter()
            .map(|(d, _)| d),
    );
    checked.display = req
        .display_language
        .as_deref()
        .map(|lang| super::lookup::display_in(snap, &cs, concept.id, &designations, lang))
        .transpose()?
        .flatten()
        .or_else(|| concept.display.clone());
    checked.inactive = concept.inactive;
    let stated_status = snap
        .txn
        .properties(concept.id)?
        .into_iter()
        .find(|p| p.code == "status")
        .and_then(|p| match p.value {
            crate::model::Value::Code(c) | crate::model::Value::String(c) => Some(c),
            _ => None,
        });
    // A status is reported when it warns: retired, deprecated, discouraged, withdrawn
    // (or any status of an inactive concept), not a code system's own word for active.
    checked.status = stated_status.clone().filter(|s| {
        concept.inactive
            || ["retired", "deprecated", "discouraged", "withdrawn"]
                .contains(&s.to_ascii_lowercase().as_str())
    });
    let mut valid = true;
    if concept.abstract_ && !req.abstract_allowed {
        valid = false;
        out.issues.push(error(
            "business-rule",
            "code-rule",
            "ABSTRACT_CODE_NOT_ALLOWED",
            format!(
                "Code '{}#{}' is abstract, and not allowed in this context",
                cs.url, concept.code
            ),
            format!("{path}code"),
        ));
    }
    if !concept.inactive && stated_status.as_deref() == Some("deprecated") {
        out.issues.push(Issue {
            severity: IssueSeverity::Warning,
            issue_type: "business-rule",
            tx_type: "code-comment",
            message_id: "DEPRECATED_CONCEPT_FOUND",
            text: format!(
                "The concept '{}' is deprecated and its use should be reviewed",
                concept.code
            ),
            expression: format!("{path}code"),
        });
    }
    if concept.inactive {
        let status = stated_status.filter(|s| s != "inactive");
        let status = match status {
            Some(s) => format!("{s} and inactive"),
            None => "inactive".to_string(),
        };
        out.issues.push(Issue {
            severity: IssueSeverity::Warning,
            issue_type: "business-rule",
            tx_type: "code-comment",
            message_id: "INACTIVE_CONCEPT_FOUND",
            text: format!(
                "The concept '{}' has a status of {status} and its use should be reviewed",
                concept.code
            ),
            expression: match path.strip_suffix('.') {
                Some(element) => element.to_string(),
                None => "code".to_string(),
            },
        });
        if cs.url == crate::model::snomed::SNOMED {
            if let Some(text) = snomed_replacements(snap, &cs, &concept)? {
                out.issues.push(Issue {
                    severity: IssueSeverity::Information,
                    issue_type: "informational",
                    tx_type: "code-comment",
                    message_id: "INACTIVE_CONCEPT_REPLACEMENTS",
                    text,
                    expression: format!("{path}code"),
                });
            }
        }
    }
    let retired_display = |d: &crate::model::Designation| {
        d.extensions.iter().any(|e| {
            e.get("url").and_then(|u| u.as_str())
                == Some(
                    "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
                )
                && e.get("valueCode")
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| matches!(v, "withdrawn" | "deprecated" | "retired"))
        })
    };
    let given_display = coding.display.as_deref().filter(|d| !d.is_empty());
    // A display that was once correct (its designation is withdrawn or deprecated) is a
    // warning, not an error.
    if let Some(given) = given_display.filter(|g| {
        designations
            .iter()
            .any(|d| d.value == *g && retired_display(d))
    }) {
        let current: Vec<String> = concept
            .display
            .iter()
            .cloned()
            .chain(
                designations
                    .iter()
                    .filter(|d| !retired_display(d) && d.value != given)
                    .filter(|d| d.language.is_some() && d.language == cs.language)
                    .map(|d| d.value.clone()),
            )
            .map(|v| format!("\"{v}\""))
            .collect();
        out.issues.push(Issue {
            severity: IssueSeverity::Warning,
            issue_type: "invalid",
            tx_type: "display-comment",
            message_id: "INACTIVE_DISPLAY_FOUND",
            text: format!(
                "'{given}' is no longer considered a correct display for code '{}' (status = deprecated). The correct display is one of {}.",
                concept.code,
                current.join(", ")
            ),
            expression: match path.strip_suffix('.') {
                Some(element) => format!("{element}.display"),
                None => "display".to_string(),
            },
        });
    } else if let Some(given) = given_display {
        let mut choices: Vec<(String, Option<String>)> = Vec::new();
        if let Some(d) = &concept.display {
            choices.push((d.clone(), cs.language.clone()));
        }
        // A designation with a use but no language (a synonym of some other kind) is not a
        // display.
        for d in designations
            .iter()
            .filter(|d| d.language.is_some() || d.use_.is_none())
        {
            if !choices
                .iter()
                .any(|(v, l)| v == &d.value && l == &d.language)
            {
                choices.push((d.value.clone(), d.language.clone()));
            }
        }
        // With a display language, only displays in that language count; a code system
        // display without a language counts in every language.
        let languages: Vec<String> = req
            .display_language
            .as_deref()
            .map(|l| {
                l.split(',')
                    .map(|x| x.split(';').next().unwrap_or("").trim().to_string())
                    .filter(|x| !x.is_empty() && x != "*")
                    .collect()
            })
            .unwrap_or_default();
        let in_language = |lang: &Option<String>| {
            languages.is_empty()
                || lang.as_deref().is_none_or(|l| {
                    languages.iter().any(|want| {
                        l.eq_ignore_ascii_case(want)
                            || l.to_ascii_lowercase()
                                .starts_with(&format!("{}-", want.to_ascii_lowercase()))
                    })
                })
        };
        let all_choices = choices.clone();
        let choices: Vec<(String, Option<String>)> = choices
            .into_iter()
            .filter(|(_, l)| in_language(l))
            .collect();
        let shown_languages = req.display_language.as_deref().unwrap_or("--");
        if choices.is_empty() && !languages.is_empty() {
            let default = concept.display.clone().unwrap_or_default();
            if all_choices.iter().any(|(v, _)| v == given) {
                out.issues.push(Issue {
                    severity: IssueSeverity::Information,
                    issue_type: "invalid",
                    tx_type: "invalid-display",
                    message_id: "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_OK",
                    text: format!("There are no valid display names found for the code {}#{} for language(s) '{shown_languages}'. The display is '{given}' which is a valid display for the default language", cs.url, concept.code),
                    expression: format!("{path}display"),
                });
            } else {
                if !req.lenient_display {
                    valid = false;
                }
                out.issues.push(Issue {
                    severity: if req.lenient_display { IssueSeverity::Warning } else { IssueSeverity::Error },
                    issue_type: "invalid",
                    tx_type: "invalid-display",
                    message_id: "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_ERR",
                    text: format!("Wrong Display Name '{given}' for {}#{}. There are no valid display names found for language(s) '{shown_languages}'. Default display is '{default}'", cs.url, concept.code),
                    expression: format!("{path}display"),
                });
            }
        } else if !choices.iter().any(|(v, _)| v == given) {
            let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let whitespace_only = choices.iter().any(|(v, _)| squeeze(v) == squeeze(given));
            let severity = if req.lenient_display {
                IssueSeverity::Warning
            } else {
                IssueSeverity::Error
            };
            if severity == IssueSeverity::Error {
                valid = false;
            }
            out.issues.push(Issue {
                severity,
                issue_type: "invalid",
                tx_type: "invalid-display",
                message_id: if whitespace_only {
                    "Display_Name_WS_for__should_be_one_of__instead_of"
                } else {
                    "Display_Name_for__should_be_one_of__instead_of"
                },
                text: wrong_display_text(
                    given,
                    &cs.url,
                    &concept.code,
                    &choices,
                    req.display_language.as_deref(),
                    whitespace_only,
                ),
                expression: format!("{path}display"),
            });
        }
    }
    checked.valid = valid;
    Ok(checked)
}

fn error(
    issue_type: &'static str,
    tx_type: &'static str,
    message_id: &'static str,
    text: String,
    expression: String,
) -> Issue {
    Issue {
        severity: IssueSeverity::Error,
        issue_type,
        tx_type,
        message_id,
        text,
        expression,
    }
}

/// "Unknown code 'x' in the CodeSystem 'url' version 'v'", as the ecosystem words it.
pub(super) fn unknown_code_text(code: &str, cs: &CodeSystemMeta) -> String {
    match cs.version_opt() {
        Some(v) => format!(
            "Unknown code '{code}' in the CodeSystem '{}' version '{v}'",
            cs.url
        ),
        None => format!("Unknown code '{code}' in the CodeSystem '{}'", cs.url),
    }
}

fn wrong_display_text(
    given: &str,
    system: &str,
    code: &str,
    choices: &[(String, Option<String>)],
    languages: Option<&str>,
    whitespace_only: bool,
) -> String {
    let render = |(value, lang): &(String, Option<String>)| match lang {
        Some(l) => format!("'{value}' ({l})"),
        None => format!("'{value}'"),
    };
    let valid = match choices {
        [] => "no display is defined".to_string(),
        [one] => format!("Valid display is {}", render(one)),
        many => {
            let rendered: Vec<String> = many.iter().map(render).collect();
            let (last, rest) = rendered.split_last().expect("many has at least two");
            format!(
                "Valid display is one of {} choices: {} or {last}",
                many.len(),
                rest.join(", ")
            )
        }
    };
    format!(
        "Wrong {}Display Name '{given}' for {system}#{code}. {valid} (for the language(s) '{}')",
        if whitespace_only {
            "whitespace in "
        } else {
            ""
        },
        languages.unwrap_or("--")
    )
}

/// The historical associations of an inactive SNOMED CT concept that suggest what to use
/// instead (SAME AS, REPLACED BY, POSSIBLY EQUIVALENT TO, ALTERNATIVE), as one sentence.
fn snomed_replacements(
    snap: &Snapshot,
    cs: &crate::model::CodeSystemMeta,
    concept: &crate::model::Concept,
) -> CoreResult<Option<String>> {
    const SUGGESTING: [(&str, &str); 4] = [
        ("900000000000527005", "SAME AS"),
        ("900000000000526001", "REPLACED BY"),
        ("900000000000523009", "POSSIBLY EQUIVALENT TO"),
        ("900000000000530003", "ALTERNATIVE"),
    ];
    let mut found = Vec::new();
    for p in snap.txn.properties(concept.id)? {
        let Some((_, label)) = SUGGESTING.iter().find(|(refset, _)| *refset == p.code) else {
            continue;
        };
        let target = p.value.lexical();
        let display = snap
            .txn
            .concept(cs.id, &target)?
            .and_then(|c| c.display)
            .map(|d| format!(" |{d}|"))
            .unwrap_or_default();
        found.push(format!("{label} {target}{display}"));
    }
    Ok((!found.is_empty()).then(|| {
        format!(
            "The inactive concept '{}' has these historical associations to use instead: {}",
            concept.code,
            found.join("; ")
        )
    }))
}
