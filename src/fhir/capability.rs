//! The server's self-description: the CapabilityStatement (`/metadata`) and the
//! TerminologyCapabilities (`/metadata?mode=terminology`). Both are built from the same
//! constants the router uses, so they list exactly what is implemented.

use serde_json::{json, Value};

use super::operation_definitions::definition_url;
use crate::core::Catalog;

/// Software version reported in the capability statements.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A type-level or instance-level FHIR operation the server answers.
#[derive(Debug, Clone, Copy)]
pub struct OperationSpec {
    /// The resource type it belongs to.
    pub resource: &'static str,
    /// The operation name without `$`.
    pub name: &'static str,
    /// Canonical of the (HL7) OperationDefinition it implements: the `base` of the
    /// definition this server publishes for it; empty for an operation with no
    /// published definition.
    pub definition: &'static str,
}

/// Every operation implemented, in the order they are listed; `resource` is empty for
/// system-level operations (`[base]/$name`).
pub const OPERATIONS: &[OperationSpec] = &[
    OperationSpec {
        resource: "CodeSystem",
        name: "lookup",
        definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
    },
    OperationSpec {
        resource: "CodeSystem",
        name: "validate-code",
        definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code",
    },
    OperationSpec {
        resource: "CodeSystem",
        name: "subsumes",
        definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes",
    },
    OperationSpec {
        resource: "ValueSet",
        name: "expand",
        definition: "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
    },
    OperationSpec {
        resource: "ValueSet",
        name: "validate-code",
        definition: "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
    },
    OperationSpec {
        resource: "ValueSet",
        name: "batch-validate-code",
        definition:
            "http://hl7.org/fhir/uv/tx-ecosystem/OperationDefinition/ValueSet-batch-validate-code",
    },
    OperationSpec {
        resource: "ValueSet",
        name: "compare",
        // The HL7 terminology ecosystem tests a candidate operation (its `related`
        // suites); no published definition exists yet.
        definition: "",
    },
    OperationSpec {
        resource: "",
        name: "closure",
        definition: "http://hl7.org/fhir/OperationDefinition/ConceptMap-closure",
    },
    OperationSpec {
        resource: "",
        name: "versions",
        definition: "http://hl7.org/fhir/OperationDefinition/CapabilityStatement-versions",
    },
    OperationSpec {
        resource: "ConceptMap",
        name: "translate",
        definition: "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
    },
];

/// Resource types served with read and search, and their search parameters.
pub const RESOURCES: &[(&str, &[(&str, &str)])] = &[
    (
        "CodeSystem",
        &[
            ("url", "uri"),
            ("system", "uri"),
            ("version", "token"),
            ("name", "string"),
            ("title", "string"),
            ("status", "token"),
        ],
    ),
    (
        "ValueSet",
        &[
            ("url", "uri"),
            ("version", "token"),
            ("name", "string"),
            ("title", "string"),
            ("status", "token"),
            ("reference", "uri"),
        ],
    ),
    (
        "ConceptMap",
        &[
            ("url", "uri"),
            ("version", "token"),
            ("name", "string"),
            ("title", "string"),
            ("status", "token"),
        ],
    ),
];

/// The CapabilityStatement for a server whose FHIR base is `base`.
/// The version of the HL7 terminology ecosystem test suite this build is checked against
/// (tests/tx-ecosystem, the suite's release 1.9.0), declared as the suite asks.
pub const TX_TESTS_VERSION: &str = "1.9.0";

/// The date this software version was released.
pub const RELEASE_DATE: &str = "2026-11-23";

/// The answer of `$versions`: the FHIR versions served, and the default.
pub fn versions_parameters() -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "version", "valueString": "4.0"},
            {"name": "default", "valueString": "4.0"},
        ],
    })
}

fn feature(definition: &str, value: Value) -> Value {
    let mut v = json!({"url": "value"});
    if let Value::Object(m) = value {
        for (k, x) in m {
            v[k] = x;
        }
    }
    json!({
        "url": "http://hl7.org/fhir/uv/application-feature/StructureDefinition/feature",
        "extension": [{"url": "definition", "valueCanonical": definition}, v],
    })
}

pub fn capability_statement(base: &str) -> Value {
    let mut resources: Vec<Value> = RESOURCES
        .iter()
        .map(|(name, params)| {
            let operations: Vec<Value> = OPERATIONS
                .iter()
                .filter(|o| o.resource == *name)
                .map(|o| json!({"name": o.name, "definition": definition_url(base, o)}))
                .collect();
            let mut r = json!({
                "type": name,
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "searchParam": params.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            });
            if !operations.is_empty() {
                r["operation"] = Value::Array(operations);
            }
            r
        })
        .collect();
    // The definitions of the operations above, published by this server.
    resources.push(json!({
        "type": "OperationDefinition",
        "interaction": [{"code": "read"}],
    }));
    json!({
        "resourceType": "CapabilityStatement",
        "id": "nomen",
        "extension": [
            feature(
                "http://hl7.org/fhir/uv/tx-tests/FeatureDefinition/test-version",
                json!({"valueCode": TX_TESTS_VERSION}),
            ),
            feature(
                "http://hl7.org/fhir/uv/tx-ecosystem/FeatureDefinition/CodeSystemAsParameter",
                json!({"valueBoolean": true}),
            ),
        ],
        "url": format!("{base}/metadata"),
        "version": SOFTWARE_VERSION,
        "name": "Nomen",
        "title": "Nomen terminology server",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "Nomen",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "software": {"name": "Nomen", "version": SOFTWARE_VERSION, "releaseDate": RELEASE_DATE},
        "implementation": {"description": "Nomen FHIR R4 terminology server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [{
            "mode": "server",
            "resource": resources,
            "operation": OPERATIONS
                .iter()
                .filter(|o| o.resource.is_empty())
                .map(|o| json!({"name": o.name, "definition": definition_url(base, o)}))
                .collect::<Vec<_>>(),
        }],
    })
}

/// The `$expand` parameters Nomen understands, as TerminologyCapabilities lists them.
const EXPANSION_PARAMETERS: &[&str] = &[
    "activeOnly",
    "check-system-version",
    "count",
    "date",
    "designation",
    "displayLanguage",
    "exclude-system",
    "excludeNested",
    "excludeNotForUI",
    "filter",
    "force-system-version",
    "includeDefinition",
    "includeDesignations",
    "offset",
    "property",
    "system-version",
    "tx-resource",
    "useSupplement",
];

/// The TerminologyCapabilities listing every loaded code system and its versions.
pub fn terminology_capabilities(base: &str, catalog: &Catalog) -> Value {
    let mut systems: Vec<Value> = Vec::new();
    let mut i = 0;
    let all = &catalog.code_systems;
    while i < all.len() {
        let url = &all[i].url;
        let mut versions = Vec::new();
        let mut j = i;
        while j < all.len() && &all[j].url == url {
            let cs = &all[j];
            let mut v = json!({"isDefault": j == i});
            if let Some(version) = cs.version_opt() {
                v["code"] = json!(version);
            }
            versions.push(v);
            j += 1;
        }
        systems.push(json!({"uri": url, "version": versions, "subsumption": true}));
        i = j;
    }
    json!({
        "resourceType": "TerminologyCapabilities",
        "id": "nomen",
        "url": format!("{base}/metadata?mode=terminology"),
        "version": SOFTWARE_VERSION,
        "name": "Nomen",
        "title": "Nomen terminology capabilities",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "software": {"name": "Nomen", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Nomen FHIR R4 terminology server", "url": base},
        "codeSystem": systems,
        "expansion": {
            "hierarchical": true,
            "paging": true,
            "parameter": EXPANSION_PARAMETERS
                .iter()
                .map(|n| json!({"name": n}))
                .collect::<Vec<_>>(),
        },
        "validateCode": {"translations": false},
        "translation": {"needsMap": false},
        "closure": {"translation": false},
    })
}
