//! Observability over HTTP: the request id on every response, Prometheus metrics per
//! operation, readiness, and the access log in JSON naming the request id.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{fixtures, get, url};

#[test]
fn every_response_carries_a_request_id_and_a_sane_one_is_kept() {
    let s = fixtures();
    let lookup = url(
        &s.base,
        "/CodeSystem/$lookup",
        &[
            ("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"),
            ("code", "AMB"),
        ],
    );
    let header = |r: &ureq::http::Response<ureq::Body>| {
        r.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut seen = std::collections::HashSet::new();
    for target in [
        lookup.clone(),
        format!("{}/metadata", s.base),
        format!("{}/CodeSystem/nope", s.base),
        format!("{}/nowhere", s.root),
        format!("{}/healthz", s.root),
        format!("{}/docs", s.root),
    ] {
        let r = agent.get(&target).call().unwrap();
        let id = header(&r);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{target}: '{id}'");
        assert!(seen.insert(id), "{target}: a repeated request id");
    }
    let r = agent
        .get(&lookup)
        .header("X-Request-Id", "cda-batch-42.7")
        .call()
        .unwrap();
    assert_eq!(header(&r), "cda-batch-42.7");
    // An id that is not safe to echo is replaced.
    for bad in ["two words", &"x".repeat(65)] {
        let r = agent
            .get(&lookup)
            .header("X-Request-Id", bad)
            .call()
            .unwrap();
        let id = header(&r);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad}: '{id}'");
    }
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

#[test]
fn metrics_count_requests_per_operation_with_latency_cache_and_pool() {
    let s = fixtures();
    let lookup = url(
        &s.base,
        "/CodeSystem/$subsumes",
        &[
            ("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"),
            ("codeA", "_ActEncounterCode"),
            ("codeB", "AMB"),
        ],
    );
    let before = get(&format!("{}/metrics", s.root), &[]).body;
    let count = |text: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(
                    r#"nomen_requests_total{operation="CodeSystem/$subsumes",status="200"}"#,
                )
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    for _ in 0..3 {
        assert_eq!(get(&lookup, &[]).status, 200);
    }
    // Unknown paths share one label, whatever they are.
    get(&format!("{}/random-{}", s.root, uuid::Uuid::new_v4()), &[]);
    let r = get(&format!("{}/metrics", s.root), &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    let text = r.body;
    assert!(count(&text) >= count(&before) + 3.0, "{text}");
    assert!(
        metric(
            &text,
            r#"nomen_request_duration_seconds_count{operation="CodeSystem/$subsumes"}"#
        ) >= 3.0
    );
    assert!(metric(&text, r#"nomen_response_cache_total{result="hit"}"#) >= 1.0);
    assert!(metric(&text, r#"nomen_db_pool_connections{state="max"}"#) >= 1.0);
    assert!(metric(&text, "nomen_code_system_versions") >= 20.0);
    assert!(metric(&text, "nomen_concepts") > 1000.0);
    assert!(text.contains(r#"operation="other""#));
    assert!(!text.contains("random-"));
}

#[test]
fn readiness_reports_each_check() {
    let r = get(&format!("{}/readyz", fixtures().root), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "ready");
    assert_eq!(v["checks"]["database"]["ok"], true);
    assert_eq!(v["checks"]["migrations"]["ok"], true);
    assert_eq!(
        v["checks"]["migrations"]["version"],
        nomen::store::schema_version()
    );
}

#[test]
fn json_access_log_names_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(["serve", "--no-fixtures", "--db"])
        .arg(dir.path().join("log.db"))
        .args([
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--log-format",
            "json",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while get_ok(&format!("{base}/healthz")).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = get(
        &format!("{base}/fhir/CodeSystem/$lookup?system=urn:nowhere&code=x"),
        &[("X-Request-Id", "log-test-1")],
    );
    assert_eq!(r.status, 404);
    let stderr = child.stderr.take().unwrap();
    let (found_tx, found_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["fields"]["request_id"] == "log-test-1" {
                    let _ = found_tx.send(v);
                    return;
                }
            }
        }
    });
    let event = found_rx.recv_timeout(Duration::from_secs(10));
    child.kill().ok();
    child.wait().ok();
    let event = event.expect("a JSON log line with the request id");
    assert_eq!(event["target"], "nomen::access");
    assert_eq!(event["fields"]["status"], 404);
    assert_eq!(event["fields"]["operation"], "CodeSystem/$lookup");
}

fn get_ok(target: &str) -> Option<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(1)))
        .build()
        .into();
    agent.get(target).call().ok().map(|_| ())
}
