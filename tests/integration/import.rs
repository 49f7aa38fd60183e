//! Import semantics: atomicity, replacement, rejection, and readers never disturbed.

use std::io::Write;
use std::path::PathBuf;

use indicatif::ProgressBar;
use nomen::import::{import_paths, ImportOptions};
use nomen::store::Store;

use crate::support::data_dir;

fn count(store: &Store, url: &str) -> usize {
    let t = nomen::core::Terminology::new(std::sync::Arc::new(Store::open(store.path()).unwrap()));
    let snap = t.snapshot().unwrap();
    snap.catalog.versions(url).len()
}

#[test]
fn a_fatal_error_leaves_the_database_exactly_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("n.db")).unwrap();
    let broken = dir.path().join("broken.tgz");
    std::fs::File::create(&broken)
        .unwrap()
        .write_all(b"\x1f\x8b\x08\x00garbage")
        .unwrap();
    let paths = vec![data_dir().join("codesystem-body-sites.json"), broken];
    let result = import_paths(
        &store,
        &paths,
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    );
    assert!(result.is_err(), "a corrupt package fails the import");
    assert_eq!(
        count(&store, "http://nomen.test/CodeSystem/body"),
        0,
        "the good file was not kept either"
    );
}

#[test]
fn rejected_resources_are_reported_and_strict_mode_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("n.db")).unwrap();
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        concat!(
            r#"{"resourceType":"CodeSystem","id":"dup","url":"http://x.test/dup","concept":[{"code":"a"},{"code":"a"}]}"#, "\n",
            r#"{"resourceType":"CodeSystem","id":"nourl"}"#, "\n",
            "{not json\n",
            r#"{"resourceType":"Patient","id":"p"}"#, "\n",
            r#"{"resourceType":"CodeSystem","id":"ok","url":"http://x.test/ok","concept":[{"code":"a"}]}"#, "\n",
        ),
    )
    .unwrap();
    let paths: Vec<PathBuf> = vec![bad];
    let strict = import_paths(
        &store,
        &paths,
        &ImportOptions {
            strict: true,
            ..ImportOptions::default()
        },
        &ProgressBar::hidden(),
    );
    assert!(strict.is_err());
    assert_eq!(count(&store, "http://x.test/ok"), 0);
    let report = import_paths(
        &store,
        &paths,
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!(report.loaded["CodeSystem"], 1);
    assert_eq!(report.skipped["Patient"], 1);
    assert_eq!(report.rejected.len(), 3, "{:?}", report.rejected);
    assert!(report
        .rejected
        .iter()
        .any(|(o, r)| o.ends_with(":1") && r.contains("'a'")));
    assert!(report
        .rejected
        .iter()
        .any(|(o, r)| o.ends_with(":2") && r.contains("no url")));
    assert!(report
        .rejected
        .iter()
        .any(|(o, r)| o.ends_with(":3") && r.contains("JSON")));
    assert_eq!(count(&store, "http://x.test/ok"), 1);
}

#[test]
fn reimporting_replaces_the_same_version_and_keeps_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("n.db")).unwrap();
    let paths = vec![
        data_dir().join("codesystem-body-sites.json"),
        data_dir().join("codesystem-body-sites-v1.json"),
    ];
    let first = import_paths(
        &store,
        &paths,
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!(first.replaced, 0);
    let again = import_paths(
        &store,
        &paths[..1],
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!(again.replaced, 1);
    assert_eq!(count(&store, "http://nomen.test/CodeSystem/body"), 2);
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = Store::open(&path).err().expect("refused").to_string();
    assert!(
        err.contains("schema version 999") && err.contains("newer nomen"),
        "{err}"
    );
}

#[test]
fn cached_answers_follow_an_import_made_by_another_process() {
    use crate::support::*;
    let s = start(
        &nomen::http::HttpSettings {
            workers: 1,
            ..Default::default()
        },
        |store| {
            Some(
                import_paths(
                    store,
                    &[data_dir().join("codesystem-body-sites.json")],
                    &ImportOptions::default(),
                    &ProgressBar::hidden(),
                )
                .unwrap(),
            )
        },
    );
    let lookup = url(
        &s.base,
        "/CodeSystem/$lookup",
        &[
            ("system", "http://nomen.test/CodeSystem/body"),
            ("code", "heart"),
        ],
    );
    let display = || {
        param(&get(&lookup, &[]).json(), "display").unwrap()["valueString"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(display(), "Heart");
    assert_eq!(display(), "Heart", "served again (from the cache)");
    // Another writer replaces the same url|version with a revised display.
    let revised = std::fs::read_to_string(data_dir().join("codesystem-body-sites.json"))
        .unwrap()
        .replace("\"Heart\"", "\"Heart (revised)\"");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("revised.json");
    std::fs::write(&file, revised).unwrap();
    let writer = Store::open(&s.db).unwrap();
    import_paths(
        &writer,
        &[file],
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while display() != "Heart (revised)" {
        assert!(
            std::time::Instant::now() < deadline,
            "the cache kept serving the old release"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn cached_expansions_follow_an_import() {
    use crate::support::*;
    let s = start(
        &nomen::http::HttpSettings {
            workers: 1,
            cache_entries: 0,
            ..Default::default()
        },
        |store| {
            Some(
                import_paths(
                    store,
                    &[data_dir()],
                    &ImportOptions::default(),
                    &ProgressBar::hidden(),
                )
                .unwrap(),
            )
        },
    );
    let page = |offset: &str| {
        let q = [
            ("url", "http://nomen.test/ValueSet/body-all"),
            ("count", "2"),
            ("offset", offset),
        ];
        get(&url(&s.base, "/ValueSet/$expand", &q), &[]).json()["expansion"]["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(page("0"), 9);
    assert_eq!(page("2"), 9, "the next page reuses the selection");
    let grown = std::fs::read_to_string(data_dir().join("codesystem-body-sites.json"))
        .unwrap()
        .replace(
            r#"{"code": "kidney", "display": "Kidney"}"#,
            r#"{"code": "kidney", "display": "Kidney"}, {"code": "liver", "display": "Liver"}"#,
        );
    assert!(grown.contains("liver"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("grown.json");
    std::fs::write(&file, grown).unwrap();
    import_paths(
        &Store::open(&s.db).unwrap(),
        &[file],
        &ImportOptions::default(),
        &ProgressBar::hidden(),
    )
    .unwrap();
    assert_eq!(page("4"), 10, "a new generation is a new selection");
}
