//! Releases loaded while serving, shutdown and crashes, through the real binary: reads
//! never fail or see half a release during an import, SIGTERM lets a request in flight
//! finish, and `kill -9` in the middle of an import leaves the old content serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A generated LOINC release large enough that importing it takes a while.
fn big_release(dir: &Path) -> PathBuf {
    let out = dir.join("Loinc_9.1");
    let status = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-loinc.py"))
        .args(["--out", p(&out), "--codes", "30000", "--parts", "10000"])
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs the LOINC generator");
    assert!(status.success());
    out
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn serve(db: &Path, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args([
            "serve",
            "--db",
            p(db),
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--cache-entries", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while status_of(port, "/healthz") != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn status_of(port: u16, path: &str) -> Option<u16> {
    agent()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .ok()
        .map(|r| r.status().as_u16())
}

fn body_of(port: u16, path: &str) -> (u16, String) {
    let mut r = agent()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .expect("an answer");
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

const LOOKUP: &str =
    "/fhir/CodeSystem/$lookup?system=http://terminology.hl7.org/CodeSystem/v3-ActCode&code=AMB";
const LOINC_LOOKUP: &str = "/fhir/CodeSystem/$lookup?system=http://loinc.org&code=26636-1";

#[test]
fn reads_never_fail_during_an_import_and_the_release_appears_whole() {
    let dir = tempfile::tempdir().unwrap();
    let release = big_release(dir.path());
    let db = dir.path().join("live.db");
    let port = free_port();
    let mut server = serve(&db, port);

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let reads = Arc::new(AtomicUsize::new(0));
    let half_seen = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (stop, failures, reads, half_seen) = (
                stop.clone(),
                failures.clone(),
                reads.clone(),
                half_seen.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (status, _) = body_of(port, LOOKUP);
                    if status != 200 {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    // LOINC is either absent or whole: when the term answers, its
                    // hierarchy (written after the terms) is there too.
                    let (status, body) = body_of(port, LOINC_LOOKUP);
                    if status == 200 && !body.contains("\"parent\"") {
                        half_seen.fetch_add(1, Ordering::Relaxed);
                    }
                    if status != 200 && status != 404 {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    reads.fetch_add(2, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(["import", "--db", p(&db), p(&release)])
        .output()
        .unwrap();
    let import_time = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Keep reading a moment after the commit, while the server notices it.
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    let (status, body) = body_of(port, LOINC_LOOKUP);
    server.kill().ok();
    server.wait().ok();
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    assert_eq!(half_seen.load(Ordering::Relaxed), 0);
    assert!(
        reads.load(Ordering::Relaxed) > 20,
        "only {} reads in {import_time:?}",
        reads.load(Ordering::Relaxed)
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"9.1\""), "{body}");
}

#[test]
fn sigterm_lets_a_request_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("drain.db");
    let port = free_port();
    let mut server = serve(&db, port);
    // A POST whose body is still arriving when SIGTERM comes.
    let body = r#"{"resourceType":"Parameters","parameter":[{"name":"coding","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}}]}"#;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST /fhir/CodeSystem/$lookup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(40);
    stream.write_all(first.as_bytes()).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let term = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(300));
    // Draining: new connections are no longer accepted...
    let refused = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(500),
    )
    .is_err();
    // ...but the request in flight completes.
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("ambulatory"), "{answer}");
    let exit = server.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(
        refused,
        "the server still accepted connections after SIGTERM"
    );
}

#[test]
fn kill_9_during_an_import_leaves_the_old_content_serving() {
    let dir = tempfile::tempdir().unwrap();
    let release = big_release(dir.path());
    let db = dir.path().join("crash.db");
    // The first start fills the new database with the bundled fixtures.
    let port = free_port();
    let mut server = serve(&db, port);
    server.kill().ok();
    server.wait().ok();

    let mut import = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(["import", "--db", p(&db), p(&release)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it is writing (the -wal file grows), before it can commit.
    let wal = dir.path().join("crash.db-wal");
    let started = Instant::now();
    while std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) < 4 * 1024 * 1024 {
        assert!(
            import.try_wait().unwrap().is_none(),
            "the import finished before it could be killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(20));
    }
    import.kill().unwrap(); // SIGKILL
    import.wait().unwrap();

    let port = free_port();
    let mut server = serve(&db, port);
    let (status, _) = body_of(port, LOOKUP);
    let (loinc, _) = body_of(port, LOINC_LOOKUP);
    let (ready, readiness) = body_of(port, "/readyz");
    server.kill().ok();
    server.wait().ok();
    assert_eq!(status, 200, "the old content does not serve");
    assert_eq!(loinc, 404, "half a release is visible");
    assert_eq!(ready, 200, "{readiness}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
