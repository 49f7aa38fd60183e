//! The OpenAPI document of the server (served at `/openapi.json`, browsed with the
//! vendored Swagger UI at `/docs`, committed as `openapi/openapi.json`).
//!
//! It is generated from the same tables the router and the CapabilityStatement use
//! ([`capability::OPERATIONS`], [`capability::RESOURCES`]) plus the documentation of each
//! operation's parameters below, so an operation cannot be served without being
//! documented: [`document`] refuses an operation that has no [`OperationDocs`], and the
//! drift test fails when the committed document differs from the generated one. Every
//! example works against the bundled fixtures.

use serde_json::{json, Value};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, LicenseBuilder, ObjectBuilder, OpenApi,
    OpenApiBuilder, PathItem, PathsBuilder, Ref, Required, ResponseBuilder, ResponsesBuilder,
    ServerBuilder, Tag, Type,
};

use crate::fhir::capability::{self, OperationSpec, OPERATIONS, RESOURCES, SOFTWARE_VERSION};

/// A query parameter of an operation: name, schema type, description, example.
type QueryParam = (&'static str, Type, &'static str, Option<&'static str>);

/// What the documentation says about one operation.
pub struct OperationDocs {
    pub resource: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    /// Whether the operation is also answered on an instance (`/{type}/{id}/$name`).
    pub instance: bool,
    /// Whether it may be invoked with GET (query parameters); every operation takes POST.
    pub get: bool,
    pub query: &'static [QueryParam],
    /// The id of an instance the examples work on.
    pub example_id: &'static str,
    /// A POST body that works against the bundled fixtures.
    pub post_example: fn() -> Value,
    /// The resource type of a successful answer.
    pub answer: &'static str,
}

const ACT: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

const TX_RESOURCE: &str = "POST only: `tx-resource` (repeatable) carries CodeSystem, ValueSet or \
ConceptMap resources used for this request only, over the stored content.";

/// The documentation of every operation in [`OPERATIONS`].
pub const DOCS: &[OperationDocs] = &[
    OperationDocs {
        resource: "CodeSystem",
        name: "lookup",
        summary: "Look up a code: display, designations, properties",
        description: "Returns the display (in `displayLanguage` when a designation in that language exists), definition, designations, and properties (`parent`, `child`, `inactive` and every stored property) of a code. Unknown code or system: 404.",
        instance: true,
        get: true,
        query: &[
            ("system", Type::String, "The code system URL", Some(ACT)),
            ("code", Type::String, "The code to look up", Some("AMB")),
            ("version", Type::String, "The code system version (default: the newest loaded)", None),
            ("displayLanguage", Type::String, "BCP-47 language of the display (or the Accept-Language header)", None),
            ("property", Type::String, "A property to return (repeatable; default: all)", None),
            ("useSupplement", Type::String, "Canonical of a code system supplement to apply", None),
        ],
        example_id: "v3-ActCode",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": ACT, "code": "AMB"}}]}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "CodeSystem",
        name: "validate-code",
        summary: "Validate a code (and display) against a code system",
        description: "Answers `result` true or false, with the display, a message and an OperationOutcome in `issues` explaining each problem (unknown code, wrong display, inactive code...).",
        instance: true,
        get: true,
        query: &[
            ("url", Type::String, "The code system URL", Some(ACT)),
            ("code", Type::String, "The code", Some("AMB")),
            ("version", Type::String, "The code system version", None),
            ("display", Type::String, "A display to check", Some("ambulatory")),
            ("displayLanguage", Type::String, "BCP-47 language displays are judged in", None),
            ("lenient-display-validation", Type::Boolean, "A wrong display is a warning, not an error", None),
        ],
        example_id: "v3-ActCode",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": ACT, "code": "AMB", "display": "ambulatory"}}]}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "CodeSystem",
        name: "subsumes",
        summary: "Test subsumption between two codes",
        description: "Answers `equivalent`, `subsumes`, `subsumed-by` or `not-subsumed`, from the precomputed transitive closure.",
        instance: true,
        get: true,
        query: &[
            ("system", Type::String, "The code system URL", Some(ACT)),
            ("codeA", Type::String, "The first code", Some("_ActEncounterCode")),
            ("codeB", Type::String, "The second code", Some("AMB")),
            ("version", Type::String, "The code system version", None),
        ],
        example_id: "v3-ActCode",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "codingA", "valueCoding": {"system": ACT, "code": "_ActEncounterCode"}},
            {"name": "codingB", "valueCoding": {"system": ACT, "code": "AMB"}}]}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "ValueSet",
        name: "expand",
        summary: "Expand a value set",
        description: "Returns the value set with its `expansion`: paged with `count`/`offset`, filtered by text (`filter`: word prefixes, case- and accent-insensitive), with the parameters that shaped it and the code system versions used. More than 1,000 codes without `count`: 422 too-costly.",
        instance: true,
        get: true,
        query: &[
            ("url", Type::String, "The value set URL", Some("http://terminology.hl7.org/ValueSet/v3-ActCode")),
            ("valueSetVersion", Type::String, "The value set version", None),
            ("filter", Type::String, "Text filter on displays and designations", Some("ambul")),
            ("count", Type::Integer, "Page size", Some("10")),
            ("offset", Type::Integer, "Codes to skip", None),
            ("activeOnly", Type::Boolean, "Leave out inactive codes", None),
            ("includeDesignations", Type::Boolean, "Include designations", None),
            ("displayLanguage", Type::String, "BCP-47 language of the displays", None),
            ("property", Type::String, "A property to include (repeatable)", None),
            ("system-version", Type::String, "`system|version` default for unversioned includes (repeatable)", None),
            ("force-system-version", Type::String, "`system|version` that overrides every include (repeatable)", None),
            ("check-system-version", Type::String, "`system|version` the includes must match (repeatable)", None),
            ("exclude-system", Type::String, "`system|version` to leave out (repeatable)", None),
            ("date", Type::String, "Expand as of this date", None),
        ],
        example_id: "v3-ActCode",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"},
            {"name": "count", "valueInteger": 10}]}),
        answer: "ValueSet",
    },
    OperationDocs {
        resource: "ValueSet",
        name: "validate-code",
        summary: "Validate a code against a value set",
        description: "Checks membership from the value set's compose rules (never by expanding), with the display and status checks of CodeSystem `$validate-code`.",
        instance: true,
        get: true,
        query: &[
            ("url", Type::String, "The value set URL", Some("http://terminology.hl7.org/ValueSet/v3-ActEncounterCode")),
            ("valueSetVersion", Type::String, "The value set version", None),
            ("system", Type::String, "The code system of the code", Some(ACT)),
            ("code", Type::String, "The code", Some("AMB")),
            ("systemVersion", Type::String, "The code system version", None),
            ("display", Type::String, "A display to check", None),
            ("displayLanguage", Type::String, "BCP-47 language displays are judged in", None),
            ("activeOnly", Type::Boolean, "Inactive codes are not members", None),
        ],
        example_id: "v3-ActEncounterCode",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"},
            {"name": "coding", "valueCoding": {"system": ACT, "code": "AMB"}}]}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "ValueSet",
        name: "batch-validate-code",
        summary: "Validate many codes in one request",
        description: "Each `validation` parameter is a Parameters resource of a ValueSet `$validate-code`; parameters outside them apply to all. Answers one `validation` per entry, in order; an entry that fails answers with its OperationOutcome.",
        instance: false,
        get: false,
        query: &[],
        example_id: "",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"},
            {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
                {"name": "coding", "valueCoding": {"system": ACT, "code": "AMB"}}]}},
            {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
                {"name": "coding", "valueCoding": {"system": ACT, "code": "NOPE"}}]}}]}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "ValueSet",
        name: "compare",
        summary: "Compare two value sets",
        description: "Says whether `this` value set has the same codes as `other`, a subset or superset of them, some in common, or none. The definitions are compared first (identical includes, whole code systems, code lists, `is-a` subtrees by the closure); otherwise both are expanded (up to 10,000 codes each) and `performed-expansion` is true. `common-codes`, `missing-codes` (only in `this`) and `extra-codes` (only in `other`) list the codes where the comparison looked at them. Answers `indeterminate` with the reason when an expansion fails.",
        instance: true,
        get: false,
        query: &[],
        example_id: "v3-ActEncounterCode",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "thisUrl", "valueUri": "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"},
            {"name": "otherValueSet", "resource": {"resourceType": "ValueSet", "status": "active",
                "url": "http://example.org/ValueSet/ambulatory", "compose": {"include": [
                    {"system": ACT, "concept": [{"code": "AMB"}]}]}}}]}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "",
        name: "closure",
        summary: "Maintain a client's closure table",
        description: "With only `name`, initialises the named closure table (the example); a later call with the same `name` and `concept` codings adds them and answers a ConceptMap of the new subsumption relations. Tables live in memory.",
        instance: false,
        get: false,
        query: &[],
        example_id: "",
        // Initialising a table; a second call with the same name and `concept` codings
        // adds them.
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "name", "valueString": "demo"}]}),
        answer: "ConceptMap",
    },
    OperationDocs {
        resource: "",
        name: "versions",
        summary: "The FHIR versions served",
        description: "Answers the FHIR versions this server supports and the default.",
        instance: false,
        get: true,
        query: &[],
        example_id: "",
        post_example: || json!({"resourceType": "Parameters"}),
        answer: "Parameters",
    },
    OperationDocs {
        resource: "ConceptMap",
        name: "translate",
        summary: "Translate a code through concept maps",
        description: "Uses the named map (`url` or the instance), an inline `conceptMap`, or every map; `reverse` answers target to source. Each match has its equivalence, concept and source map.",
        instance: true,
        get: true,
        query: &[
            ("url", Type::String, "The concept map URL", Some("http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v3")),
            ("conceptMapVersion", Type::String, "The concept map version", None),
            ("system", Type::String, "The system of the code", Some("http://hl7.org/fhir/administrative-gender")),
            ("code", Type::String, "The code to translate", Some("male")),
            ("version", Type::String, "The code system version", None),
            ("source", Type::String, "The source value set scope", None),
            ("target", Type::String, "The target value set scope", None),
            ("targetsystem", Type::String, "Only matches in this system", None),
            ("reverse", Type::Boolean, "Translate target → source", None),
        ],
        example_id: "cm-administrative-gender-v3",
        post_example: || json!({"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v3"},
            {"name": "coding", "valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": "male"}}]}),
        answer: "Parameters",
    },
];

/// The documentation of an operation, if it has any.
pub fn docs_for(op: &OperationSpec) -> Option<&'static OperationDocs> {
    DOCS.iter()
        .find(|d| d.resource == op.resource && d.name == op.name)
}

/// The error answers every FHIR endpoint may give, each an OperationOutcome.
const ERRORS: &[(&str, &str)] = &[
    ("400", "Invalid request or unsupported parameter (OperationOutcome `invalid` / `not-supported`)"),
    ("404", "Unknown code system, value set, concept map, code or version (OperationOutcome `not-found`)"),
    ("405", "Method not allowed"),
    ("406", "No acceptable format (ask for application/fhir+json or application/fhir+xml)"),
    ("413", "Request body too large"),
    ("415", "Unsupported request content type"),
    ("422", "The answer would be too costly (e.g. an unpaged expansion of over 1,000 codes)"),
    ("401", "Production mode: no client certificate"),
    ("403", "Production mode: the certificate is not registered, suspended, annulled, expired or revoked, or the institution holds no licence for the content"),
    ("429", "Production mode: over the institution's rate limit (see Retry-After)"),
    ("500", "Internal error"),
];

/// The error answers every admin endpoint may give, besides its own.
const ADMIN_ERRORS: &[(&str, &str)] = &[
    ("400", "The body or the query is not what the endpoint takes"),
    ("401", "No admin credential: an admin or auditor token, or an administrator's client certificate"),
    ("403", "The identity's role does not allow this (institutions: nothing; auditors: the audit and reports only)"),
    ("500", "Internal error"),
];

/// An OperationOutcome answer.
fn outcome_response(text: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(text)
        .content(
            "application/fhir+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("OperationOutcome")))
                .build(),
        )
        .build()
}

/// Builds the OpenAPI document. Panics when an operation of [`OPERATIONS`] has no
/// documentation: the drift and capability tests run this, so such a change cannot land.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    paths = paths.path(
        "/healthz",
        service_endpoint(
            "healthz",
            "Liveness",
            "Answers 200 `{\"status\":\"ok\"}` without touching the database.",
            &[("200", "The server is alive", "application/json")],
        ),
    );
    paths = paths.path(
        "/readyz",
        service_endpoint(
            "readyz",
            "Readiness",
            "200 when the database opens a snapshot and its schema is the one this binary \
             writes, else 503; each check is listed in `checks`, with the outcome of the latest \
             scheduled backup (reported, not a reason for 503). Client certificate revocation \
             lists are checked only when TLS is configured.",
            &[
                ("200", "Ready", "application/json"),
                ("503", "Not ready: a check failed", "application/json"),
            ],
        ),
    );
    paths = paths.path(
        "/metrics",
        service_endpoint(
            "metrics",
            "Prometheus metrics",
            "Request counts and latency histograms per operation, response cache hits and \
             misses, read pool usage and the loaded content, in the Prometheus text format.",
            &[("200", "The metrics", "text/plain; version=0.0.4")],
        ),
    );
    paths = paths.path(
        "/fhir/metadata",
        PathItem::new(
            HttpMethod::Get,
            fhir_operation(
                "Capabilities",
                "metadata",
                "The server's CapabilityStatement (or TerminologyCapabilities with mode=terminology)",
                "Lists the resources, interactions, search parameters and operations implemented; `mode=terminology` lists every loaded code system version.",
                &[("mode", Type::String, "`full` (default) or `terminology`", None)],
                "CapabilityStatement",
                None,
            ),
        ),
    );
    let mut definition = fhir_operation(
        "Capabilities",
        "read-OperationDefinition",
        "Read the definition of an operation this server implements",
        "Each operation listed in the CapabilityStatement links its OperationDefinition here: the parameters this server takes and answers, extension parameters (`tx-resource`, version rules) included.",
        &[],
        "OperationDefinition",
        None,
    );
    definition.parameters = Some(vec![id_parameter("CodeSystem-lookup")]);
    paths = paths.path(
        "/fhir/OperationDefinition/{id}",
        PathItem::new(HttpMethod::Get, definition),
    );
    for (resource, search_params) in RESOURCES {
        let query: Vec<QueryParam> = search_params
            .iter()
            .map(|(name, kind)| {
                let description: &'static str = match *kind {
                    "uri" => "Exact URL match",
                    "token" => "Exact match",
                    _ => "Case-insensitive prefix match",
                };
                (*name, Type::String, description, None)
            })
            .chain([
                ("_count", Type::Integer, "Page size", None),
                (
                    "_summary",
                    Type::String,
                    "`true` leaves out concepts and compose",
                    None,
                ),
            ])
            .collect();
        let tag = resource.to_string();
        paths = paths.path(
            format!("/fhir/{resource}"),
            PathItem::new(
                HttpMethod::Get,
                fhir_operation(
                    &tag,
                    &format!("search-{resource}"),
                    &format!("Search {resource} resources"),
                    "Answers a searchset Bundle.",
                    &query,
                    "Bundle",
                    None,
                ),
            ),
        );
        let mut read = fhir_operation(
            &tag,
            &format!("read-{resource}"),
            &format!("Read a {resource} by id"),
            "Answers the stored resource (large release code systems say `content: not-present`; their concepts are reached through the operations).",
            &[],
            resource,
            None,
        );
        read.parameters = Some(vec![id_parameter(example_id(resource))]);
        paths = paths.path(
            format!("/fhir/{resource}/{{id}}"),
            PathItem::new(HttpMethod::Get, read),
        );
    }
    for docs in DOCS {
        assert!(
            OPERATIONS
                .iter()
                .any(|op| op.resource == docs.resource && op.name == docs.name),
            "src/http/openapi.rs documents {}/${}, which the server does not implement",
            docs.resource,
            docs.name
        );
    }
    for op in OPERATIONS {
        let docs = docs_for(op).unwrap_or_else(|| {
            panic!(
                "the operation {}/${} has no OpenAPI documentation in src/http/openapi.rs",
                op.resource, op.name
            )
        });
        let tag = if op.resource.is_empty() {
            "System".to_string()
        } else {
            op.resource.to_string()
        };
        let base_path = if op.resource.is_empty() {
            format!("/fhir/${}", op.name)
        } else {
            format!("/fhir/{}/${}", op.resource, op.name)
        };
        let id = op_id(op);
        let description = if op.definition.is_empty() {
            format!("{}\n\n{TX_RESOURCE}", docs.description)
        } else {
            format!(
                "{}\n\nImplements [{}]({}). {TX_RESOURCE}",
                docs.description, op.definition, op.definition
            )
        };
        paths = paths.path(
            &base_path,
            operation_item(docs, &tag, &id, &description, None),
        );
        if docs.instance {
            let instance_path = format!("/fhir/{}/{{id}}/${}", op.resource, op.name);
            paths = paths.path(
                &instance_path,
                operation_item(
                    docs,
                    &tag,
                    &format!("{id}-instance"),
                    &description,
                    Some(docs.example_id),
                ),
            );
        }
    }

    let mut components = ComponentsBuilder::new();
    for name in [
        "Parameters",
        "OperationOutcome",
        "ValueSet",
        "CodeSystem",
        "ConceptMap",
        "Bundle",
        "CapabilityStatement",
        "OperationDefinition",
    ] {
        components = components.schema(
            name,
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(format!(
                    "A FHIR R4 {name} resource (http://hl7.org/fhir/R4/{}.html)",
                    name.to_ascii_lowercase()
                )))
                .property(
                    "resourceType",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([name])),
                )
                .required("resourceType"),
        );
    }
    let tags = [
        "Service",
        "Capabilities",
        "CodeSystem",
        "ValueSet",
        "ConceptMap",
        "System",
    ]
    .into_iter()
    .map(|t| {
        let mut tag = Tag::new(t);
        tag.description = Some(
            match t {
                "Service" => "Health of the service",
                "Capabilities" => "What the server implements and holds",
                "CodeSystem" => "Code systems: read, search, $lookup, $validate-code, $subsumes",
                "ValueSet" => "Value sets: read, search, $expand, $validate-code",
                "ConceptMap" => "Concept maps: read, search, $translate",
                _ => "System-level operations",
            }
            .to_string(),
        );
        tag
    })
    .collect::<Vec<_>>();
    let mut api = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Nomen FHIR R4 terminology server")
                .version(SOFTWARE_VERSION)
                .description(Some(
                    "FHIR R4 terminology services (CodeSystem, ValueSet, ConceptMap and their \
                     operations) over the terminologies this server has loaded. Answers are \
                     FHIR JSON (`application/fhir+json`, the default) or XML \
                     (`application/fhir+xml`, or `_format=xml`); errors are OperationOutcomes. \
                     The examples work against the bundled fixtures of a development server.",
                ))
                .license(Some(LicenseBuilder::new().name("Apache-2.0").build())),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(tags))
        .build();
    // The admin API is documented from its handlers' own annotations and the register's
    // types, and secured by an admin token (or an administrator's client certificate).
    let mut admin = <super::admin::AdminApi as utoipa::OpenApi>::openapi();
    let mut bearer =
        utoipa::openapi::security::Http::new(utoipa::openapi::security::HttpAuthScheme::Bearer);
    bearer.description = Some(
        "An admin or auditor token: the bootstrap token printed at first start, one from          `POST /admin/tokens`, or `nomen admin token`."
            .into(),
    );
    admin
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            utoipa::openapi::security::SecurityScheme::Http(bearer),
        );
    admin.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for (path, item) in admin.paths.paths.iter_mut() {
        for op in [&mut item.get, &mut item.post, &mut item.put]
            .into_iter()
            .flatten()
        {
            op.security = admin.security.clone();
            // Every error is an OperationOutcome, as on the FHIR side.
            for (status, response) in op.responses.responses.iter_mut() {
                if status.as_str() >= "400" {
                    let text = match response {
                        utoipa::openapi::RefOr::T(r) => r.description.clone(),
                        utoipa::openapi::RefOr::Ref(_) => String::new(),
                    };
                    *response = utoipa::openapi::RefOr::T(outcome_response(&text));
                }
            }
            let mut common: Vec<(&str, &str)> = ADMIN_ERRORS.to_vec();
            if path.contains('{') {
                common.push(("404", "No such entry"));
            }
            for (status, text) in common {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| utoipa::openapi::RefOr::T(outcome_response(text)));
            }
        }
    }
    admin.security = None;
    api.merge(admin);
    api
}

/// The document as pretty JSON with a trailing newline, as committed.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().expect("OpenAPI serialises");
    text.push('\n');
    text
}

/// A GET endpoint outside FHIR (health, readiness, metrics): JSON status objects or text.
fn service_endpoint(
    id: &str,
    summary: &str,
    description: &str,
    responses: &[(&str, &str, &str)],
) -> PathItem {
    let mut built = ResponsesBuilder::new();
    for (status, text, content_type) in responses {
        let schema = if content_type.starts_with("application/json") {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("status", ObjectBuilder::new().schema_type(Type::String))
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        };
        built = built.response(
            *status,
            ResponseBuilder::new().description(*text).content(
                *content_type,
                ContentBuilder::new().schema(Some(schema)).build(),
            ),
        );
    }
    PathItem::new(
        HttpMethod::Get,
        OperationBuilder::new()
            .tag("Service")
            .summary(Some(summary))
            .description(Some(description))
            .operation_id(Some(id))
            .responses(built.build()),
    )
}

fn op_id(op: &OperationSpec) -> String {
    if op.resource.is_empty() {
        op.name.to_string()
    } else {
        format!("{}-{}", op.resource, op.name)
    }
}

fn example_id(resource: &str) -> &'static str {
    match resource {
        "CodeSystem" => "v3-ActCode",
        "ValueSet" => "v3-ActEncounterCode",
        _ => "cm-administrative-gender-v3",
    }
}

fn id_parameter(example: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("The logical id of the resource"))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some(json!(example)))
        .build()
}

/// GET and POST of one operation path.
fn operation_item(
    docs: &OperationDocs,
    tag: &str,
    id: &str,
    description: &str,
    instance: Option<&str>,
) -> PathItem {
    let mut post = fhir_operation(
        tag,
        &format!("{id}-post"),
        docs.summary,
        description,
        &[],
        docs.answer,
        Some((docs.post_example)()),
    );
    if let Some(example) = instance {
        post.parameters = Some(vec![id_parameter(example)]);
    }
    let mut item = PathItem::new(HttpMethod::Post, post);
    if docs.get {
        let query: Vec<QueryParam> = if instance.is_some() {
            // On an instance the resource names the system / value set / map.
            docs.query
                .iter()
                .filter(|(name, ..)| !matches!(*name, "system" | "url"))
                .cloned()
                .collect()
        } else {
            docs.query.to_vec()
        };
        let mut get = fhir_operation(
            tag,
            &format!("{id}-get"),
            docs.summary,
            description,
            &query,
            docs.answer,
            None,
        );
        if let Some(example) = instance {
            get.parameters
                .get_or_insert_with(Vec::new)
                .insert(0, id_parameter(example));
        }
        item.get = Some(get);
    }
    item
}

/// One FHIR interaction: its query parameters, an optional Parameters body, the answer
/// and every error answer.
fn fhir_operation(
    tag: &str,
    id: &str,
    summary: &str,
    description: &str,
    query: &[QueryParam],
    answer: &str,
    body_example: Option<Value>,
) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .tag(tag)
        .operation_id(Some(id))
        .summary(Some(summary))
        .description(Some(description));
    for (name, kind, text, example) in query {
        let mut param = ParameterBuilder::new()
            .name(*name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(*text))
            .schema(Some(ObjectBuilder::new().schema_type(kind.clone())));
        if let Some(example) = example {
            let value = match kind {
                Type::Integer => example
                    .parse::<i64>()
                    .map(|n| json!(n))
                    .unwrap_or_else(|_| json!(example)),
                _ => json!(example),
            };
            param = param.example(Some(value));
        }
        builder = builder.parameter(param);
    }
    builder = builder.parameter(
        ParameterBuilder::new()
            .name("_format")
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(
                "`json` (default) or `xml`; overrides the Accept header",
            ))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
    );
    if let Some(example) = body_example {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "A FHIR Parameters resource (JSON or XML; a form-encoded body is read as \
                     query parameters)",
                ))
                .required(Some(Required::True))
                .content(
                    "application/fhir+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Parameters")))
                        .example(Some(example))
                        .build(),
                )
                .content(
                    "application/fhir+xml",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Parameters")))
                        .build(),
                )
                .build(),
        ));
    }
    let mut responses = ResponsesBuilder::new().response(
        "200",
        ResponseBuilder::new()
            .description(format!("A FHIR {answer}"))
            .content(
                "application/fhir+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(answer)))
                    .build(),
            )
            .content(
                "application/fhir+xml",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(answer)))
                    .build(),
            ),
    );
    for (status, text) in ERRORS {
        responses = responses.response(
            *status,
            ResponseBuilder::new().description(*text).content(
                "application/fhir+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("OperationOutcome")))
                    .build(),
            ),
        );
    }
    builder.responses(responses.build()).build()
}

/// Every operation of the capability tables, for the tests that hold them together.
pub fn documented_operations() -> Vec<(&'static str, &'static str)> {
    capability::OPERATIONS
        .iter()
        .filter(|op| docs_for(op).is_some())
        .map(|op| (op.resource, op.name))
        .collect()
}
