//! Request handlers: extract, parse, call the core, render. Nothing is decided here that
//! the core or the FHIR layer could decide.
//!
//! The CodeSystem operations run on the actix worker thread: each is a handful of indexed
//! SQLite lookups (tens of microseconds), cheaper than a hop to the blocking pool, and the
//! read pool is larger than the worker count so a connection is always free.

use std::panic::{catch_unwind, AssertUnwindSafe};

use actix_web::{http::Method, web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::cache::{Cached, ResponseCache};
use super::negotiate::{self, Rendering};
use super::respond::{error, render_ok, respond};
use super::AppState;
use crate::core::{self, CanonicalKind, CanonicalQuery, ErrorKind, Snapshot};
use crate::fhir::bundle::{self, SearchControl, Shape};
use crate::fhir::conceptmap as fhir_conceptmap;
use crate::fhir::operations::{self, InstanceSystem};
use crate::fhir::resources as fhir_resources;
use crate::fhir::valueset as fhir_valueset;
use crate::fhir::{capability, FhirError, OperationInput, Problem};

/// `/docs` → `/docs/`, where the Swagger UI lives (its assets load relative to it).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", "/docs/"))
        .finish()
}

/// `GET /healthz`: liveness, no database work; in production the detail lists each
/// CRL's state (a CRL that failed to load or expired is reported here).
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if !state.production {
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"ok"}"#);
    }
    let crls = state.access.crls.status();
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "detail": {"crl": crls, "crl_policy": state.access.crls.policy},
    }))
}

/// `GET /fhir/metadata[?mode=terminology]`.
pub async fn metadata(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    with_rendering(&req, |rendering| {
        let base = negotiate::base_url(&req);
        let terminology = form_urlencoded::parse(req.query_string().as_bytes())
            .any(|(k, v)| k == "mode" && v == "terminology");
        let result = guarded(|| {
            if terminology {
                let snap = state.terminology.snapshot()?;
                Ok(capability::terminology_capabilities(&base, &snap.catalog))
            } else {
                Ok(capability::capability_statement(&base))
            }
        });
        respond(rendering, result)
    })
}

/// `/fhir/{type}`: search (GET), or a system-level operation when `type` is `$name`.
async fn type_level(
    req: HttpRequest,
    kind: String,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if kind.starts_with('$') {
        return operation(req, payload, state, String::new(), None, kind).await;
    }
    cached_get(&req, &state, &kind, |k, generation| {
        search(&req, &state, k, generation)
    })
}

/// A GET of a resource type (read or search), answered from the response cache like
/// operations: a browsing client repeats them, and a hit spares parsing the stored
/// resources. `answer` records the store generation it read.
fn cached_get(
    req: &HttpRequest,
    state: &AppState,
    kind: &str,
    answer: impl FnOnce(CanonicalKind, &mut Option<i64>) -> Result<Value, FhirError>,
) -> HttpResponse {
    with_rendering(req, |rendering| {
        let k = match resource_kind(kind) {
            Ok(k) if *req.method() == Method::GET => k,
            Ok(_) => return error(rendering, &method_not_allowed(req, kind)),
            Err(e) => return error(rendering, &e),
        };
        let key = ResponseCache::key(req, &[]);
        if let Some(hit) = cached(state, key.as_deref()) {
            return hit;
        }
        let mut generation = None;
        let result = guarded(|| answer(k, &mut generation));
        respond_remembered(state, rendering, key, generation, result)
    })
}

/// `GET /fhir/OperationDefinition/{id}`: the definition of an operation this server
/// implements, as published in `fhir-profiles/`.
fn operation_definition(req: &HttpRequest, id: &str) -> HttpResponse {
    with_rendering(req, |rendering| {
        let base = negotiate::base_url(req);
        let result = crate::fhir::operation_definitions::by_id(&base, id).ok_or_else(|| {
            FhirError::from(core::CoreError::not_found(format!(
                "OperationDefinition/{id} is not known"
            )))
        });
        respond(rendering, result)
    })
}

/// `/fhir/{type}/{id}`: read (GET), or a type-level operation when `id` is `$name`.
async fn instance_level(
    req: HttpRequest,
    kind: String,
    id: String,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if id.starts_with('$') {
        return operation(req, payload, state, kind, None, id).await;
    }
    cached_get(&req, &state, &kind, |k, generation| {
        let snap = state.terminology.snapshot()?;
        *generation = Some(snap.catalog.generation);
        let (_, json) = snap.read(k, &id)?;
        parse_stored(&json)
    })
}

/// `/fhir/{type}/{id}/{op}`: an instance-level operation.
async fn instance_operation(
    req: HttpRequest,
    (kind, id, op): (String, String, String),
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if !op.starts_with('$') {
        let rendering = negotiate::rendering(&req).unwrap_or_default();
        return error(rendering, &unknown_path(&req));
    }
    operation(req, payload, state, kind, Some(id), op).await
}

/// Everything under `/fhir/` but the capability statement, routed here by its path
/// segments: `{type}` (search, system operation), `OperationDefinition/{id}`,
/// `{type}/{id}` (read, type operation), `{type}/{id}/{op}`. (As actix routes each of
/// these was a regex match, tried in turn; on a cached answer they were a sixth of the
/// server's work.)
pub async fn fhir(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let rest = req.path().strip_prefix("/fhir/").unwrap_or_default();
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    if segments.iter().any(String::is_empty) {
        return fallback(req).await;
    }
    let mut segments = segments.into_iter();
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some(kind), None, None, None) => type_level(req, kind, payload, state).await,
        (Some(kind), Some(id), None, None)
            if kind == "OperationDefinition" && req.method() == Method::GET =>
        {
            operation_definition(&req, &id)
        }
        (Some(kind), Some(id), None, None) => instance_level(req, kind, id, payload, state).await,
        (Some(kind), Some(id), Some(op), None) => {
            instance_operation(req, (kind, id, op), payload, state).await
        }
        _ => fallback(req).await,
    }
}

/// Anything else under the server: 404 with an OperationOutcome.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let rendering = negotiate::rendering(&req).unwrap_or_default();
    error(rendering, &unknown_path(&req))
}

async fn operation(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    kind: String,
    instance: Option<String>,
    op: String,
) -> HttpResponse {
    // A GET answered before is served first: its key holds everything that decided the
    // answer (path, query, negotiation headers), and only successes are cached.
    if req.method() == Method::GET && !uncached(&op) {
        if let Some(hit) = ResponseCache::key(&req, &[]).and_then(|k| state.cache.get(&k)) {
            return HttpResponse::Ok()
                .content_type(hit.content_type)
                .body(hit.body);
        }
    }
    let rendering = match negotiate::rendering(&req) {
        Ok(r) => r,
        Err(e) => return error(Rendering::default(), &e),
    };
    let name = op.trim_start_matches('$');
    let known = capability::OPERATIONS
        .iter()
        .any(|o| o.resource == kind && o.name == name);
    if !known {
        let e = match kind.as_str() {
            "" => not_implemented(&format!("The system-level operation {op} is not supported")),
            kind => not_implemented(&format!("The operation {op} is not supported on {kind}")),
        };
        return error(rendering, &e);
    }
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return error(rendering, &method_not_allowed(&req, &op));
    }
    let body = match negotiate::body(&req, payload, state.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return error(rendering, &e),
    };
    // The licence check reads what the request asked about, body included.
    if !body.is_empty() {
        req.extensions_mut()
            .insert(super::access::RequestBody(body.clone()));
    }
    let key = if uncached(name) {
        None
    } else {
        ResponseCache::key(&req, &body)
    };
    if let Some(hit) = cached(&state, key.as_deref()) {
        return hit;
    }
    let language = negotiate::accept_language(&req);
    let mut generation = None;
    let disclosed = std::cell::RefCell::new(Vec::new());
    let result = guarded(|| {
        let input = negotiate::operation_input(&req, &body)?;
        let resources = fhir_resources::request_resources(&input)?;
        let answer = state.terminology.with_resources(&resources, |snap| {
            generation = Some(snap.catalog.generation);
            let call = Call {
                snap,
                disclosed: &disclosed,
                input: &input,
                instance: instance.as_deref(),
                language: language.as_deref(),
                expansion_limit: state.expansion_limit,
                closures: &state.terminology.closures,
                expansions: &state.terminology.expansions,
            };
            Ok(run_operation(&call, &kind, name))
        });
        answer?
    });
    let disclosed = disclosed.into_inner();
    if !disclosed.is_empty() {
        req.extensions_mut()
            .insert(super::access::Disclosed(disclosed.join(" ")));
    }
    respond_remembered(&state, rendering, key, generation, result)
}

/// Operations whose answers are never taken from, or kept in, the response cache:
/// `$closure` changes server state, and a `$compare` answer lists bare codes, so its
/// licence check needs the code systems the comparison found ([`Call::disclosed`]),
/// which a cached answer would not have.
fn uncached(op: &str) -> bool {
    matches!(op.trim_start_matches('$'), "closure" | "compare")
}

/// The cached answer for `key`, if one is still valid.
fn cached(state: &AppState, key: Option<&[u8]>) -> Option<HttpResponse> {
    let hit = state.cache.get(key?)?;
    Some(
        HttpResponse::Ok()
            .content_type(hit.content_type)
            .body(hit.body),
    )
}

/// Renders an answer; a success is remembered under `key` for the store `generation`
/// that produced it (errors never are).
fn respond_remembered(
    state: &AppState,
    rendering: Rendering,
    key: Option<Vec<u8>>,
    generation: Option<i64>,
    result: Result<Value, FhirError>,
) -> HttpResponse {
    match result {
        Ok(value) => match render_ok(rendering, &value) {
            Ok(bytes) => {
                if let (Some(key), Some(generation)) = (key, generation) {
                    state.cache.put(
                        key,
                        Cached {
                            generation,
                            content_type: rendering.format.content_type(),
                            body: bytes.clone(),
                        },
                    );
                }
                HttpResponse::Ok()
                    .content_type(rendering.format.content_type())
                    .body(bytes)
            }
            Err(response) => *response,
        },
        Err(e) => error(rendering, &e),
    }
}

/// Everything an operation call needs besides its name.
struct Call<'a> {
    snap: &'a Snapshot<'a>,
    /// Code systems the answer drew on without naming them, for the licence check.
    disclosed: &'a std::cell::RefCell<Vec<String>>,
    input: &'a OperationInput,
    /// The logical id for instance-level calls.
    instance: Option<&'a str>,
    language: Option<&'a str>,
    expansion_limit: usize,
    closures: &'a core::ClosureTables,
    expansions: &'a core::ExpansionCache,
}

fn run_operation(call: &Call, kind: &str, name: &str) -> Result<Value, FhirError> {
    let (snap, input, language) = (call.snap, call.input, call.language);
    match (kind, name) {
        ("CodeSystem", _) => {
            let instance = call
                .instance
                .map(|id| instance_system(snap, id))
                .transpose()?;
            let instance = instance.as_ref();
            match name {
                "lookup" => {
                    let req = operations::lookup_request(input, instance, language)?;
                    Ok(operations::lookup_parameters(&core::lookup(snap, &req)?))
                }
                "validate-code" => {
                    let req = operations::validate_request(input, instance, language)?;
                    Ok(operations::validate_parameters(
                        &core::validate_code(snap, &req)?,
                        &req,
                    ))
                }
                "subsumes" => {
                    let req = operations::subsumes_request(input, instance)?;
                    Ok(operations::subsumes_parameters(core::subsumes(snap, &req)?))
                }
                other => Err(not_implemented(&format!(
                    "The operation ${other} is not supported"
                ))),
            }
        }
        ("ValueSet", "validate-code") => {
            let instance = call
                .instance
                .map(|id| instance_value_set(snap, id))
                .transpose()?;
            let req = fhir_valueset::validate_request(input, instance, language)?;
            let result = core::validate_in_value_set(snap, &req)?;
            Ok(operations::validate_parameters(&result, &req.coding))
        }
        ("", "versions") => Ok(capability::versions_parameters()),
        ("ValueSet", "batch-validate-code") => {
            // Each `validation` entry is validated with the parameters the batch shares;
            // an entry that fails answers with its OperationOutcome, the others go on.
            let shared = input.without("validation");
            let mut answers = Vec::new();
            for entry in input.resources("validation")? {
                let mut one = OperationInput::from_parameters(entry.clone())?;
                // An entry's own parameters win over the shared ones of the same name.
                let mut rest = shared.clone();
                for name in one.names() {
                    rest = rest.without(&name);
                }
                one.extend(rest);
                let inner = Call {
                    input: &one,
                    ..*call
                };
                let answer = match run_operation(&inner, "ValueSet", "validate-code") {
                    Ok(mut v) => {
                        if let Some(list) = v["parameter"].as_array_mut() {
                            list.sort_by(|a, b| {
                                a["name"]
                                    .as_str()
                                    .unwrap_or("")
                                    .cmp(b["name"].as_str().unwrap_or(""))
                            });
                        }
                        v
                    }
                    Err(e) => e.to_outcome(),
                };
                answers.push(json!({"name": "validation", "resource": answer}));
            }
            Ok(json!({"resourceType": "Parameters", "parameter": answers}))
        }
        ("", "closure") => {
            let req = fhir_conceptmap::closure_request(input)?;
            let result = call.closures.closure(snap, &req)?;
            Ok(fhir_conceptmap::closure_concept_map(&result))
        }
        ("ConceptMap", "translate") => {
            let instance = match call.instance {
                Some(id) => Some(
                    snap.catalog
                        .concept_map_by_id(id)
                        .map(|h| match h.version.as_str() {
                            "" => h.url.clone(),
                            v => format!("{}|{v}", h.url),
                        })
                        .ok_or_else(|| {
                            core::CoreError::not_found(format!("ConceptMap/{id} is not known"))
                        })?,
                ),
                None => None,
            };
            let req = fhir_conceptmap::translate_request(input, instance)?;
            Ok(fhir_conceptmap::translate_parameters(
                &core::translate(snap, &req)?,
                input,
            ))
        }
        ("ValueSet", "expand") => {
            let instance = call
                .instance
                .map(|id| instance_value_set(snap, id))
                .transpose()?;
            let req =
                fhir_valueset::expand_request(input, instance, language, call.expansion_limit)?;
            let expansion = core::expand_with(snap, &req, Some(call.expansions))?;
            Ok(fhir_valueset::expansion_resource(
                &expansion, input, language,
            ))
        }
        ("ValueSet", "compare") => {
            let instance = call
                .instance
                .map(|id| instance_value_set(snap, id))
                .transpose()?;
            let req = fhir_valueset::compare_request(input, instance)?;
            let comparison = core::compare(snap, &req)?;
            call.disclosed
                .borrow_mut()
                .extend(comparison.systems.iter().cloned());
            Ok(fhir_valueset::compare_parameters(&comparison))
        }
        (kind, name) => Err(not_implemented(&format!(
            "The operation ${name} is not supported on {kind}"
        ))),
    }
}

fn instance_value_set(snap: &Snapshot, id: &str) -> Result<(String, Option<String>), FhirError> {
    let h = snap
        .catalog
        .value_set_by_id(id)
        .ok_or_else(|| core::CoreError::not_found(format!("ValueSet/{id} is not known")))?;
    Ok((
        h.url.clone(),
        Some(h.version.clone()).filter(|v| !v.is_empty()),
    ))
}

fn instance_system(snap: &Snapshot, id: &str) -> Result<InstanceSystem, FhirError> {
    let cs = snap
        .catalog
        .by_resource_id(id)
        .ok_or_else(|| core::CoreError::not_found(format!("CodeSystem/{id} is not known")))?;
    Ok(InstanceSystem {
        url: cs.url.clone(),
        version: cs.version_opt().map(str::to_owned),
    })
}

fn search(
    req: &HttpRequest,
    state: &AppState,
    kind: CanonicalKind,
    generation: &mut Option<i64>,
) -> Result<Value, FhirError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let control = SearchControl::from_pairs(&pairs)?;
    let mut query = CanonicalQuery::default();
    for (k, v) in &pairs {
        let slot = match (k.as_str(), kind) {
            ("url", _) | ("system", CanonicalKind::CodeSystem) => &mut query.url,
            ("version", _) => &mut query.version,
            ("name", _) => &mut query.name,
            ("title", _) => &mut query.title,
            ("status", _) => &mut query.status,
            ("_id", _) => &mut query.id,
            ("reference", CanonicalKind::ValueSet) => &mut query.reference,
            (k, _) if k.starts_with('_') => continue,
            (other, _) => {
                return Err(FhirError::invalid(format!(
                    "The search parameter '{}' is not supported for {}",
                    crate::fhir::params::truncate(other),
                    kind.name()
                )))
            }
        };
        *slot = Some(v.clone());
    }
    let snap = state.terminology.snapshot()?;
    *generation = Some(snap.catalog.generation);
    let hits = snap.search(kind, &query)?;
    let total = hits.len();
    let page = if control.shape == Shape::Count {
        Vec::new()
    } else {
        hits.iter()
            .skip(control.offset)
            .take(control.count.unwrap_or(usize::MAX))
            .map(|hit| {
                let resource = parse_stored(&snap.resource_json(kind, hit)?)?;
                Ok((
                    kind.name().to_string(),
                    hit.resource_id.clone(),
                    bundle::shape_resource(resource, &control.shape),
                ))
            })
            .collect::<Result<Vec<_>, FhirError>>()?
    };
    let base = negotiate::base_url(req);
    let self_link = format!("{base}/{}?{}", kind.name(), req.query_string());
    Ok(bundle::searchset(&base, &self_link, total, page))
}

fn parse_stored(json: &str) -> Result<Value, FhirError> {
    serde_json::from_str(json).map_err(|e| {
        tracing::error!(error = %e, "stored resource is not valid JSON");
        FhirError::new(
            Problem::Core(ErrorKind::Internal),
            "A stored resource could not be read",
        )
    })
}

fn resource_kind(kind: &str) -> Result<CanonicalKind, FhirError> {
    match kind {
        "CodeSystem" => Ok(CanonicalKind::CodeSystem),
        "ValueSet" => Ok(CanonicalKind::ValueSet),
        "ConceptMap" => Ok(CanonicalKind::ConceptMap),
        other => Err(FhirError::new(
            Problem::Core(ErrorKind::NotFound),
            format!(
                "This server does not serve {} resources",
                crate::fhir::params::truncate(other)
            ),
        )),
    }
}

/// Runs a synchronous piece of request work so that a panic becomes a 500
/// OperationOutcome instead of a dropped connection.
fn guarded(f: impl FnOnce() -> Result<Value, FhirError>) -> Result<Value, FhirError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        tracing::error!("request handler panicked");
        Err(FhirError::new(
            Problem::Core(ErrorKind::Internal),
            "An internal error occurred",
        ))
    })
}

fn with_rendering(req: &HttpRequest, f: impl FnOnce(Rendering) -> HttpResponse) -> HttpResponse {
    match negotiate::rendering(req) {
        Ok(rendering) => f(rendering),
        Err(e) => error(Rendering::default(), &e),
    }
}

fn not_implemented(message: &str) -> FhirError {
    FhirError::new(Problem::NotImplemented, message)
}

fn method_not_allowed(req: &HttpRequest, target: &str) -> FhirError {
    FhirError::new(
        Problem::MethodNotAllowed,
        format!(
            "{} is not allowed on {}",
            req.method(),
            crate::fhir::params::truncate(target)
        ),
    )
}

fn unknown_path(req: &HttpRequest) -> FhirError {
    FhirError::new(
        Problem::Core(ErrorKind::NotFound),
        format!(
            "Nothing is served at {}",
            crate::fhir::params::truncate(req.path())
        ),
    )
}
