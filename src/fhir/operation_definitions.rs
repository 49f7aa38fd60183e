//! The OperationDefinitions Nomen publishes: one per operation of
//! [`capability::OPERATIONS`], served at `{base}/OperationDefinition/{id}` and referenced
//! from the CapabilityStatement. Each says what this server takes and answers: the R4
//! parameters it implements plus its extension parameters (`tx-resource`, the version
//! rules, `lenient-display-validation`, ...), with `base` pointing at the definition it
//! implements. Committed copies live in `fhir-profiles/`; a test keeps them equal.

use serde_json::{json, Value};

use super::capability::{OperationSpec, OPERATIONS, SOFTWARE_VERSION};

/// One parameter: name, `in`/`out`, min, max, FHIR type (empty for a part group),
/// documentation.
type Param = (
    &'static str,
    &'static str,
    u32,
    &'static str,
    &'static str,
    &'static str,
);

const TX_RESOURCE: Param = (
    "tx-resource",
    "in",
    0,
    "*",
    "Resource",
    "A CodeSystem, ValueSet or ConceptMap used for this request only, over the stored content (HL7 terminology ecosystem extension)",
);

const VERSION_RULES: &[Param] = &[
    (
        "system-version",
        "in",
        0,
        "*",
        "canonical",
        "system|version to use where a value set does not state one",
    ),
    (
        "check-system-version",
        "in",
        0,
        "*",
        "canonical",
        "system|version the value set's versions must match (else an error)",
    ),
    (
        "force-system-version",
        "in",
        0,
        "*",
        "canonical",
        "system|version that overrides whatever the value set states",
    ),
];

const VALIDATE_OUT: &[Param] = &[
    (
        "result",
        "out",
        1,
        "1",
        "boolean",
        "Whether the code is valid",
    ),
    (
        "message",
        "out",
        0,
        "1",
        "string",
        "Why it is not, or what to watch",
    ),
    (
        "display",
        "out",
        0,
        "1",
        "string",
        "The display of the code",
    ),
    ("code", "out", 0, "1", "code", "The code validated"),
    ("system", "out", 0, "1", "uri", "The system of the code"),
    (
        "version",
        "out",
        0,
        "1",
        "string",
        "The code system version used",
    ),
    (
        "inactive",
        "out",
        0,
        "1",
        "boolean",
        "Present when the concept is inactive",
    ),
    (
        "issues",
        "out",
        0,
        "1",
        "OperationOutcome",
        "Each problem found, with its location",
    ),
];

/// What both `$validate-code` operations check about a code beyond its identity.
const CODING_CHECKS: &[Param] = &[
    ("display", "in", 0, "1", "string", "A display to check"),
    ("coding", "in", 0, "1", "Coding", "The code as a Coding"),
    (
        "codeableConcept",
        "in",
        0,
        "1",
        "CodeableConcept",
        "The code as a CodeableConcept",
    ),
    (
        "date",
        "in",
        0,
        "1",
        "dateTime",
        "The date of the validation",
    ),
    (
        "abstract",
        "in",
        0,
        "1",
        "boolean",
        "Whether abstract codes are valid",
    ),
    (
        "displayLanguage",
        "in",
        0,
        "1",
        "code",
        "Language displays are judged in",
    ),
    (
        "lenient-display-validation",
        "in",
        0,
        "1",
        "boolean",
        "A wrong display is a warning",
    ),
];

/// The parameters of an operation, in order.
fn parameters(op: &OperationSpec) -> Vec<Param> {
    let mut p: Vec<Param> = match (op.resource, op.name) {
        ("CodeSystem", "lookup") => vec![
            ("code", "in", 0, "1", "code", "The code to look up"),
            (
                "system",
                "in",
                0,
                "1",
                "uri",
                "The code system (type level)",
            ),
            ("version", "in", 0, "1", "string", "The code system version"),
            ("coding", "in", 0, "1", "Coding", "The code as a Coding"),
            (
                "date",
                "in",
                0,
                "1",
                "dateTime",
                "The date for which the information is wanted",
            ),
            (
                "displayLanguage",
                "in",
                0,
                "1",
                "code",
                "Language of the display (else Accept-Language)",
            ),
            (
                "property",
                "in",
                0,
                "*",
                "code",
                "A property to return (default: all)",
            ),
            (
                "useSupplement",
                "in",
                0,
                "*",
                "canonical",
                "A supplement whose designations and properties apply",
            ),
            TX_RESOURCE,
            ("name", "out", 1, "1", "string", "The code system's name"),
            (
                "version",
                "out",
                0,
                "1",
                "string",
                "The code system version",
            ),
            ("display", "out", 1, "1", "string", "The display"),
            ("definition", "out", 0, "1", "string", "The definition"),
            (
                "abstract",
                "out",
                0,
                "1",
                "boolean",
                "Whether the code is abstract (not selectable)",
            ),
            (
                "designation",
                "out",
                0,
                "*",
                "",
                "Designations: language, use, value",
            ),
            (
                "property",
                "out",
                0,
                "*",
                "",
                "Properties: code, value, description",
            ),
        ],
        ("CodeSystem", "validate-code") => [
            vec![
                ("url", "in", 0, "1", "uri", "The code system (type level)"),
                (
                    "codeSystem",
                    "in",
                    0,
                    "1",
                    "CodeSystem",
                    "A code system given inline",
                ),
                ("code", "in", 0, "1", "code", "The code"),
                ("version", "in", 0, "1", "string", "The code system version"),
            ],
            CODING_CHECKS.to_vec(),
            vec![
                (
                    "useSupplement",
                    "in",
                    0,
                    "*",
                    "canonical",
                    "A supplement whose designations apply",
                ),
                TX_RESOURCE,
            ],
            VALIDATE_OUT.to_vec(),
        ]
        .concat(),
        ("CodeSystem", "subsumes") => vec![
            ("codeA", "in", 0, "1", "code", "The first code"),
            ("codeB", "in", 0, "1", "code", "The second code"),
            (
                "system",
                "in",
                0,
                "1",
                "uri",
                "The code system (type level)",
            ),
            ("version", "in", 0, "1", "string", "The code system version"),
            (
                "codingA",
                "in",
                0,
                "1",
                "Coding",
                "The first code as a Coding",
            ),
            (
                "codingB",
                "in",
                0,
                "1",
                "Coding",
                "The second code as a Coding",
            ),
            TX_RESOURCE,
            (
                "outcome",
                "out",
                1,
                "1",
                "code",
                "equivalent | subsumes | subsumed-by | not-subsumed",
            ),
        ],
        ("ValueSet", "expand") => [
            vec![
                ("url", "in", 0, "1", "uri", "The value set (type level)"),
                (
                    "valueSet",
                    "in",
                    0,
                    "1",
                    "ValueSet",
                    "A value set given inline",
                ),
                (
                    "valueSetVersion",
                    "in",
                    0,
                    "1",
                    "string",
                    "The value set version",
                ),
                (
                    "filter",
                    "in",
                    0,
                    "1",
                    "string",
                    "Text filter: word prefixes, case- and accent-insensitive",
                ),
                ("date", "in", 0, "1", "dateTime", "Expand as of this date"),
                ("offset", "in", 0, "1", "integer", "Codes to skip"),
                ("count", "in", 0, "1", "integer", "Page size"),
                (
                    "includeDesignations",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Include designations",
                ),
                (
                    "designation",
                    "in",
                    0,
                    "*",
                    "string",
                    "Designations to include (language or system|code)",
                ),
                (
                    "includeDefinition",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Include the value set definition",
                ),
                (
                    "activeOnly",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Leave out inactive codes",
                ),
                (
                    "excludeNested",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Flat expansion (always: expansions are flat)",
                ),
                (
                    "excludeNotForUI",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Leave out codes not for user interfaces",
                ),
                (
                    "excludePostCoordinated",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "No post-coordinated codes (none are produced)",
                ),
                (
                    "displayLanguage",
                    "in",
                    0,
                    "1",
                    "code",
                    "Language of the displays",
                ),
                (
                    "property",
                    "in",
                    0,
                    "*",
                    "string",
                    "A property to include for each code",
                ),
                (
                    "exclude-system",
                    "in",
                    0,
                    "*",
                    "canonical",
                    "system|version whose codes are left out",
                ),
                (
                    "default-valueset-version",
                    "in",
                    0,
                    "*",
                    "canonical",
                    "url|version for unversioned value set imports",
                ),
                (
                    "useSupplement",
                    "in",
                    0,
                    "*",
                    "canonical",
                    "A supplement whose designations and properties apply",
                ),
            ],
            VERSION_RULES.to_vec(),
            vec![
                TX_RESOURCE,
                (
                    "return",
                    "out",
                    1,
                    "1",
                    "ValueSet",
                    "The value set with its expansion",
                ),
            ],
        ]
        .concat(),
        ("ValueSet", "validate-code") => [
            vec![
                ("url", "in", 0, "1", "uri", "The value set (type level)"),
                (
                    "valueSet",
                    "in",
                    0,
                    "1",
                    "ValueSet",
                    "A value set given inline",
                ),
                (
                    "valueSetVersion",
                    "in",
                    0,
                    "1",
                    "string",
                    "The value set version",
                ),
                ("code", "in", 0, "1", "code", "The code"),
                ("system", "in", 0, "1", "uri", "The system of the code"),
                (
                    "systemVersion",
                    "in",
                    0,
                    "1",
                    "string",
                    "The code system version",
                ),
                (
                    "activeOnly",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Inactive codes are not members",
                ),
            ],
            CODING_CHECKS.to_vec(),
            vec![
                (
                    "valueset-membership-only",
                    "in",
                    0,
                    "1",
                    "boolean",
                    "Check membership only, not displays",
                ),
                (
                    "default-valueset-version",
                    "in",
                    0,
                    "*",
                    "canonical",
                    "url|version for unversioned value set imports",
                ),
            ],
            VERSION_RULES.to_vec(),
            vec![TX_RESOURCE],
            VALIDATE_OUT.to_vec(),
        ]
        .concat(),
        ("ValueSet", "batch-validate-code") => vec![
            (
                "url",
                "in",
                0,
                "1",
                "uri",
                "The value set every entry is validated against (unless an entry names its own)",
            ),
            (
                "validation",
                "in",
                1,
                "*",
                "Resource",
                "A Parameters resource of one ValueSet $validate-code",
            ),
            TX_RESOURCE,
            (
                "validation",
                "out",
                0,
                "*",
                "Resource",
                "The answer to each entry, in order (Parameters or OperationOutcome)",
            ),
        ],
        ("ValueSet", "compare") => vec![
            (
                "thisValueSet",
                "in",
                0,
                "1",
                "ValueSet",
                "The first value set, inline",
            ),
            (
                "thisUrl",
                "in",
                0,
                "1",
                "uri",
                "The first value set by canonical (url or url|version)",
            ),
            (
                "thisVersion",
                "in",
                0,
                "1",
                "string",
                "The version of the first value set",
            ),
            (
                "otherValueSet",
                "in",
                0,
                "1",
                "ValueSet",
                "The value set compared with, inline",
            ),
            (
                "otherUrl",
                "in",
                0,
                "1",
                "uri",
                "The value set compared with, by canonical",
            ),
            (
                "otherVersion",
                "in",
                0,
                "1",
                "string",
                "The version of the value set compared with",
            ),
            VERSION_RULES[0],
            VERSION_RULES[1],
            VERSION_RULES[2],
            TX_RESOURCE,
            (
                "result",
                "out",
                1,
                "1",
                "code",
                "same, subset, superset, overlapping, disjoint, empty or indeterminate",
            ),
            (
                "message",
                "out",
                1,
                "1",
                "string",
                "The relationship in words",
            ),
            (
                "performed-expansion",
                "out",
                1,
                "1",
                "boolean",
                "Whether both value sets had to be expanded",
            ),
            (
                "common-codes",
                "out",
                0,
                "1",
                "string",
                "Codes in both, comma separated, where the comparison listed them",
            ),
            (
                "missing-codes",
                "out",
                0,
                "1",
                "string",
                "Codes only in the first value set",
            ),
            (
                "extra-codes",
                "out",
                0,
                "1",
                "string",
                "Codes only in the value set compared with",
            ),
        ],
        ("", "closure") => vec![
            (
                "name",
                "in",
                1,
                "1",
                "string",
                "The name of the closure table",
            ),
            (
                "concept",
                "in",
                0,
                "*",
                "Coding",
                "Concepts to add to the table",
            ),
            (
                "version",
                "in",
                0,
                "1",
                "string",
                "Replay the changes since this version of the table",
            ),
            (
                "return",
                "out",
                1,
                "1",
                "ConceptMap",
                "The new subsumption relations",
            ),
        ],
        ("", "versions") => vec![
            ("version", "out", 0, "*", "code", "A FHIR version served"),
            ("default", "out", 1, "1", "code", "The default FHIR version"),
        ],
        ("ConceptMap", "translate") => vec![
            ("url", "in", 0, "1", "uri", "The concept map (type level)"),
            (
                "conceptMap",
                "in",
                0,
                "1",
                "ConceptMap",
                "A concept map given inline",
            ),
            (
                "conceptMapVersion",
                "in",
                0,
                "1",
                "string",
                "The concept map version",
            ),
            ("code", "in", 0, "1", "code", "The code to translate"),
            ("system", "in", 0, "1", "uri", "The system of the code"),
            ("version", "in", 0, "1", "string", "The code system version"),
            ("source", "in", 0, "1", "uri", "The source value set scope"),
            ("coding", "in", 0, "1", "Coding", "The code as a Coding"),
            (
                "codeableConcept",
                "in",
                0,
                "1",
                "CodeableConcept",
                "The code as a CodeableConcept",
            ),
            ("target", "in", 0, "1", "uri", "The target value set scope"),
            (
                "targetsystem",
                "in",
                0,
                "1",
                "uri",
                "Only matches in this system",
            ),
            (
                "dependency",
                "in",
                0,
                "*",
                "",
                "Other elements the mapping depends on: element, concept",
            ),
            (
                "reverse",
                "in",
                0,
                "1",
                "boolean",
                "Translate target to source",
            ),
            TX_RESOURCE,
            (
                "result",
                "out",
                1,
                "1",
                "boolean",
                "Whether a match was found",
            ),
            ("message", "out", 0, "1", "string", "Why, or what to watch"),
            (
                "match",
                "out",
                0,
                "*",
                "",
                "Each match: equivalence, concept, product, originMap",
            ),
        ],
        _ => Vec::new(),
    };
    p.shrink_to_fit();
    p
}

/// The parts of a parameter that is a group (no type of its own), by parameter name
/// and use; R4 requires a parameter to have a type or parts (opd-1).
fn parts(name: &str, use_: &str) -> &'static [Param] {
    match (name, use_) {
        ("designation", "out") => &[
            (
                "language",
                "out",
                0,
                "1",
                "code",
                "The language of the designation",
            ),
            (
                "use",
                "out",
                0,
                "1",
                "Coding",
                "What the designation is for",
            ),
            ("value", "out", 1, "1", "string", "The text"),
        ],
        ("property", "out") => &[
            ("code", "out", 1, "1", "code", "The property's code"),
            (
                "value",
                "out",
                0,
                "1",
                "code",
                "The value (value[x]: code, Coding, string, integer, boolean, dateTime or decimal)",
            ),
            (
                "description",
                "out",
                0,
                "1",
                "string",
                "The display of a code value",
            ),
        ],
        ("dependency", "in") => &[
            (
                "element",
                "in",
                0,
                "1",
                "uri",
                "The element the dependency is on",
            ),
            ("concept", "in", 0, "1", "CodeableConcept", "Its value"),
        ],
        ("match", "out") => &[
            (
                "equivalence",
                "out",
                0,
                "1",
                "code",
                "The equivalence of the mapping",
            ),
            ("concept", "out", 0, "1", "Coding", "The concept mapped to"),
            (
                "source",
                "out",
                0,
                "1",
                "Coding",
                "The source concept, when a CodeableConcept was translated",
            ),
            (
                "product",
                "out",
                0,
                "*",
                "",
                "Other elements the mapping produces: element, concept",
            ),
            (
                "originMap",
                "out",
                0,
                "1",
                "canonical",
                "The concept map that gave the match",
            ),
            ("comment", "out", 0, "1", "string", "The mapping's comment"),
        ],
        ("product", "out") => &[
            ("element", "out", 0, "1", "uri", "The element produced"),
            ("concept", "out", 0, "1", "Coding", "Its value"),
        ],
        _ => &[],
    }
}

/// A parameter as OperationDefinition JSON, with its parts when it is a group.
fn parameter_json(param: &Param) -> Value {
    let (name, use_, min, max, type_, doc) = param;
    let mut p = json!({"name": name, "use": use_, "min": min, "max": max, "documentation": doc});
    if type_.is_empty() {
        p["part"] = parts(name, use_).iter().map(parameter_json).collect();
    } else {
        p["type"] = json!(type_);
    }
    p
}

/// The logical id of an operation's definition: `CodeSystem-lookup`, `closure`.
pub fn definition_id(op: &OperationSpec) -> String {
    if op.resource.is_empty() {
        op.name.to_string()
    } else {
        format!("{}-{}", op.resource, op.name)
    }
}

/// The canonical URL of an operation's definition on the server at `base`.
pub fn definition_url(base: &str, op: &OperationSpec) -> String {
    format!("{base}/OperationDefinition/{}", definition_id(op))
}

/// The OperationDefinition of `op` for the server at `base`.
pub fn operation_definition(base: &str, op: &OperationSpec) -> Value {
    let params = parameters(op);
    assert!(
        !params.is_empty(),
        "the operation {}/${} has no OperationDefinition parameters in src/fhir/operation_definitions.rs",
        op.resource,
        op.name
    );
    let id = definition_id(op);
    let system = op.resource.is_empty();
    let instance = matches!(
        (op.resource, op.name),
        ("CodeSystem", "lookup" | "validate-code" | "subsumes")
            | ("ValueSet", "expand" | "validate-code" | "compare")
            | ("ConceptMap", "translate")
    );
    let mut def = json!({
        "resourceType": "OperationDefinition",
        "id": id,
        "url": definition_url(base, op),
        "version": SOFTWARE_VERSION,
        "name": id.replace('-', "_"),
        "title": format!("Nomen ${}", op.name),
        "status": "active",
        "kind": "operation",
        "publisher": "Nomen",
        "description": if op.definition.is_empty() {
            format!(
                "${}, an operation of Nomen's own: the relationship of two value sets, the candidate operation the HL7 terminology ecosystem tests in its `related` suites.",
                op.name
            )
        } else {
            format!(
                "${} as Nomen implements it: the parameters of {} that it takes and answers, and its extension parameters.",
                op.name, op.definition
            )
        },
        "affectsState": op.name == "closure",
        "code": op.name,
        "base": op.definition,
        "system": system,
        "type": !system,
        "instance": instance,
        "parameter": params.iter().map(parameter_json).collect::<Vec<_>>(),
    });
    if !system {
        def["resource"] = json!([op.resource]);
    }
    if op.definition.is_empty() {
        if let Some(d) = def.as_object_mut() {
            d.remove("base");
        }
    }
    def
}

/// The OperationDefinition with this id, if the server implements that operation.
pub fn by_id(base: &str, id: &str) -> Option<Value> {
    OPERATIONS
        .iter()
        .find(|op| definition_id(op) == id)
        .map(|op| operation_definition(base, op))
}

/// Every published OperationDefinition, for the server at `base`.
pub fn all(base: &str) -> Vec<Value> {
    OPERATIONS
        .iter()
        .map(|op| operation_definition(base, op))
        .collect()
}
