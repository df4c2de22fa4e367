//! The command line, run as the built binary.

use std::process::{Command, Output};

use tempfile::TempDir;

pub const BINARY: &str = env!("CARGO_BIN_EXE_rush-api");

/// Runs the binary against a database in `dir`, with a clean configuration.
pub fn run(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .current_dir(dir.path())
        .env_remove("BIND_ADDRESS")
        .env_remove("CORS_ALLOWED_ORIGINS")
        .env("DATABASE_URL", dir.path().join("cli.sqlite3"))
        .env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run rush-api")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn openapi_prints_the_same_bytes_as_the_served_document() {
    let dir = tempfile::tempdir().expect("dir");
    let output = run(&dir, &["openapi"], &[]);
    assert!(output.status.success());
    assert_eq!(stdout(&output), rush_api::openapi::spec_json());
}

#[test]
fn tokens_are_created_listed_and_revoked_and_only_the_hash_is_stored() {
    let dir = tempfile::tempdir().expect("dir");
    let created = run(&dir, &["token", "create", "--name", "website"], &[]);
    assert!(created.status.success(), "{created:?}");
    let text = stdout(&created);
    let secret = text.lines().last().unwrap_or_default().to_owned();
    assert!(secret.starts_with("rush_") && secret.len() == 5 + 64, "{text}");

    let duplicate = run(&dir, &["token", "create", "--name", "website"], &[]);
    assert_eq!(duplicate.status.code(), Some(2));

    let listed = stdout(&run(&dir, &["token", "list"], &[]));
    assert!(listed.contains("website") && !listed.contains(&secret), "{listed}");
    let database = std::fs::read(dir.path().join("cli.sqlite3")).unwrap_or_default();
    let wal = std::fs::read(dir.path().join("cli.sqlite3-wal")).unwrap_or_default();
    let needle = secret.as_bytes();
    for bytes in [&database, &wal] {
        assert!(!bytes.windows(needle.len()).any(|w| w == needle), "the secret is stored in the clear");
    }

    assert!(run(&dir, &["token", "revoke", "website"], &[]).status.success());
    assert!(!stdout(&run(&dir, &["token", "list"], &[])).contains("website"));
    assert_eq!(run(&dir, &["token", "revoke", "website"], &[]).status.code(), Some(1));
}

#[test]
fn bad_configuration_exits_2_naming_every_bad_variable() {
    let dir = tempfile::tempdir().expect("dir");
    let output = run(
        &dir,
        &["serve"],
        &[("DATABASE_URL", "postgres://db/rush"), ("BIND_ADDRESS", "everywhere"), ("CORS_ALLOWED_ORIGINS", "rush.edu")],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    for name in ["DATABASE_URL", "BIND_ADDRESS", "CORS_ALLOWED_ORIGINS"] {
        assert!(message.contains(name), "{name} not named in {message}");
    }
}

#[test]
fn an_unusable_database_or_log_filter_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("dir");
    let output = run(
        &dir,
        &["serve"],
        &[("DATABASE_URL", "/no/such/directory/rush.sqlite3"), ("RUST_LOG", "info,rush_api=chatty")],
    );
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("DATABASE_URL") && message.contains("RUST_LOG"), "{message}");
    let directory = dir.path().join("a-directory");
    std::fs::create_dir(&directory).expect("mkdir");
    let output = run(&dir, &["token", "list"], &[("DATABASE_URL", &directory.to_string_lossy())]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL"));
}

#[test]
fn every_command_has_help_and_unknown_ones_exit_2() {
    let dir = tempfile::tempdir().expect("dir");
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["token", "create", "--help"],
        &["token", "list", "--help"],
        &["token", "revoke", "--help"],
        &["backup", "--help"],
        &["openapi", "--help"],
    ] {
        let output = run(&dir, args, &[]);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
    assert_eq!(run(&dir, &["launch"], &[]).status.code(), Some(2));
}

#[test]
fn backup_writes_a_consistent_copy() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(run(&dir, &["token", "create", "--name", "a"], &[]).status.success());
    let target = dir.path().join("copy.sqlite3");
    let target = target.to_string_lossy();
    let output = run(&dir, &["backup", &target], &[]);
    assert!(output.status.success(), "{output:?}");
    let listed = stdout(&run(&dir, &["token", "list"], &[("DATABASE_URL", &target)]));
    assert!(listed.contains('a'));
    assert_eq!(run(&dir, &["backup", &target], &[]).status.code(), Some(2), "an existing file is not overwritten");
}
