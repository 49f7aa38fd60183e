//! The `nomen` binary itself: import summary and help.

use std::process::Command;

use crate::support::data_dir;

#[test]
fn import_prints_a_summary_and_fails_on_missing_paths() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(["import", "--db"])
        .arg(&db)
        .arg(data_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("loaded:   4 CodeSystem"), "{stdout}");
    assert!(stdout.contains("rejected: 0"), "{stdout}");

    let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args(["import", "--db"])
        .arg(&db)
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json: no such file"));
}

#[test]
fn serve_refuses_a_public_address_without_tls() {
    let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
        .args([
            "serve",
            "--addr",
            "0.0.0.0:0",
            "--db",
            "/nonexistent/never-created.db",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn help_explains_each_command_with_an_example() {
    for sub in ["serve", "import"] {
        let out = Command::new(env!("CARGO_BIN_EXE_nomen"))
            .args([sub, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Example") && text.contains(&format!("nomen {sub} ")),
            "{sub}: {text}"
        );
    }
}
