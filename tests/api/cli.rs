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
        .env("DATABASE_URL", crate::support::database_in(dir.path(), "cli.sqlite3"))
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
    assert_eq!(stdout(&output), rush_api::app::openapi::spec_json());
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
        &[
            ("DATABASE_URL", "postgres:///no-host"),
            ("BIND_ADDRESS", "everywhere"),
            ("CORS_ALLOWED_ORIGINS", "rush.edu"),
        ],
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
    let copy = crate::support::backup_database(std::path::Path::new(target.as_ref()));
    let listed = stdout(&run(&dir, &["token", "list"], &[("DATABASE_URL", &copy)]));
    assert!(listed.contains('a'));
    assert_eq!(run(&dir, &["backup", &target], &[]).status.code(), Some(2), "an existing file is not overwritten");
}

#[actix_web::test]
async fn copy_database_carries_everything_and_the_copy_serves_the_same() {
    use serde_json::json;
    let app = crate::support::TestApp::seeded().await;
    // A gap in the ids (a deleted program), a tombstone, an idempotency record, an event request.
    let doomed = app.create_program(json!({"name": "Doomed Residency"})).await;
    app.delete(&format!("/api/v1/programs/{}", doomed["id"])).await.assert_status(204);
    let keyed = actix_web::test::TestRequest::post()
        .uri("/api/v1/initiatives")
        .insert_header(("Idempotency-Key", "copy-1"))
        .set_json(crate::support::valid_initiative());
    app.send(app.authorized(keyed)).await.assert_status(201);
    let submitted = app
        .send(actix_web::test::TestRequest::post().uri("/api/v1/event-requests").set_json(json!({
            "organization_name": "Garfield Park Council", "contact_name": "Sam Lee",
            "contact_email": "sam@example.org", "event_title": "Block party",
            "event_type": "community_event", "requested_support": ["information_table"],
            "starts_at": "2030-07-04T12:00:00-05:00"
        })))
        .await;
    submitted.assert_status(201);
    let status_url = submitted.json()["status_url"].as_str().unwrap_or_default().to_owned();

    // Into a SQLite file, and into a PostgreSQL database when there is one: with the suite on
    // either backend, every direction between the two is covered.
    let dir = tempfile::tempdir().expect("dir");
    let mut targets = vec![dir.path().join("copy.sqlite3").to_string_lossy().into_owned()];
    if let Some(postgres) = crate::postgres::shared() {
        targets.push(postgres.url(&postgres.database()));
    }
    for target_arg in targets {
        let output = run(&dir, &["copy-database", "--from", &app.db_path, "--to", &target_arg], &[]);
        assert!(output.status.success(), "{output:?}");
        let printed = stdout(&output);
        for (table, rows) in [
            ("programs", 41),
            ("initiatives", 19),
            ("events", 20),
            ("metrics", 10),
            ("event_requests", 1),
            ("deletions", 1),
            ("idempotency_keys", 1),
            ("api_tokens", 1),
        ] {
            assert!(printed.contains(&format!("{table}\t{rows}\n")), "{table} {rows}: {printed}");
        }
        // Again into the now full copy: refused, and the copy is untouched.
        let again = run(&dir, &["copy-database", "--from", &app.db_path, "--to", &target_arg], &[]);
        assert_eq!(again.status.code(), Some(2), "{again:?}");
        assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

        let server = crate::server::Server::start_with(&target_arg, dir.path(), &["serve"], &[]);
        let get = |path: &str| {
            let response =
                server.request(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
            response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
        };
        for path in [
            "/api/v1/programs?limit=100",
            "/api/v1/events?limit=100",
            "/api/v1/metrics?limit=100",
            "/api/v1/initiatives?q=equity",
            "/api/v1/deletions",
        ] {
            assert_eq!(get(path), app.get(path).await.text(), "{path} on the copy");
        }
        assert!(get(&status_url).contains("Garfield Park Council"), "the status link works on the copy");
        // The token works on the copy, and ids go on after the deleted one.
        let body = r#"{"name": "After Copy Residency", "program_type": "residency", "specialty": "Neurology", "campus": "rush_oak_park_hospital", "duration_years": 4}"#;
        let created = server.request(&format!(
            "POST /api/v1/programs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            app.token,
            body.len()
        ));
        assert!(created.starts_with("HTTP/1.1 201"), "{created}");
        let next_id = doomed["id"].as_i64().unwrap_or_default() + 1;
        assert!(created.contains(&format!("\"id\":{next_id},")), "{created}");
    }
}
