//! Input that is valid JSON or a valid URL but must still be refused, from issue 11: control and
//! bidirectional characters in text, URLs that parse differently than they look, ids with
//! leading zeros, backup targets that are not plain new files, and idempotency keys that must not
//! outlive their token.

use serde_json::{Value, json};

use crate::support::{TestApp, collections, count_rows, merged, spec, valid, valid_program};

const SINGLE_LINE: [(&str, &str); 13] = [
    ("programs", "name"),
    ("programs", "specialty"),
    ("programs", "department"),
    ("programs", "accreditor"),
    ("programs", "accreditation_id"),
    ("programs", "director_name"),
    ("initiatives", "name"),
    ("initiatives", "lead_office"),
    ("events", "title"),
    ("events", "location_name"),
    ("events", "address"),
    ("metrics", "label"),
    ("metrics", "source_name"),
];

const MULTI_LINE: [(&str, &str); 5] = [
    ("programs", "description"),
    ("initiatives", "summary"),
    ("initiatives", "description"),
    ("events", "description"),
    ("metrics", "source_quote"),
];

/// Asserts a 422 naming only `field`, whose message says what is refused.
#[track_caller]
fn assert_refused(response: &crate::support::Response, field: &str, says: &str, case: &str) {
    let problem = response.assert_invalid(&[field]);
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{case}: message {message:?} should say {says:?}");
}

#[actix_web::test]
async fn single_line_text_refuses_control_characters_and_bidi_overrides_and_stores_nothing() {
    let app = TestApp::new().await;
    let refused = [
        '\u{0}', '\t', '\n', '\r', '\u{1B}', '\u{1F}', '\u{7F}', '\u{85}', '\u{9F}', '\u{202A}', '\u{202E}',
        '\u{2066}', '\u{2069}',
    ];
    for (collection, field) in SINGLE_LINE {
        for c in refused {
            let case = format!("POST {collection} {field} with U+{:04X}", u32::from(c));
            let body = merged(valid(collection), json!({ field: format!("Health{c}Fair") }));
            let response = app.post(&format!("/api/v1/{collection}"), &body).await;
            assert_refused(&response, field, "must not contain control characters or bidirectional overrides", &case);
            assert_eq!(count_rows(&app, collection), 0, "{case}: nothing stored");
        }
    }
    // The same rule on PATCH, and the record stays as it was.
    for collection in collections() {
        let record = app.create(collection, &valid(collection)).await;
        let path = format!("/api/v1/{collection}/{}", record["id"]);
        for (_, field) in SINGLE_LINE.iter().filter(|(c, _)| *c == collection) {
            for c in ['\u{0}', '\n', '\u{202E}'] {
                let case = format!("PATCH {collection} {field} with U+{:04X}", u32::from(c));
                let response = app.patch(&path, &json!({ *field: format!("x{c}y") })).await;
                assert_refused(&response, field, "bidirectional overrides", &case);
                assert_eq!(app.get(&path).await.json(), record, "{case}: record unchanged");
            }
        }
    }
    // Text that only looks unusual is stored as sent.
    let fine = "Zoë – São Paulo\u{A0}✓ \u{200F}عربي\u{2028}😀";
    let created = app.create_program(json!({"name": fine, "director_name": fine})).await;
    assert_eq!((created["name"].as_str(), created["director_name"].as_str()), (Some(fine), Some(fine)));
}

#[actix_web::test]
async fn multi_line_text_allows_tab_line_feed_and_carriage_return_and_refuses_other_controls() {
    let app = TestApp::new().await;
    for (collection, field) in MULTI_LINE {
        for c in ['\u{0}', '\u{8}', '\u{B}', '\u{C}', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}'] {
            let case = format!("POST {collection} {field} with U+{:04X}", u32::from(c));
            let body = merged(valid(collection), json!({ field: format!("Line one{c}line two") }));
            let response = app.post(&format!("/api/v1/{collection}"), &body).await;
            assert_refused(&response, field, "must not contain control characters other than tab", &case);
            assert_eq!(count_rows(&app, collection), 0, "{case}: nothing stored");
        }
    }
    for (collection, field) in MULTI_LINE {
        let text = "Line one\r\n\tindented\nline three";
        let record = app.create(collection, &merged(valid(collection), json!({ field: text }))).await;
        assert_eq!(record[field], text, "{collection} {field} stored as sent");
        let path = format!("/api/v1/{collection}/{}", record["id"]);
        let response = app.patch(&path, &json!({ field: "bell\u{7}" })).await;
        assert_refused(&response, field, "other than tab", &format!("PATCH {collection} {field}"));
        assert_eq!(app.get(&path).await.json(), record, "{collection}: record unchanged");
    }
}

/// Every URL that runs a search: the three lists and the calendar feed.
const SEARCHES: [&str; 4] = ["/api/v1/programs", "/api/v1/initiatives", "/api/v1/events", "/api/v1/events.ics"];

/// One record in each collection, so that every search runs against an index with rows.
async fn app_with_records() -> TestApp {
    let app = TestApp::new().await;
    app.create_program(json!({"description": "Say \"hello\" 100% of_the time \\ ok"})).await;
    app.create_initiative(json!({"summary": "Quote \" and percent %"})).await;
    app.create_event(json!({"starts_at": "2026-12-14T09:00:00Z", "description": "NEAR(a b) OR c*"})).await;
    app
}

#[actix_web::test]
async fn q_and_text_filters_refuse_control_characters_with_422_naming_the_parameter() {
    let app = app_with_records().await;
    // `ab%00cd` was a 500 ("unterminated string" from FTS5) before q was checked.
    let refused =
        ["ab%00cd", "%00", "abc%0Adef", "a%09b", "%1B%5B31m", "%7F", "%C2%85", "left%E2%80%AEright", "%E2%81%A6x"];
    for path in SEARCHES {
        for q in refused {
            let response = app.get(&format!("{path}?q={q}")).await;
            assert_refused(&response, "q", "must not contain control characters", &format!("{path}?q={q}"));
        }
    }
    for specialty in ["Internal%00Medicine", "Internal%0AMedicine", "%E2%80%AEenicideM"] {
        let response = app.get(&format!("/api/v1/programs?specialty={specialty}")).await;
        assert_refused(&response, "specialty", "must not contain control characters", specialty);
    }
}

#[actix_web::test]
async fn search_never_answers_500_whatever_q_holds() {
    let app = app_with_records().await;
    let long_quotes = "%22".repeat(200);
    let awkward = [
        "%22",
        "%22%22",
        "%22a",
        "a%22b%22c",
        "*",
        "a*",
        "NEAR(a+b)",
        "a+OR+b",
        "-a",
        "%5Ea",
        "col%3Ax",
        "%25",
        "_",
        "%5C",
        "'",
        "''",
        "%F0%9F%98%80",
        "%C4%B0",
        "%C4%B0%C4%B0",
        "%C7%85",
        "%EF%BF%BF",
        "%F4%8F%BF%BF",
        "%FF",
        "%ED%A0%80",
        "+",
        "%20%20%20",
        "%E2%80%A8",
        "%C2%A0",
        &long_quotes,
    ];
    for path in SEARCHES {
        for q in awkward {
            let response = app.get(&format!("{path}?q={q}")).await;
            response.assert_status(200);
        }
    }
    // Quotes and wildcards are literal text, found like any other.
    let found = app.get("/api/v1/programs?q=%22hello%22+100%25+of_").await;
    assert_eq!(found.json()["meta"]["total"], 1, "{}", found.text());
    let found = app.get("/api/v1/initiatives?q=%22").await;
    assert_eq!(found.json()["meta"]["total"], 1, "{}", found.text());
}

#[test]
fn the_spec_declares_the_text_patterns_the_server_enforces() {
    use rush_api::http::fields::{MULTI_LINE_PATTERN, SINGLE_LINE_PATTERN, is_multi_line_char, is_single_line_char};
    let schemas = &spec()["components"]["schemas"];
    let names = ["NewProgram", "ProgramPatch", "NewInitiative", "InitiativePatch", "NewEvent", "EventPatch"];
    for name in names.into_iter().chain(["NewMetric", "MetricPatch"]) {
        for (field, property) in schemas[name]["properties"].as_object().into_iter().flatten() {
            let is_string = property["type"] == "string" || property["type"] == json!(["string", "null"]);
            // Slugs and NRMP codes have patterns of their own (boundaries.rs checks them).
            if !is_string || property.get("format").is_some() || ["slug", "nrmp_code"].contains(&field.as_str()) {
                continue;
            }
            let expected = if ["description", "summary", "source_quote"].contains(&field.as_str()) {
                MULTI_LINE_PATTERN
            } else {
                SINGLE_LINE_PATTERN
            };
            assert_eq!(property["pattern"], expected, "{name}.{field}");
        }
    }
    for (path, parameter) in [
        ("/api/v1/programs", "q"),
        ("/api/v1/programs", "specialty"),
        ("/api/v1/initiatives", "q"),
        ("/api/v1/events", "q"),
        ("/api/v1/events.ics", "q"),
    ] {
        let parameters = spec()["paths"][path]["get"]["parameters"].as_array().cloned().unwrap_or_default();
        let declared = parameters.iter().find(|p| p["name"] == parameter).map(|p| p["schema"]["pattern"].clone());
        assert_eq!(declared, Some(json!(SINGLE_LINE_PATTERN)), "{path} {parameter}");
    }
    // The patterns, read as JSON Schema reads them, say what the server checks, character by character.
    for (pattern, allowed) in [
        (SINGLE_LINE_PATTERN, is_single_line_char as fn(char) -> bool),
        (MULTI_LINE_PATTERN, is_multi_line_char as fn(char) -> bool),
    ] {
        let validator = jsonschema::validator_for(&json!({"type": "string", "pattern": pattern})).expect("compiles");
        for c in (0..0x2100).chain(0xFFF0..0x10000).chain([0x1F600, 0x10FFFF]).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            assert_eq!(validator.is_valid(&json!(text)), allowed(c), "{pattern} on U+{:04X}", u32::from(c));
        }
    }
}

const URL_FIELDS: [(&str, &str); 4] = [
    ("programs", "website_url"),
    ("initiatives", "website_url"),
    ("events", "registration_url"),
    ("events", "virtual_url"),
];

#[actix_web::test]
async fn urls_are_parsed_as_browsers_parse_them_and_refused_where_parsers_disagree() {
    let app = TestApp::new().await;
    let too_long = format!("https://example.org/{}", "a".repeat(2030));
    let refused = [
        ("https://a.org\\@b.test/", "percent-encode spaces, backslashes"),
        ("https:\\\\b.test/", "backslashes"),
        ("https://user:secret@a.org/", "user name or password"),
        ("https://user@a.org/", "user name or password"),
        ("https://@a.org/", "user name or password"),
        ("https://a.org /", "spaces"),
        ("https://a.org/\tx", "control characters"),
        ("https://a.org/\u{0}", "control characters"),
        ("https://a.org/\u{202E}gro.b", "non-ASCII"),
        ("http:a.org", "absolute http or https URL"),
        ("http:///a.org", "absolute http or https URL"),
        ("ftp://a.org/", "absolute http or https URL"),
        ("javascript:alert(1)", "absolute http or https URL"),
        ("/relative", "absolute http or https URL"),
        ("https://a.org:65536/", "absolute http or https URL"),
        ("https://a<b.org/", "RFC 3986"),
        ("https://bücher.example/", "punycode"),
        ("https://a.org/a|b", "RFC 3986"),
        ("https://a.org/100%", "RFC 3986"),
        ("https://a.org/[x]", "absolute http or https URL"),
        (too_long.as_str(), "at most 2048 characters"),
    ];
    for (collection, field) in URL_FIELDS {
        for (url, says) in refused {
            let case = format!("{collection} {field} = {url:?}");
            let response =
                app.post(&format!("/api/v1/{collection}"), &merged(valid(collection), json!({ field: url }))).await;
            assert_refused(&response, field, says, &case);
            assert_eq!(count_rows(&app, collection), 0, "{case}: nothing stored");
        }
    }
    let accepted = [
        "http://[::1]:8080/",
        "HTTPS://Example.ORG/a%20b?x=@y#@z",
        "https://xn--bcher-kva.example/stra%C3%9Fe",
        "https://a.org/p;x=1/(a)!$&'*+,=~?q=/?:@#f/?:@",
    ];
    for (collection, field) in URL_FIELDS {
        for url in accepted {
            let record = app.create(collection, &merged(valid(collection), json!({ field: url }))).await;
            assert_eq!(record[field], url, "{collection} {field}: stored as sent");
            let path = format!("/api/v1/{collection}/{}", record["id"]);
            let response = app.patch(&path, &json!({ field: "https://a.org\\@b.test/" })).await;
            assert_refused(&response, field, "backslashes", &format!("PATCH {collection} {field}"));
            assert_eq!(app.get(&path).await.json(), record, "{collection}: record unchanged");
        }
    }
}

#[actix_web::test]
async fn a_record_id_with_leading_zeros_or_a_sign_names_no_record() {
    let app = TestApp::new().await;
    let mut records = Vec::new();
    for collection in collections() {
        records.push((collection, app.create(collection, &valid(collection)).await));
    }
    for (collection, record) in &records {
        assert_eq!(record["id"], 1);
        app.get(&format!("/api/v1/{collection}/1")).await.assert_status(200);
        for id in ["01", "001", "+1", "0001", "00"] {
            let path = format!("/api/v1/{collection}/{id}");
            app.get(&path).await.assert_problem(404, "not_found");
            app.patch(&path, &json!({})).await.assert_problem(404, "not_found");
            app.delete(&path).await.assert_problem(404, "not_found");
            let suffixes: &[&str] = match *collection {
                "events" => &[".ics", ".jsonld"],
                "programs" => &[".jsonld"],
                _ => &[],
            };
            for suffix in suffixes {
                app.get(&format!("{path}{suffix}")).await.assert_problem(404, "not_found");
            }
        }
        assert_eq!(&app.get(&format!("/api/v1/{collection}/1")).await.json(), record, "{collection}: unchanged");
    }
    for path in ["/api/v1/events/1.ics", "/api/v1/events/1.jsonld", "/api/v1/programs/1.jsonld"] {
        app.get(path).await.assert_status(200);
    }
}

/// The names in `dir`, to show that a refused command created nothing.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the directory")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `rush-api backup PATH` with PATH as raw bytes (not necessarily UTF-8).
fn backup(dir: &tempfile::TempDir, path: &std::ffi::OsStr) -> std::process::Output {
    std::process::Command::new(crate::cli::BINARY)
        .arg("backup")
        .arg(path)
        .current_dir(dir.path())
        .env_remove("BIND_ADDRESS")
        .env_remove("CORS_ALLOWED_ORIGINS")
        .env("DATABASE_URL", crate::support::database_in(dir.path(), "cli.sqlite3"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run rush-api")
}

#[test]
fn backup_refuses_uris_non_utf8_paths_symbolic_links_and_existing_files_with_exit_2() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("dir");
    assert!(crate::cli::run(&dir, &["token", "create", "--name", "a"], &[]).status.success());
    let existing = dir.path().join("existing.sqlite3");
    std::fs::write(&existing, b"keep me").expect("write");
    let dangling = dir.path().join("dangling.sqlite3");
    std::os::unix::fs::symlink(dir.path().join("nowhere.sqlite3"), &dangling).expect("symlink");
    let to_existing = dir.path().join("to-existing.sqlite3");
    std::os::unix::fs::symlink(&existing, &to_existing).expect("symlink");
    let in_memory = format!("file:{}?mode=memory", dir.path().join("memory.sqlite3").display());
    let before = listing(dir.path());
    let cases: [(&str, &std::ffi::OsStr, &str); 9] = [
        ("a file: URI", std::ffi::OsStr::new(&in_memory), "file:"),
        ("a relative file: URI", std::ffi::OsStr::new("file:copy.sqlite3"), "file:"),
        ("a file: URI in capitals", std::ffi::OsStr::new("FILE:copy.sqlite3"), "file:"),
        ("SQLite's in-memory name", std::ffi::OsStr::new(":memory:"), "names no file"),
        ("a path that is not UTF-8", std::ffi::OsStr::from_bytes(b"copy-\xff.sqlite3"), "UTF-8"),
        ("a dangling symbolic link", dangling.as_os_str(), "symbolic link"),
        ("a symbolic link to a file", to_existing.as_os_str(), "symbolic link"),
        ("an existing file", existing.as_os_str(), "already exists"),
        ("a file in a missing directory", std::ffi::OsStr::new("missing/copy.sqlite3"), "cannot create"),
    ];
    for (case, path, says) in cases {
        let output = backup(&dir, path);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{case}: {stderr}");
        assert!(stderr.contains(says), "{case}: {stderr:?} should say {says:?}");
        assert!(output.stdout.is_empty(), "{case}: reports no success");
        assert_eq!(listing(dir.path()), before, "{case}: nothing created or removed");
    }
    assert_eq!(std::fs::read(&existing).expect("read"), b"keep me", "nothing overwritten");
    assert!(std::fs::symlink_metadata(&dangling).is_ok_and(|m| m.file_type().is_symlink()), "link kept");
    assert!(!dir.path().join("nowhere.sqlite3").exists(), "a dangling link is never followed");
}

#[test]
fn backup_writes_a_copy_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    assert!(crate::cli::run(&dir, &["token", "create", "--name", "a"], &[]).status.success());
    // `./file:…` is how to name a file whose name starts with `file:`.
    for name in ["copy.sqlite3", "./file:copy.sqlite3"] {
        let output = backup(&dir, std::ffi::OsStr::new(name));
        assert!(output.status.success(), "{name}: {output:?}");
        let copy = dir.path().join(name);
        let mode = std::fs::metadata(&copy).expect("the copy exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: mode {mode:o}");
        let copy = crate::support::backup_database(&copy);
        let listed = crate::cli::run(&dir, &["token", "list"], &[("DATABASE_URL", &copy)]);
        assert!(String::from_utf8_lossy(&listed.stdout).starts_with("a\t"), "{name}: the copy holds the data");
    }
}

#[test]
fn database_url_refuses_sqlite_uri_filenames_with_exit_2() {
    let dir = tempfile::tempdir().expect("dir");
    for url in [
        "file:rush.sqlite3?mode=memory",
        "FILE:rush.sqlite3",
        "file:rush.sqlite3?nolock=1",
        "sqlite://file:rush.sqlite3?immutable=1",
        ":memory:",
    ] {
        let output = crate::cli::run(&dir, &["token", "list"], &[("DATABASE_URL", url)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains("DATABASE_URL") && stderr.contains("URI"), "{url}: {stderr}");
        assert!(listing(dir.path()).is_empty(), "{url}: no database created");
    }
}

/// A POST with `Idempotency-Key: key`, authorized by `secret`, with `body` serialized in its
/// members' order.
fn keyed_post(secret: &str, key: &str, body: &Value) -> actix_web::test::TestRequest {
    actix_web::test::TestRequest::post()
        .uri("/api/v1/programs")
        .insert_header(("Authorization", format!("Bearer {secret}")))
        .insert_header(("Idempotency-Key", key.to_owned()))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

async fn create_token(app: &TestApp, name: &'static str) -> String {
    let secret = rush_api::domain::tokens::generate().expect("token");
    let stored = secret.clone();
    let created = app
        .state
        .db
        .write(move |conn, now| {
            rush_api::domain::tokens::create(conn, name, &stored, &[rush_api::domain::tokens::Scope::Content], now)
        })
        .await;
    assert_eq!(created.ok(), Some(true), "token {name} created");
    secret
}

#[actix_web::test]
async fn an_idempotency_key_belongs_to_the_token_not_to_its_name() {
    let app = TestApp::new().await;
    let old = create_token(&app, "ci").await;
    let first = app.send(keyed_post(&old, "deploy-42", &valid_program())).await;
    first.assert_status(201);
    assert_eq!(count_rows(&app, "idempotency_keys"), 1);

    let revoked = app.state.db.write(|conn, _| rush_api::domain::tokens::revoke(conn, "ci")).await;
    assert_eq!(revoked.ok(), Some(true));
    assert_eq!(count_rows(&app, "idempotency_keys"), 0, "revoking a token forgets its keys");
    let new = create_token(&app, "ci").await;

    // The old token's request, replayed to the new one, would hand it the old one's response.
    let again = app.send(keyed_post(&new, "deploy-42", &valid_program())).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), None, "a new token with an old name starts afresh");
    assert_ne!(again.header("location"), first.header("location"));
    assert_eq!(count_rows(&app, "programs"), 2);
    app.send(keyed_post(&old, "deploy-42", &valid_program())).await.assert_problem(401, "unauthorized");
    assert_eq!(count_rows(&app, "programs"), 2);
}

#[actix_web::test]
async fn the_same_body_with_members_in_another_order_replays_the_original_response() {
    let app = TestApp::new().await;
    let body = merged(valid_program(), json!({"description": "Three years", "duration_years": 3}));
    let reversed: serde_json::Map<String, Value> =
        body.as_object().expect("object").iter().rev().map(|(k, v)| (k.clone(), v.clone())).collect();
    let reversed = Value::Object(reversed);
    assert_ne!(body.to_string(), reversed.to_string(), "the bytes differ");

    let first = app.send(keyed_post(&app.token, "order", &body)).await;
    first.assert_status(201);
    let again = app.send(keyed_post(&app.token, "order", &reversed)).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!((again.body.clone(), again.header("location")), (first.body.clone(), first.header("location")));
    assert_eq!(count_rows(&app, "programs"), 1, "created once");

    // Another value is still another request.
    let changed = merged(reversed, json!({"duration_years": 4}));
    app.send(keyed_post(&app.token, "order", &changed)).await.assert_problem(422, "idempotency_key_reused");
    assert_eq!(count_rows(&app, "programs"), 1);
}
