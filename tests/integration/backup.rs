//! Encrypted backups through the real `nomen` binary: the round trip restores exactly
//! the original (every table's row count and content digest), a wrong key and a
//! one-byte change are refused without touching the target, the key must live apart
//! from the backups, old backups are pruned, and `nomen serve` takes them on a schedule.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nomen::backup::table_digests;

use crate::support::data_dir;

fn nomen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A database with content (the test code systems plus the LOINC fixture) and a key.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("source.db");
    let loinc = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/loinc");
    let out = nomen(&["import", "--db", p(&db), p(&data_dir()), p(&loinc)]);
    assert!(out.status.success(), "{}", text(&out));
    let key = dir.join("keys").join("backup.key");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    let out = nomen(&["keygen", "--out", p(&key)]);
    assert!(out.status.success(), "{}", text(&out));
    (db, key)
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == "nbk"));
    files.sort();
    files
}

fn digests(db: &Path) -> std::collections::BTreeMap<String, (i64, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    table_digests(&conn).unwrap()
}

#[test]
fn backup_then_restore_gives_back_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = setup(dir.path());
    let out_dir = dir.path().join("backups");
    let out = nomen(&[
        "backup",
        "--db",
        p(&db),
        "--out",
        p(&out_dir),
        "--key",
        p(&key),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let files = backups_in(&out_dir);
    assert_eq!(files.len(), 1);
    // The manifest beside it.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.manifest.json", files[0].display())).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["schema_version"], nomen::store::schema_version());
    assert_eq!(manifest["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["tables"]["concept"].as_i64().unwrap() > 100);
    // The backup is not readable as a database or as text.
    let raw = std::fs::read(&files[0]).unwrap();
    assert!(!raw.windows(15).any(|w| w == b"SQLite format 3"));
    assert!(!raw.windows(12).any(|w| w == b"Glucose SerP"));

    let out = nomen(&["backup", "--verify", p(&files[0]), "--key", p(&key)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("verified"), "{}", text(&out));

    let restored = dir.path().join("restored.db");
    let out = nomen(&[
        "restore",
        "--from",
        p(&files[0]),
        "--key",
        p(&key),
        "--db",
        p(&restored),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let mut original = digests(&db);
    assert!(original["concept"].0 > 100);
    // The backup audited itself in the original after taking the copy: that one event is
    // the only difference.
    let mut copy = digests(&restored);
    let (after, _) = original.remove("audit_event").unwrap();
    let (before, _) = copy.remove("audit_event").unwrap();
    assert_eq!(after, before + 1);
    assert_eq!(copy, original);
    // The restored file opens as a store and serves.
    let store = std::sync::Arc::new(nomen::store::Store::open(&restored).unwrap());
    let terminology = nomen::core::Terminology::new(store);
    let snap = terminology.snapshot().unwrap();
    assert!(!snap.catalog.versions("http://loinc.org").is_empty());
}

#[test]
fn a_wrong_key_or_a_changed_byte_is_refused_and_nothing_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = setup(dir.path());
    let out_dir = dir.path().join("backups");
    assert!(nomen(&[
        "backup",
        "--db",
        p(&db),
        "--out",
        p(&out_dir),
        "--key",
        p(&key)
    ])
    .status
    .success());
    let file = backups_in(&out_dir).remove(0);
    let target = dir.path().join("target.db");
    std::fs::write(&target, b"the database in service").unwrap();

    let other = dir.path().join("keys").join("other.key");
    assert!(nomen(&["keygen", "--out", p(&other)]).status.success());
    for args in [
        vec!["backup", "--verify", p(&file), "--key", p(&other)],
        vec![
            "restore",
            "--from",
            p(&file),
            "--key",
            p(&other),
            "--db",
            p(&target),
        ],
    ] {
        let out = nomen(&args);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("cannot be decrypted with this key"),
            "{}",
            text(&out)
        );
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"the database in service");

    // One byte changed anywhere: in the encrypted data, in the tag, in the manifest.
    let bytes = std::fs::read(&file).unwrap();
    for position in [bytes.len() / 2, bytes.len() - 1, 20] {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x01;
        let bad = dir.path().join(format!("tampered-{position}.nbk"));
        std::fs::write(&bad, &tampered).unwrap();
        for args in [
            vec!["backup", "--verify", p(&bad), "--key", p(&key)],
            vec![
                "restore",
                "--from",
                p(&bad),
                "--key",
                p(&key),
                "--db",
                p(&target),
            ],
        ] {
            let out = nomen(&args);
            assert!(!out.status.success(), "byte {position} accepted");
            let t = text(&out);
            assert!(
                t.contains("altered") || t.contains("not a Nomen backup"),
                "byte {position}: {t}"
            );
        }
    }
    assert_eq!(std::fs::read(&target).unwrap(), b"the database in service");
    assert!(!dir.path().join("target.db.restoring").exists());
}

#[test]
fn the_key_must_live_apart_and_private_and_old_backups_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = setup(dir.path());
    // A key inside the backup directory.
    let keys = key.parent().unwrap();
    let out = nomen(&["backup", "--db", p(&db), "--out", p(keys), "--key", p(&key)]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is inside the backup directory"),
        "{}",
        text(&out)
    );
    assert!(backups_in(keys).is_empty());
    // A key others can read.
    let open_key = dir.path().join("open.key");
    std::fs::write(&open_key, "00".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&open_key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = nomen(&[
            "backup",
            "--db",
            p(&db),
            "--out",
            p(&dir.path().join("b")),
            "--key",
            p(&open_key),
        ]);
        assert!(!out.status.success());
        assert!(
            text(&out).contains("can be read by other users"),
            "{}",
            text(&out)
        );
    }
    // Retention.
    let out_dir = dir.path().join("backups");
    for _ in 0..3 {
        let out = nomen(&[
            "backup",
            "--db",
            p(&db),
            "--out",
            p(&out_dir),
            "--key",
            p(&key),
            "--keep",
            "2",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        std::thread::sleep(Duration::from_millis(5));
    }
    let kept = backups_in(&out_dir);
    assert_eq!(kept.len(), 2);
    let manifests = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".manifest.json")
        })
        .count();
    assert_eq!(manifests, 2);
}

#[test]
fn serve_takes_scheduled_backups_and_readyz_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = setup(dir.path());
    let out_dir = dir.path().join("scheduled");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args([
            "serve",
            "--db",
            p(&db),
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--backup-dir",
            p(&out_dir),
            "--backup-key",
            p(&key),
            "--backup-every",
            "1s",
        ])
        .args(["--backup-keep", "3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    let started = Instant::now();
    let mut last = serde_json::Value::Null;
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(mut r) = agent.get(format!("http://127.0.0.1:{port}/readyz")).call() {
            last = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
            if last["checks"]["backup"]["at"].is_string() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Each scheduled backup is audited.
    let audited = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row(
                    "SELECT count(*) FROM audit_event WHERE operation = 'backup' AND outcome = 'success'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .is_ok_and(|n| n > 0)
    });
    child.kill().ok();
    child.wait().ok();
    assert!(audited, "no audit event for the scheduled backup");
    assert_eq!(last["checks"]["backup"]["ok"], true, "{last}");
    let files = backups_in(&out_dir);
    assert!(!files.is_empty());
    let out = nomen(&["backup", "--verify", p(&files[0]), "--key", p(&key)]);
    assert!(out.status.success(), "{}", text(&out));
    // A key inside the backup directory stops the start.
    let inside = out_dir.join("inside.key");
    std::fs::copy(&key, &inside).unwrap();
    let out = nomen(&[
        "serve",
        "--db",
        p(&db),
        "--addr",
        "127.0.0.1:0",
        "--backup-dir",
        p(&out_dir),
        "--backup-key",
        p(&inside),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is inside the backup directory"),
        "{}",
        text(&out)
    );
}
