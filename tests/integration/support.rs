//! Test support: the real server on an ephemeral loopback port over a real SQLite file,
//! and a small HTTP client.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, OnceLock};

use indicatif::ProgressBar;
use nomen::core::Terminology;
use nomen::http::HttpSettings;
use nomen::import::{import_paths, ImportOptions, ImportReport};
use nomen::store::Store;
use serde_json::Value;

/// A running server and the temporary directory holding its database.
pub struct Server {
    /// FHIR base, e.g. `http://127.0.0.1:41234/fhir`.
    pub base: String,
    /// Server root, e.g. `http://127.0.0.1:41234`.
    pub root: String,
    pub db: PathBuf,
    pub report: Option<ImportReport>,
    _dir: tempfile::TempDir,
}

/// The project's `tests/data` directory.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The shared server: bundled fixtures plus the test code systems of `tests/data`.
pub fn fixtures() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        start(
            &HttpSettings {
                max_body_bytes: 1024 * 1024,
                workers: 2,
                ..HttpSettings::default()
            },
            |store| {
                nomen::fixtures::load_if_empty(store).expect("fixtures load");
                Some(
                    import_paths(
                        store,
                        &[data_dir()],
                        &ImportOptions::default(),
                        &ProgressBar::hidden(),
                    )
                    .expect("test data import"),
                )
            },
        )
    })
}

/// Starts a server over a new database prepared by `setup`.
pub fn start(
    settings: &HttpSettings,
    setup: impl FnOnce(&Store) -> Option<ImportReport>,
) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("nomen.db");
    let store = Arc::new(Store::open(&db).expect("open store"));
    let report = setup(&store);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let terminology = Arc::new(Terminology::new(store));
    let settings = settings.clone();
    let (ready, started) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = nomen::http::start(&settings, listener, terminology).expect("start");
            ready.send(()).expect("signal");
            server.await.expect("server run");
        })
    });
    started.recv().expect("server started");
    Server {
        base: format!("http://{addr}/fhir"),
        root: format!("http://{addr}"),
        db,
        report,
        _dir: dir,
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// The body as JSON (panics with the body if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// For an OperationOutcome reply: the first issue's code.
    pub fn issue_code(&self) -> String {
        let v = self.json();
        assert_eq!(v["resourceType"], "OperationOutcome", "{}", self.body);
        v["issue"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("HTTP exchange");
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .expect("body");
    Reply {
        status,
        content_type,
        body,
    }
}

/// GET with optional extra headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.call())
}

/// POST a body with a content type.
pub fn post(url: &str, content_type: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = agent().post(url).header("Content-Type", content_type);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.send(body))
}

/// A URL with query parameters, percent-encoded.
pub fn url(base: &str, path: &str, params: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    }
}

/// A Parameters resource from `(name, value[x] key, value)` triples.
pub fn parameters(params: &[(&str, &str, Value)]) -> String {
    let list: Vec<Value> = params
        .iter()
        .map(|(name, key, value)| {
            let mut p = serde_json::json!({ "name": name });
            p[*key] = value.clone();
            p
        })
        .collect();
    serde_json::json!({"resourceType": "Parameters", "parameter": list}).to_string()
}

/// The first parameter `name` of a Parameters resource.
pub fn param<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

/// Every parameter `name` of a Parameters resource.
pub fn params<'a>(parameters: &'a Value, name: &str) -> Vec<&'a Value> {
    parameters["parameter"]
        .as_array()
        .map(|a| a.iter().filter(|p| p["name"] == name).collect())
        .unwrap_or_default()
}

/// `(code, value)` of every `property` parameter of a `$lookup` answer, values as text.
pub fn lookup_properties(parameters: &Value) -> Vec<(String, String)> {
    params(parameters, "property")
        .into_iter()
        .map(|p| {
            let parts = p["part"].as_array().expect("parts");
            let code = parts.iter().find(|x| x["name"] == "code").expect("code")["valueCode"]
                .as_str()
                .expect("code text")
                .to_string();
            let value = parts.iter().find(|x| x["name"] == "value").expect("value");
            let text = value
                .as_object()
                .expect("object")
                .iter()
                .find(|(k, _)| k.starts_with("value"))
                .map(|(_, v)| match v {
                    Value::String(s) => s.clone(),
                    Value::Object(o) => o
                        .get("code")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    other => other.to_string(),
                })
                .expect("value[x]");
            (code, text)
        })
        .collect()
}

/// The codes of an expansion's `contains`, nested entries included, depth first.
pub fn expansion_codes(expansion: &Value) -> Vec<String> {
    fn walk(contains: &Value, out: &mut Vec<String>) {
        for c in contains.as_array().into_iter().flatten() {
            out.push(c["code"].as_str().unwrap().to_string());
            walk(&c["contains"], out);
        }
    }
    let mut out = Vec::new();
    walk(&expansion["expansion"]["contains"], &mut out);
    out
}
