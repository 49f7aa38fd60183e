//! Production mode end to end: the real `nomen serve --config` binary over HTTPS, with a
//! test PKI made by `scripts/pki.sh` (the openssl command line), a TLS client with
//! client certificates (openssl), the admin API, CRLs, licences, limits and the audit.
//!
//! One server is shared; each test works with its own institutions and certificates.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use serde_json::{json, Value};

const SCT: &str = "http://snomed.info/sct";
const ACT: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// The shared production server.
pub struct Prod {
    pub port: u16,
    pub pki: PathBuf,
    pub token: String,
    _child: ChildGuard,
    _dir: tempfile::TempDir,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Runs `scripts/pki.sh` with `args` in `dir`, one at a time (`openssl ca` keeps its
/// database in files that concurrent runs would corrupt).
pub fn pki(dir: &Path, args: &[&str], ca: Option<&str>) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pki.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script).arg(args[0]).arg(dir).args(&args[1..]);
    if let Some(ca) = ca {
        cmd.env("CA", ca);
    }
    let out = cmd.output().expect("run pki.sh");
    assert!(
        out.status.success(),
        "pki.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server, started once: CA + server certificate + empty CRL, `nomen serve --config`,
/// then the SNOMED CT fragment imported into the running server's database.
pub fn prod() -> &'static Prod {
    static PROD: OnceLock<Prod> = OnceLock::new();
    PROD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pki_dir = dir.path().join("pki");
        pki(&pki_dir, &["ca"], None);
        pki(&pki_dir, &["server", "localhost", "127.0.0.1"], None);
        pki(&pki_dir, &["crl"], None);
        pki(&pki_dir, &["ca", "untrusted"], None);
        let port = free_port();
        let db = dir.path().join("nomen.db");
        let config = dir.path().join("nomen.toml");
        std::fs::write(
            &config,
            format!(
                r#"db = "{db}"
addr = "127.0.0.1:{port}"
workers = 2

[tls]
cert = "{p}/server.pem"
key = "{p}/server.key"
crl_refresh = "24h"
crl_policy = "fail-closed"

[[tls.client_ca]]
cert = "{p}/ca.pem"
crl = "{p}/ca.crl"

[limits]
requests_per_second = 20
codes_per_hour = 1000000
"#,
                db = db.display(),
                p = pki_dir.display()
            ),
        )
        .unwrap();
        let log = dir.path().join("serve.log");
        // The server outlives no test run: a shared server is never dropped, so a shell
        // watches this process and stops the server when it is gone.
        let child = Command::new("bash")
            .args([
                "-c",
                r#""$@" & server=$!
                   while kill -0 "$PPID" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
                   kill "$server" 2>/dev/null; wait"#,
                "watch",
                env!("CARGO_BIN_EXE_nomen"),
                "serve",
                "--config",
            ])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start nomen serve");
        let guard = ChildGuard(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let token = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains("NOMEN_BOOTSTRAP_TOKEN=")) {
                let token = line.split("NOMEN_BOOTSTRAP_TOKEN=").nth(1).unwrap().trim();
                if text.contains("FHIR base https://") {
                    break token.to_string();
                }
            }
            assert!(Instant::now() < deadline, "server did not start: {text}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let fragment =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/access/snomed-fragment.json");
        let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
            .args(["import", "--db"])
            .arg(&db)
            .arg(fragment)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let server = Prod {
            port,
            pki: pki_dir,
            token,
            _child: guard,
            _dir: dir,
        };
        // Wait until the server answers over TLS.
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.request(None, "GET", "/healthz", None, &[]).is_err() {
            assert!(Instant::now() < deadline, "no TLS answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    })
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The first issue's text of an OperationOutcome.
    pub fn issue(&self) -> String {
        let v = self.json();
        assert_eq!(v["resourceType"], "OperationOutcome", "{}", self.body);
        v["issue"][0]["details"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Prod {
    /// One request over a new TLS connection, presenting `client` (a name in the PKI
    /// directory) if given. `Err` when the TLS handshake or the exchange fails.
    pub fn request(
        &self,
        client: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_ca_file(self.pki.join("ca.pem")).unwrap();
        b.set_verify(SslVerifyMode::PEER);
        if let Some(name) = client {
            b.set_certificate_file(self.pki.join(format!("{name}.pem")), SslFiletype::PEM)
                .unwrap();
            b.set_private_key_file(self.pki.join(format!("{name}.key")), SslFiletype::PEM)
                .unwrap();
        }
        let connector = b.build();
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut tls = connector
            .connect("localhost", tcp)
            .map_err(|e| format!("handshake: {e}"))?;
        let body = body.unwrap_or("");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        let typed = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if !body.is_empty() && !typed {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        tls.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        match tls.read_to_end(&mut raw) {
            Ok(_) => {}
            // A close without close_notify after a complete answer is fine.
            Err(_) if !raw.is_empty() => {}
            Err(e) => return Err(format!("read: {e}")),
        }
        let text = String::from_utf8_lossy(&raw).to_string();
        let (headers, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
        let status = headers
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status: {headers}"))?;
        Ok(Answer {
            status,
            headers: headers.to_string(),
            body: body.to_string(),
        })
    }

    /// `n` GETs of `path` on one keep-alive connection as `client`: the statuses, and the
    /// first 429 answer's head and body.
    pub fn burst(&self, client: &str, path: &str, n: usize) -> (Vec<u16>, Option<Answer>) {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_ca_file(self.pki.join("ca.pem")).unwrap();
        b.set_certificate_file(self.pki.join(format!("{client}.pem")), SslFiletype::PEM)
            .unwrap();
        b.set_private_key_file(self.pki.join(format!("{client}.key")), SslFiletype::PEM)
            .unwrap();
        let tcp = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut tls = b.build().connect("localhost", tcp).unwrap();
        let mut statuses = Vec::new();
        let mut limited = None;
        let mut pending = Vec::new();
        for _ in 0..n {
            let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
            tls.write_all(head.as_bytes()).unwrap();
            // Read one answer: head, then Content-Length bytes.
            let (headers, body) = loop {
                if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                    let headers = String::from_utf8_lossy(&pending[..end]).to_string();
                    let length: usize = headers
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if pending.len() >= end + 4 + length {
                        let body = String::from_utf8_lossy(&pending[end + 4..end + 4 + length])
                            .to_string();
                        pending.drain(..end + 4 + length);
                        break (headers, body);
                    }
                }
                let mut buf = [0u8; 16384];
                let read = tls.read(&mut buf).unwrap();
                assert!(read > 0, "connection closed");
                pending.extend_from_slice(&buf[..read]);
            };
            let status: u16 = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
            statuses.push(status);
            if status == 429 && limited.is_none() {
                limited = Some(Answer {
                    status,
                    headers,
                    body,
                });
            }
        }
        (statuses, limited)
    }

    /// An admin call with the bootstrap token.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.admin_as(&self.token, method, path, body)
    }

    /// An admin call with `token`.
    pub fn admin_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| b.to_string());
        self.request(
            None,
            method,
            path,
            body.as_deref(),
            &[("Authorization", &format!("Bearer {token}"))],
        )
        .expect("admin exchange")
    }

    /// Registers an institution and returns its id.
    pub fn institution(&self, name: &str) -> i64 {
        let a = self.admin(
            "POST",
            "/admin/institutions",
            Some(json!({"name": name, "registry_code": format!("rc-{name}"),
                "contact_person": "Test Person", "email": format!("{name}@example.lt")})),
        );
        assert_eq!(a.status, 201, "{}", a.body);
        a.json()["id"].as_i64().unwrap()
    }

    /// Issues a client certificate `name` (optionally with validity dates) and registers
    /// it for `institution`; returns the certificate's register id.
    pub fn client(&self, name: &str, institution: i64, dates: Option<(&str, &str)>) -> i64 {
        match dates {
            Some((start, end)) => pki(&self.pki, &["client", name, "2048", start, end], None),
            None => pki(&self.pki, &["client", name], None),
        }
        let pem = std::fs::read_to_string(self.pki.join(format!("{name}.pem"))).unwrap();
        let a = self.admin(
            "POST",
            "/admin/certificates",
            Some(json!({"pem": pem, "institution_id": institution})),
        );
        assert_eq!(a.status, 201, "{}", a.body);
        a.json()["id"].as_i64().unwrap()
    }

    /// Grants `institution` a SNOMED CT licence (optionally with a revocation date).
    pub fn licence(&self, id: &str, institution: i64, revocation: Option<&str>) -> i64 {
        let a = self.admin(
            "POST",
            "/admin/licences",
            Some(json!({
                "licence_id": id, "licensee_name": format!("Licensee {id}"),
                "registry_code": "300000000", "issue_date": "2026-01-01",
                "revocation_date": revocation,
                "scopes": [{"system": SCT, "label": "SNOMED CT International"}],
                "institutions": [institution]})),
        );
        assert_eq!(a.status, 201, "{}", a.body);
        a.json()["id"].as_i64().unwrap()
    }

    /// `GET path` as `client`.
    pub fn get(&self, client: &str, path: &str) -> Answer {
        self.request(Some(client), "GET", path, None, &[])
            .expect("exchange")
    }

    /// The audit events matching a query string.
    pub fn audit(&self, query: &str) -> Vec<Value> {
        let a = self.admin("GET", &format!("/admin/audit?{query}"), None);
        assert_eq!(a.status, 200, "{}", a.body);
        a.json().as_array().unwrap().clone()
    }
}

/// The SHA-256 fingerprint of a PKI certificate, as the register keeps it.
fn fingerprint(server: &Prod, name: &str) -> String {
    let pem = std::fs::read(server.pki.join(format!("{name}.pem"))).unwrap();
    let cert = openssl::x509::X509::from_pem(&pem).unwrap();
    hex::encode(cert.digest(openssl::hash::MessageDigest::sha256()).unwrap())
}

fn lookup_act() -> String {
    format!("/fhir/CodeSystem/$lookup?system={ACT}&code=AMB")
}

fn lookup_sct(code: &str) -> String {
    format!("/fhir/CodeSystem/$lookup?system={SCT}&code={code}")
}

/// Polls the audit until an event matching `query` shows `pred` (the audit is written
/// off the request path, and flushed by the audit query itself).
fn audited(server: &Prod, query: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let events = server.audit(query);
    events
        .into_iter()
        .find(|e| pred(e))
        .unwrap_or_else(|| panic!("no audit event for {query}"))
}

#[test]
fn a_registered_licensed_certificate_is_served_everything() {
    let s = prod();
    let inst = s.institution("served");
    s.client("served", inst, None);
    s.licence("LIC-SERVED", inst, None);
    let a = s.get("served", &lookup_act());
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("ambulatory"), "{}", a.body);
    let a = s.get("served", &lookup_sct("73211009"));
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Diabetes mellitus"), "{}", a.body);
    let event = audited(
        s,
        &format!("institution={inst}&operation=CodeSystem/$lookup"),
        |e| e["outcome"] == "success" && e["target"].as_str().unwrap_or("").contains(SCT),
    );
    assert_eq!(event["fingerprint"], fingerprint(s, "served"));
    assert_eq!(event["status"], 200);
    assert!(event["request_id"].as_str().is_some_and(|r| !r.is_empty()));
}

#[test]
fn unknown_expired_untrusted_and_certificateless_clients_get_nothing() {
    let s = prod();
    // Issued by the trusted CA but never registered.
    pki(&s.pki, &["client", "unregistered"], None);
    let a = s.get("unregistered", &lookup_act());
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.issue().contains("not registered"), "{}", a.body);
    let fp = fingerprint(s, "unregistered");
    let e = audited(s, &format!("certificate={fp}&outcome=refused"), |_| true);
    assert!(e["detail"].as_str().unwrap().contains("not registered"));

    // Registered while valid, then expired: valid for a few seconds only.
    let inst = s.institution("expiring");
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::minutes(5))
        .format("%Y%m%d%H%M%SZ")
        .to_string();
    let end = (now + chrono::Duration::seconds(4))
        .format("%Y%m%d%H%M%SZ")
        .to_string();
    s.client("expiring", inst, Some((&start, &end)));
    s.licence("LIC-EXPIRING", inst, None);
    assert_eq!(s.get("expiring", &lookup_act()).status, 200);
    std::thread::sleep(Duration::from_secs(5));
    let a = s.get("expiring", &lookup_act());
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.issue().contains("expired"), "{}", a.body);
    let fp = fingerprint(s, "expiring");
    audited(s, &format!("certificate={fp}&outcome=refused"), |e| {
        e["detail"].as_str().unwrap_or("").contains("expired")
    });

    // A certificate from a CA the server does not trust fails the handshake, audited.
    pki(&s.pki, &["client", "stranger"], Some("untrusted"));
    let refused = s.request(Some("stranger"), "GET", &lookup_act(), None, &[]);
    assert!(refused.is_err(), "{refused:?}");
    let fp = fingerprint(s, "stranger");
    let e = audited(s, "operation=tls.handshake", |e| {
        e["fingerprint"] == fp.as_str()
    });
    assert_eq!(e["outcome"], "refused");

    // No certificate at all: FHIR is refused (401), admin without a token too.
    let a = s.request(None, "GET", &lookup_act(), None, &[]).unwrap();
    assert_eq!(a.status, 401, "{}", a.body);
    let a = s
        .request(None, "GET", "/admin/institutions", None, &[])
        .unwrap();
    assert_eq!(a.status, 401, "{}", a.body);
}

#[test]
fn suspended_certificates_and_institutions_are_refused_until_restored() {
    let s = prod();
    let inst = s.institution("suspendable");
    let cert = s.client("suspendable", inst, None);
    assert_eq!(s.get("suspendable", &lookup_act()).status, 200);
    let a = s.admin(
        "POST",
        &format!("/admin/certificates/{cert}/suspend"),
        Some(json!({"reason": "key compromise suspected"})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s.get("suspendable", &lookup_act());
    assert_eq!(a.status, 403);
    assert!(a.issue().contains("suspended"), "{}", a.body);
    let a = s.admin(
        "POST",
        &format!("/admin/certificates/{cert}/restore"),
        Some(json!({"reason": "cleared"})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(s.get("suspendable", &lookup_act()).status, 200);
    // The institution's own suspension refuses every certificate it holds.
    let a = s.admin(
        "POST",
        &format!("/admin/institutions/{inst}/suspend"),
        Some(json!({"reason": "unpaid"})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s.get("suspendable", &lookup_act());
    assert_eq!(a.status, 403);
    assert!(a.issue().contains("unpaid"), "{}", a.body);
    // Annulment is final.
    let a = s.admin(
        "POST",
        &format!("/admin/institutions/{inst}/annul"),
        Some(json!({"reason": "closed"})),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s.admin(
        "POST",
        &format!("/admin/institutions/{inst}/restore"),
        Some(json!({"reason": "oops"})),
    );
    assert_eq!(a.status, 409, "{}", a.body);
    // A reason is required.
    let a = s.admin(
        "POST",
        &format!("/admin/certificates/{cert}/suspend"),
        Some(json!({"reason": " "})),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    // Every change is audited with before and after.
    let e = audited(s, "operation=admin/certificate.suspend", |e| {
        e["target"] == format!("certificate/{cert}").as_str()
    });
    assert!(e["before"].as_str().unwrap().contains("\"active\""));
    assert!(e["after"]
        .as_str()
        .unwrap()
        .contains("key compromise suspected"));
    assert_eq!(e["user_name"], "bootstrap");
}

#[test]
fn a_certificate_revoked_in_the_crl_stops_working_after_a_refresh_without_restart() {
    let s = prod();
    let inst = s.institution("revocable");
    s.client("revocable", inst, None);
    assert_eq!(s.get("revocable", &lookup_act()).status, 200);
    pki(&s.pki, &["revoke", "revocable"], None);
    pki(&s.pki, &["crl"], None);
    // Until the server loads the new CRL, the certificate still works.
    assert_eq!(s.get("revocable", &lookup_act()).status, 200);
    let a = s.admin("POST", "/admin/crl/refresh", None);
    assert_eq!(a.status, 200, "{}", a.body);
    let status = a.json();
    assert_eq!(status[0]["fresh"], true, "{status}");
    assert!(status[0]["revoked"].as_u64().unwrap() >= 1, "{status}");
    let a = s.get("revocable", &lookup_act());
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.issue().contains("revoked"), "{}", a.body);
    let fp = fingerprint(s, "revocable");
    audited(s, &format!("certificate={fp}&outcome=refused"), |e| {
        e["detail"].as_str().unwrap_or("").contains("revoked")
    });
    // /healthz reports the CRL.
    let h = s.request(None, "GET", "/healthz", None, &[]).unwrap();
    assert!(h.json()["detail"]["crl"][0]["fresh"] == true, "{}", h.body);
}

#[test]
fn registration_rejects_weak_keys_and_foreign_issuers() {
    let s = prod();
    let inst = s.institution("weakling");
    pki(&s.pki, &["client", "weak1024", "1024"], None);
    let pem = std::fs::read_to_string(s.pki.join("weak1024.pem")).unwrap();
    let a = s.admin(
        "POST",
        "/admin/certificates",
        Some(json!({"pem": pem, "institution_id": inst})),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.issue().contains("1024 bits"), "{}", a.body);
    assert!(a.issue().contains("2048"), "{}", a.body);
    pki(&s.pki, &["client", "foreign"], Some("untrusted"));
    let pem = std::fs::read_to_string(s.pki.join("foreign.pem")).unwrap();
    let a = s.admin(
        "POST",
        "/admin/certificates",
        Some(json!({"pem": pem, "institution_id": inst})),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.issue().contains("not issued by a trusted CA"),
        "{}",
        a.body
    );
    let a = s.admin(
        "POST",
        "/admin/certificates",
        Some(json!({"pem": "not a pem", "institution_id": inst})),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    // What the server read from a good PEM.
    let id = s.client("parsed", inst, None);
    let c = s
        .admin("GET", &format!("/admin/certificates/{id}"), None)
        .json();
    assert_eq!(c["key_bits"], 2048);
    assert_eq!(c["signature"], "sha256WithRSAEncryption");
    assert_eq!(c["fingerprint"], fingerprint(s, "parsed"));
    assert!(c["subject"].as_str().unwrap().contains("CN=parsed"));
    assert!(c["issuer"].as_str().unwrap().contains("CN=ca"));
    assert!(!c["serial"].as_str().unwrap().is_empty());
}

#[test]
fn without_a_licence_snomed_is_refused_on_every_operation_but_other_content_is_served() {
    let s = prod();
    let inst = s.institution("unlicensed");
    s.client("unlicensed", inst, None);
    assert_eq!(s.get("unlicensed", &lookup_act()).status, 200);
    let expand = "/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender";
    assert_eq!(s.get("unlicensed", expand).status, 200);
    let refused = [
        lookup_sct("73211009"),
        format!("/fhir/CodeSystem/$validate-code?url={SCT}&code=44054006"),
        format!("/fhir/CodeSystem/$subsumes?system={SCT}&codeA=73211009&codeB=44054006"),
        "/fhir/CodeSystem/sct-test-fragment".to_string(),
        format!("/fhir/CodeSystem?url={SCT}"),
        "/fhir/CodeSystem/sct-test-fragment/$lookup?code=73211009".to_string(),
    ];
    for path in &refused {
        let a = s.get("unlicensed", path);
        assert_eq!(a.status, 403, "{path}: {}", a.body);
        assert!(
            a.issue()
                .contains("no active licence for http://snomed.info/sct"),
            "{path}: {}",
            a.body
        );
    }
    // A POST that names SNOMED CT only in its body, and an expansion that includes it.
    let body = json!({"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": SCT, "code": "73211009"}}]})
    .to_string();
    let a = s
        .request(
            Some("unlicensed"),
            "POST",
            "/fhir/CodeSystem/$lookup",
            Some(&body),
            &[("Content-Type", "application/fhir+json")],
        )
        .unwrap();
    assert_eq!(a.status, 403, "{}", a.body);
    let vs = json!({"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": {"resourceType": "ValueSet", "status": "active",
          "compose": {"include": [{"system": SCT, "filter": [{"property": "concept", "op": "is-a", "value": "73211009"}]}]}}}]})
    .to_string();
    let a = s
        .request(
            Some("unlicensed"),
            "POST",
            "/fhir/ValueSet/$expand",
            Some(&vs),
            &[("Content-Type", "application/fhir+json")],
        )
        .unwrap();
    assert_eq!(a.status, 403, "{}", a.body);
    // The same requests succeed for a licensed institution (so the refusal is the
    // licence, not the request).
    let licensed = s.institution("licensed-twin");
    s.client("licensed-twin", licensed, None);
    s.licence("LIC-TWIN", licensed, None);
    for path in &refused {
        let a = s.get("licensed-twin", path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
    }
    let a = s
        .request(
            Some("licensed-twin"),
            "POST",
            "/fhir/ValueSet/$expand",
            Some(&vs),
            &[("Content-Type", "application/fhir+json")],
        )
        .unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("44054006"), "{}", a.body);
    // Every refusal is in the audit.
    let refusals = s.audit(&format!("institution={inst}&outcome=refused"));
    assert!(refusals.len() >= refused.len() + 2, "{refusals:?}");
    assert!(refusals
        .iter()
        .all(|e| e["detail"].as_str().unwrap().contains("licence")));
}

/// `$compare` answers list bare codes, without their code system: the licence check goes
/// by the code systems the comparison drew on, also for stored value sets named only by
/// url (and such answers are never served from the response cache).
#[test]
fn a_comparison_of_snomed_value_sets_by_url_needs_the_licence() {
    let s = prod();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hearts.json");
    let vs = |id: &str, code: &str| {
        json!({"resourceType": "ValueSet", "id": id, "url": format!("http://nomen.test/ValueSet/{id}"),
            "status": "active", "compose": {"include": [
                {"system": SCT, "filter": [{"property": "concept", "op": "is-a", "value": code}]}]}})
    };
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": vs("hearts", "73211009")}, {"resource": vs("heart-kinds", "44054006")}]});
    std::fs::write(&file, bundle.to_string()).unwrap();
    let a = s.admin("POST", "/admin/imports", Some(json!({"paths": [file]})));
    assert_eq!(a.status, 202, "{}", a.body);
    let id = a.json()["id"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = s.admin("GET", &format!("/admin/imports/{id}"), None).json();
        if st["state"] != "running" {
            assert_eq!(st["state"], "done", "{st}");
            break;
        }
        assert!(Instant::now() < deadline, "import did not finish: {st}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let body = json!({"resourceType": "Parameters", "parameter": [
        {"name": "thisUrl", "valueUri": "http://nomen.test/ValueSet/hearts"},
        {"name": "otherUrl", "valueUri": "http://nomen.test/ValueSet/heart-kinds"}]})
    .to_string();
    let compare = |client: &str| {
        s.request(
            Some(client),
            "POST",
            "/fhir/ValueSet/$compare",
            Some(&body),
            &[("Content-Type", "application/fhir+json")],
        )
        .unwrap()
    };
    let licensed = s.institution("comparing-licensed");
    s.client("comparing-licensed", licensed, None);
    s.licence("LIC-COMPARE", licensed, None);
    let a = compare("comparing-licensed");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json()["parameter"][0]["valueCode"],
        "superset",
        "{}",
        a.body
    );
    // The same request, after the licensed answer: refused, not served from a cache.
    let inst = s.institution("comparing-unlicensed");
    s.client("comparing-unlicensed", inst, None);
    let a = compare("comparing-unlicensed");
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(
        a.issue()
            .contains("no active licence for http://snomed.info/sct"),
        "{}",
        a.body
    );
    audited(s, &format!("institution={inst}&outcome=refused"), |e| {
        e["operation"] == "ValueSet/$compare"
    });
}

#[test]
fn a_licence_stops_granting_when_its_revocation_date_passes() {
    let s = prod();
    let inst = s.institution("lapsing");
    s.client("lapsing", inst, None);
    let until = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    s.licence("LIC-LAPSING", inst, Some(&until));
    assert_eq!(s.get("lapsing", &lookup_sct("73211009")).status, 200);
    std::thread::sleep(Duration::from_secs(4));
    let a = s.get("lapsing", &lookup_sct("73211009"));
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.issue().contains("no active licence"), "{}", a.body);
    // Other content is still served.
    assert_eq!(s.get("lapsing", &lookup_act()).status, 200);
    audited(s, &format!("institution={inst}&outcome=refused"), |e| {
        e["target"].as_str().unwrap_or("").contains(SCT)
    });
}

#[test]
fn admin_api_authorisation() {
    let s = prod();
    // An institution certificate reaches no admin call.
    let inst = s.institution("nosy");
    s.client("nosy", inst, None);
    for (method, path) in [
        ("GET", "/admin/institutions"),
        ("GET", "/admin/audit"),
        ("POST", "/admin/crl/refresh"),
    ] {
        let a = s.request(Some("nosy"), method, path, None, &[]).unwrap();
        assert_eq!(a.status, 403, "{method} {path}: {}", a.body);
    }
    // An auditor reads the audit and reports, and writes nothing.
    let a = s.admin(
        "POST",
        "/admin/tokens",
        Some(json!({"user_name": "auditor.test", "role": "auditor"})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let auditor = a.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        s.admin_as(&auditor, "GET", "/admin/audit?limit=5", None)
            .status,
        200
    );
    assert_eq!(
        s.admin_as(&auditor, "GET", "/admin/reports/usage", None)
            .status,
        200
    );
    let a = s.admin_as(
        &auditor,
        "POST",
        "/admin/institutions",
        Some(json!({"name": "x", "registry_code": "x"})),
    );
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(
        s.admin_as(&auditor, "GET", "/admin/institutions", None)
            .status,
        403
    );
    // An auditor gets no terminology content.
    let a = s
        .request(
            None,
            "GET",
            &lookup_act(),
            None,
            &[("Authorization", &format!("Bearer {auditor}"))],
        )
        .unwrap();
    assert_eq!(a.status, 401, "{}", a.body);
    // A wrong token is refused and audited.
    let a = s.admin_as("nomen_wrong", "GET", "/admin/institutions", None);
    assert_eq!(a.status, 401, "{}", a.body);
    audited(s, "operation=admin/institutions&outcome=refused", |e| {
        e["status"] == 401 && e["detail"].as_str().unwrap_or("").contains("not valid")
    });
    // An administrator's certificate bound to the admin role works without a token.
    pki(&s.pki, &["client", "administrator"], None);
    let pem = std::fs::read_to_string(s.pki.join("administrator.pem")).unwrap();
    let a = s.admin(
        "POST",
        "/admin/certificates",
        Some(json!({"pem": pem, "role": "admin", "user_name": "ops.admin"})),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    let a = s.get("administrator", "/admin/institutions");
    assert_eq!(a.status, 200, "{}", a.body);
    let e = audited(s, "user=ops.admin", |e| {
        e["operation"] == "admin/institutions"
    });
    assert_eq!(e["outcome"], "success");
}

#[test]
fn reports_and_csv_exports() {
    let s = prod();
    let inst = s.institution("reported");
    s.client("reported", inst, None);
    for _ in 0..3 {
        assert_eq!(s.get("reported", &lookup_act()).status, 200);
    }
    let a = s.admin("POST", "/admin/licences", Some(json!({
        "licence_id": "LIC-PERSON", "first_name": "Jonas", "last_name": "Jonaitis",
        "personal_code": "38001010000", "address": "Gedimino pr. 1, Vilnius",
        "issue_date": "2026-02-01", "email": "jonas@example.lt",
        "scopes": [{"system": SCT, "edition": "11000172109", "label": "SNOMED CT Lithuanian extension"}],
        "institutions": [inst]})));
    assert_eq!(a.status, 201, "{}", a.body);
    let usage = s.admin("GET", "/admin/reports/usage", None).json();
    let row = usage
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["institution_id"] == inst && r["operation"] == "CodeSystem/$lookup")
        .unwrap_or_else(|| panic!("{usage}"))
        .clone();
    assert_eq!(row["requests"], 3);
    assert_eq!(row["institution"], "reported");
    let csv = s.admin("GET", "/admin/reports/usage?format=csv", None);
    assert!(
        csv.headers
            .to_ascii_lowercase()
            .contains("content-type: text/csv"),
        "{}",
        csv.headers
    );
    assert!(
        csv.body
            .contains(&format!("{inst},reported,CodeSystem/$lookup,3,0,0")),
        "{}",
        csv.body
    );
    let report = s.admin("GET", "/admin/reports/licences", None).body;
    let line = report
        .lines()
        .find(|l| l.starts_with("LIC-PERSON"))
        .unwrap();
    assert!(line.contains("natural person"), "{line}");
    assert!(
        !report.contains("Jonaitis") && !report.contains("38001010000"),
        "{report}"
    );
    assert!(line.contains("SNOMED CT Lithuanian extension"), "{line}");
    let audit_csv = s
        .admin(
            "GET",
            &format!("/admin/audit?format=csv&institution={inst}"),
            None,
        )
        .body;
    assert!(audit_csv.starts_with("id,time,request_id"), "{audit_csv}");
    assert_eq!(
        audit_csv
            .lines()
            .filter(|l| l.contains("CodeSystem/$lookup"))
            .count(),
        3
    );
}

#[test]
fn rate_limits_answer_429_with_retry_after_and_are_audited() {
    let s = prod();
    let inst = s.institution("greedy");
    s.client("greedy", inst, None);
    // 20 requests per second are allowed; one keep-alive connection sends 200 at once
    // (even a slow, loaded machine answers them faster than 20 a second).
    let path = format!("/fhir/CodeSystem/$lookup?system={ACT}&code=EMER");
    let (statuses, limited) = s.burst("greedy", &path, 200);
    assert!(
        statuses.iter().all(|&st| st == 200 || st == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().filter(|&&st| st == 200).count() >= 20,
        "{statuses:?}"
    );
    let a = limited.expect("no 429 after 200 requests at full speed");
    assert!(
        a.headers.to_ascii_lowercase().contains("retry-after: "),
        "{}",
        a.headers
    );
    assert!(a.issue().contains("requests per second"), "{}", a.body);
    audited(s, &format!("institution={inst}&outcome=refused"), |e| {
        e["status"] == 429
    });
}

/// Serves `body` over HTTP on loopback to every connection, until the test ends.
fn http_file_server(body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn crls_come_from_distribution_points_and_fail_closed_when_unusable() {
    use nomen::access::{CrlPolicy, CrlSource, CrlStore, Revocation};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    pki(d, &["ca", "dp"], None);
    pki(d, &["client", "kept"], Some("dp"));
    pki(d, &["client", "dropped"], Some("dp"));
    pki(d, &["revoke", "dropped"], Some("dp"));
    pki(d, &["crl", "dp"], None);
    let load = |name: &str| {
        openssl::x509::X509::from_pem(&std::fs::read(d.join(format!("{name}.pem"))).unwrap())
            .unwrap()
    };
    let ca = load("dp");
    // Fetched over HTTP from a distribution point.
    let url = http_file_server(std::fs::read(d.join("dp.crl")).unwrap());
    let store = CrlStore::new(
        vec![(ca.clone(), Some(CrlSource::parse(&url)))],
        CrlPolicy::FailClosed,
    );
    let status = store.refresh();
    assert!(status[0].fresh && status[0].error.is_none(), "{status:?}");
    assert_eq!(status[0].revoked, 1);
    assert_eq!(store.check(&load("kept")), Revocation::Good);
    assert_eq!(store.check(&load("dropped")), Revocation::Revoked);
    // A distribution point that does not answer: reported, and the status is unknown.
    let closed = format!("http://127.0.0.1:{}/ca.crl", free_port());
    let down = CrlStore::new(
        vec![(ca.clone(), Some(CrlSource::parse(&closed)))],
        CrlPolicy::FailClosed,
    );
    let status = down.refresh();
    assert!(!status[0].fresh);
    assert!(
        status[0].error.as_deref().unwrap().contains("cannot fetch"),
        "{status:?}"
    );
    assert!(matches!(down.check(&load("kept")), Revocation::Unknown(_)));
    // A CRL signed by another CA is refused.
    pki(d, &["ca", "impostor"], None);
    pki(d, &["crl", "impostor"], None);
    let forged = CrlStore::new(
        vec![(
            ca.clone(),
            Some(CrlSource::parse(d.join("impostor.crl").to_str().unwrap())),
        )],
        CrlPolicy::FailClosed,
    );
    let status = forged.refresh();
    assert!(
        status[0]
            .error
            .as_deref()
            .unwrap()
            .contains("not signed by its CA"),
        "{status:?}"
    );
    // A CRL past its next update: loaded while valid, then expired.
    pki(d, &["crl", "dp", "2s"], None);
    let short = CrlStore::new(
        vec![(
            ca,
            Some(CrlSource::parse(d.join("dp.crl").to_str().unwrap())),
        )],
        CrlPolicy::FailOpen,
    );
    assert!(short.refresh()[0].fresh);
    std::thread::sleep(Duration::from_secs(3));
    assert!(!short.all_fresh());
    let status = short.status();
    assert!(
        status[0].error.as_deref().unwrap().contains("expired"),
        "{status:?}"
    );
    assert!(matches!(short.check(&load("kept")), Revocation::Unknown(m) if m.contains("expired")));
}

#[test]
fn a_clean_shutdown_stores_every_audit_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dev.db");
    let port = free_port();
    let log = dir.path().join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(["serve", "--db"])
        .arg(&db)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut server = ChildGuard(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("starting service") {
            if let Some(line) = text.lines().find(|l| l.contains("NOMEN_BOOTSTRAP_TOKEN=")) {
                break line
                    .split("NOMEN_BOOTSTRAP_TOKEN=")
                    .nth(1)
                    .unwrap()
                    .trim()
                    .to_string();
            }
        }
        assert!(Instant::now() < deadline, "server did not start: {text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for i in 0..25 {
        let r = agent
            .get(format!("http://127.0.0.1:{port}/admin/institutions?n={i}"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // SIGTERM right after the last answer: the queue is drained before the process ends.
    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let reads: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_event WHERE operation = 'admin/institutions' AND user_name = 'bootstrap'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reads, 25);
    let stops: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_event WHERE operation = 'server.stop'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stops, 1);
}

#[test]
fn admin_imports_load_a_release_into_the_running_server_with_progress_and_audit() {
    use crate::support::{get, post, start};
    let server = start(&nomen::http::HttpSettings::default(), |store| {
        nomen::fixtures::load_if_empty(store).unwrap();
        None
    });
    let token = {
        let store = nomen::store::Store::open(&server.db).unwrap();
        nomen::access::issue_token(
            &store,
            "release.manager",
            nomen::model::register::Role::Admin,
        )
        .unwrap()
    };
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str())];
    let loinc = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/loinc");
    let lookup = format!(
        "{}/CodeSystem/$lookup?system=http://loinc.org&code=26636-1",
        server.base
    );
    assert_eq!(get(&lookup, &[]).status, 404, "LOINC is not loaded yet");
    // A path that is not on the server is refused before anything starts.
    let r = post(
        &format!("{}/admin/imports", server.root),
        "application/json",
        &json!({"paths": ["/nonexistent/release.zip"]}).to_string(),
        &headers,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = post(
        &format!("{}/admin/imports", server.root),
        "application/json",
        &json!({"paths": [loinc]}).to_string(),
        &headers,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json()["id"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let s = get(&format!("{}/admin/imports/{id}", server.root), &headers).json();
        if s["state"] != "running" {
            break s;
        }
        // Reads keep being answered while the release loads.
        assert_eq!(
            get(
                &format!("{}/CodeSystem/$lookup?system={ACT}&code=AMB", server.base),
                &[]
            )
            .status,
            200
        );
        assert!(Instant::now() < deadline, "import did not finish: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done["state"], "done", "{done}");
    assert!(done["concepts"].as_u64().unwrap() > 0, "{done}");
    assert!(done["progress"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(done["user"], "release.manager");
    let r = get(&lookup, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let metrics = get(&format!("{}/metrics", server.root), &[]).body;
    assert!(
        metrics.contains("nomen_import{measure=\"running\"} 0"),
        "{metrics}"
    );
    let audit = get(
        &format!("{}/admin/audit?operation=admin/import.*", server.root),
        &headers,
    )
    .json();
    let ops: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        ["admin/import.finish", "admin/import.start"],
        "{audit}"
    );
    // Only an admin may import.
    let r = post(
        &format!("{}/admin/imports", server.root),
        "application/json",
        "{\"paths\": []}",
        &[],
    );
    assert_eq!(r.status, 401, "{}", r.body);
}
