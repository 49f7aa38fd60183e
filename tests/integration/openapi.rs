//! The developers' side: the OpenAPI document served at `/openapi.json` is the committed
//! `openapi/openapi.json`, its every example works against the bundled fixtures, the
//! Swagger UI is served from the binary, and what the server implements, what the
//! CapabilityStatement lists and what the OpenAPI documents are the same operations.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{fixtures, get, post, url};

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json")
}

fn served() -> Value {
    let r = get(&format!("{}/openapi.json", fixtures().root), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn openapi_document_matches_the_committed_file() {
    if std::env::var("NOMEN_UPDATE_OPENAPI").is_ok() {
        std::fs::write(committed_path(), nomen::http::openapi::document_json()).unwrap();
    }
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(committed_path()).expect("openapi/openapi.json"),
    )
    .unwrap();
    assert_eq!(
        served(),
        committed,
        "the served OpenAPI document changed: run with NOMEN_UPDATE_OPENAPI=1 and commit"
    );
    assert_eq!(
        std::fs::read_to_string(committed_path()).unwrap(),
        nomen::http::openapi::document_json(),
        "openapi/openapi.json is not the generated text: run with NOMEN_UPDATE_OPENAPI=1"
    );
}

/// Every documented FHIR and service GET and POST, invoked with its documented examples,
/// answers 200 with the documented resource type. (The admin API changes the register and
/// needs credentials; its endpoints are exercised end to end in `access.rs`.)
#[test]
fn every_documented_example_works_against_the_fixtures() {
    let doc = served();
    let root = &fixtures().root;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.starts_with("/admin/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut concrete = path.clone();
            let mut query: Vec<(String, String)> = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap();
                let Some(example) = p.get("example") else {
                    continue;
                };
                let text = match example {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                match p["in"].as_str().unwrap() {
                    "path" => concrete = concrete.replace(&format!("{{{name}}}"), &text),
                    _ => query.push((name.to_string(), text)),
                }
            }
            assert!(
                !concrete.contains('{'),
                "{method} {path}: a path parameter has no example"
            );
            let pairs: Vec<(&str, &str)> = query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let target = url(root, &concrete, &pairs);
            let reply = match method.as_str() {
                "get" => get(&target, &[]),
                "post" => {
                    let body = &op["requestBody"]["content"]["application/fhir+json"]["example"];
                    assert!(body.is_object(), "{path}: POST without an example body");
                    post(&target, "application/fhir+json", &body.to_string(), &[])
                }
                other => panic!("undocumented method {other}"),
            };
            assert_eq!(reply.status, 200, "{method} {target}: {}", reply.body);
            let schema = op["responses"]["200"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .map(|c| c["schema"]["$ref"].as_str().unwrap_or("").to_string())
                .unwrap_or_default();
            if let Some(resource) = schema.strip_prefix("#/components/schemas/") {
                assert_eq!(
                    reply.json()["resourceType"],
                    resource,
                    "{method} {target}: {}",
                    reply.body
                );
            }
            // Every documented error status of the FHIR API is an OperationOutcome.
            for (status, response) in op["responses"].as_object().unwrap() {
                if status != "200" && path.starts_with("/fhir/") {
                    assert!(
                        response["content"]["application/fhir+json"]["schema"]["$ref"]
                            .as_str()
                            .unwrap()
                            .ends_with("OperationOutcome")
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} documented interactions");
}

/// Operation names a FHIR terminology server might answer: every one this server
/// implements must be listed in the CapabilityStatement and documented, and every one
/// listed must not answer 501.
const CANDIDATES: &[&str] = &[
    "lookup",
    "validate-code",
    "subsumes",
    "expand",
    "batch-validate-code",
    "translate",
    "closure",
    "versions",
    "compare",
    "related",
    "find-matches",
    "batch-translate",
    "meta",
    "process-message",
];

#[test]
fn implemented_listed_and_documented_operations_are_the_same() {
    let s = fixtures();
    let caps = get(&format!("{}/metadata", s.base), &[]).json();
    let mut listed: BTreeSet<(String, String)> = BTreeSet::new();
    for op in caps["rest"][0]["operation"].as_array().unwrap() {
        listed.insert((String::new(), op["name"].as_str().unwrap().to_string()));
    }
    for resource in caps["rest"][0]["resource"].as_array().unwrap() {
        for op in resource["operation"].as_array().into_iter().flatten() {
            listed.insert((
                resource["type"].as_str().unwrap().to_string(),
                op["name"].as_str().unwrap().to_string(),
            ));
        }
    }
    let doc = served();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|p| {
            let rest = p.strip_prefix("/fhir/")?;
            let (resource, name) = match rest.split_once("/$") {
                Some((resource, name)) if !resource.contains('/') => (resource, name),
                _ => ("", rest.strip_prefix('$')?),
            };
            Some((resource.to_string(), name.to_string()))
        })
        .collect();
    let mut implemented = BTreeSet::new();
    for resource in ["", "CodeSystem", "ValueSet", "ConceptMap"] {
        for name in CANDIDATES {
            let path = if resource.is_empty() {
                format!("{}/${name}", s.base)
            } else {
                format!("{}/{resource}/${name}", s.base)
            };
            let reply = post(
                &path,
                "application/fhir+json",
                r#"{"resourceType":"Parameters"}"#,
                &[],
            );
            let key = (resource.to_string(), name.to_string());
            if reply.status != 501 {
                implemented.insert(key.clone());
            }
            if listed.contains(&key) {
                assert_ne!(
                    reply.status, 501,
                    "{resource}/${name} is listed but answers 501"
                );
            }
        }
    }
    assert_eq!(implemented, listed, "implemented vs CapabilityStatement");
    assert_eq!(implemented, documented, "implemented vs OpenAPI");
}

#[test]
fn swagger_ui_is_served_from_the_binary() {
    let root = &fixtures().root;
    let page = get(&format!("{root}/docs/"), &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("swagger-ui"), "{}", page.body);
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let r = get(&format!("{root}/docs/{asset}"), &[]);
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.body.len() > 100, "{asset}");
    }
    let init = get(&format!("{root}/docs/swagger-initializer.js"), &[]);
    assert!(init.body.contains("/openapi.json"), "{}", init.body);
    // /docs itself leads there.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent.get(format!("{root}/docs")).call().unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(r.headers()["location"], "/docs/");
}

/// Each operation of the CapabilityStatement links the OperationDefinition the server
/// publishes; each is the committed `fhir-profiles/OperationDefinition-{id}.json`, and
/// names every parameter the OpenAPI document offers for that operation.
#[test]
fn operation_definitions_are_published_linked_and_complete() {
    let s = fixtures();
    let caps = get(&format!("{}/metadata", s.base), &[]).json();
    let mut linked: Vec<(String, String, String)> = Vec::new();
    for op in caps["rest"][0]["operation"].as_array().unwrap() {
        linked.push((
            String::new(),
            op["name"].as_str().unwrap().into(),
            op["definition"].as_str().unwrap().into(),
        ));
    }
    for resource in caps["rest"][0]["resource"].as_array().unwrap() {
        for op in resource["operation"].as_array().into_iter().flatten() {
            linked.push((
                resource["type"].as_str().unwrap().into(),
                op["name"].as_str().unwrap().into(),
                op["definition"].as_str().unwrap().into(),
            ));
        }
    }
    assert!(linked.len() >= 9);
    let doc = served();
    let profiles = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fhir-profiles");
    for (resource, name, definition) in &linked {
        assert!(
            definition.starts_with(&format!("{}/OperationDefinition/", s.base)),
            "{definition}"
        );
        let r = get(definition, &[]);
        assert_eq!(r.status, 200, "{definition}: {}", r.body);
        let def = r.json();
        assert_eq!(def["resourceType"], "OperationDefinition");
        assert_eq!(def["code"], name.as_str());
        assert_eq!(def["url"], definition.as_str());
        // Each says which HL7 definition it implements; $compare implements a candidate
        // operation of the HL7 tests that has none yet.
        if name == "compare" {
            assert!(def.get("base").is_none(), "{def}");
        } else {
            assert!(def["base"]
                .as_str()
                .unwrap()
                .starts_with("http://hl7.org/fhir/"));
        }
        let inputs: BTreeSet<&str> = def["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["use"] == "in")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        // R4 opd-1: every parameter has a type or parts, at every level.
        fn typed_or_parts(p: &Value, path: &str) {
            let parts = p["part"].as_array();
            assert!(
                p.get("type").is_some() || parts.is_some_and(|a| !a.is_empty()),
                "{path}: parameter {} has neither type nor parts",
                p["name"]
            );
            for part in parts.into_iter().flatten() {
                typed_or_parts(part, path);
            }
        }
        for p in def["parameter"].as_array().unwrap() {
            typed_or_parts(p, definition);
        }
        if name != "closure" && name != "versions" {
            assert!(inputs.contains("tx-resource"), "{name}: no tx-resource");
        }
        // Every query parameter the OpenAPI document offers is defined.
        let path = if resource.is_empty() {
            format!("/fhir/${name}")
        } else {
            format!("/fhir/{resource}/${name}")
        };
        for p in doc["paths"][&path]["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let pname = p["name"].as_str().unwrap();
            assert!(
                pname == "_format" || inputs.contains(pname),
                "{path}: the OpenAPI parameter {pname} is not in the OperationDefinition"
            );
        }
        // The published copy.
        let id = def["id"].as_str().unwrap();
        let file = profiles.join(format!("OperationDefinition-{id}.json"));
        let text = r.body.replace(&s.base, "{base}");
        let served_def: Value = serde_json::from_str(&text).unwrap();
        if std::env::var("NOMEN_UPDATE_PROFILES").is_ok() {
            std::fs::write(
                &file,
                serde_json::to_string_pretty(&served_def).unwrap() + "\n",
            )
            .unwrap();
        }
        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("{} is missing", file.display())),
        )
        .unwrap();
        assert_eq!(
            served_def, committed,
            "{id} changed: run with NOMEN_UPDATE_PROFILES=1 and commit"
        );
    }
    let r = get(&format!("{}/OperationDefinition/nope", s.base), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["resourceType"], "OperationOutcome");
}

/// The admin routes the server registers and the admin paths the OpenAPI document lists
/// are the same set (both come from one table; this catches a handler whose documented
/// path or method differs from the route it serves).
#[test]
fn every_admin_route_is_documented_and_nothing_else() {
    let doc = served();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if let Some(sub) = path.strip_prefix("/admin") {
            for method in item.as_object().unwrap().keys() {
                documented.push((method.clone(), sub.to_string()));
            }
        }
    }
    let mut routed: Vec<(String, String)> = nomen::http::admin::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed);
    assert!(routed.len() >= 20);
}
