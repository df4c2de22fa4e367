//! `TestApp`: the real application (`build_app`) over a fresh database (a SQLite file, or a
//! PostgreSQL database with `RUSH_TEST_DATABASE=postgres`), with a write token, and responses that
//! are checked against the OpenAPI document as they arrive.

#![allow(dead_code, reason = "each test module uses a different part of the support")]

use std::sync::OnceLock;

use actix_service::boxed::{self, BoxService};
use actix_service::{Service, ServiceExt};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use rush_api::app::server::build_app;
use rush_api::db::Db;
use rush_api::domain::tokens::Scope;
use rush_api::endpoints::state::AppState;
use rush_api::http::CorsOrigins;
use rush_api::http::rate_limit::RateLimitConfig;
use serde_json::{Value, json};
use tempfile::TempDir;

type AppService = BoxService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>;

pub struct TestApp {
    pub dir: TempDir,
    /// The database, as a DATABASE_URL value (a SQLite file path or a PostgreSQL URL).
    pub db_path: String,
    pub state: AppState,
    service: AppService,
    pub token: String,
}

impl TestApp {
    /// An empty database and one write token.
    pub async fn new() -> TestApp {
        TestApp::build(CorsOrigins::None, false, RateLimitConfig::off()).await
    }

    /// With rate limiting on, as `serve` has it.
    pub async fn with_rate_limits(limits: RateLimitConfig) -> TestApp {
        TestApp::build(CorsOrigins::None, false, limits).await
    }

    /// The bundled dataset loaded, as `serve` does.
    pub async fn seeded() -> TestApp {
        TestApp::build(CorsOrigins::None, true, RateLimitConfig::off()).await
    }

    pub async fn with_cors(origins: CorsOrigins) -> TestApp {
        TestApp::build(origins, false, RateLimitConfig::off()).await
    }

    async fn build(origins: CorsOrigins, seed: bool, limits: RateLimitConfig) -> TestApp {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let db_path = database_in(dir.path(), "test.sqlite3");
        let location = rush_api::app::config::parse_database_url(&db_path).expect("a database URL");
        let db = Db::open_with(&location, 8).expect("open the test database");
        if seed {
            rush_api::domain::dataset::load_if_empty(&db).await.expect("load the bundled dataset");
        }
        let secret = rush_api::domain::tokens::generate().expect("generate a token");
        let stored = secret.clone();
        // Both scopes: the suite's requests act as the content team and as staff; tests of scopes
        // make tokens of their own (`TestApp::token_with`).
        let scopes = [Scope::Content, Scope::Requests];
        db.write(move |conn, now| rush_api::domain::tokens::create(conn, "tests", &stored, &scopes, now))
            .await
            .expect("store the test token");
        let state = AppState::new(db, origins).with_rate_limits(&limits);
        let service = test::init_service(build_app(state.clone())).await;
        let service = boxed::service(service.map(|response: ServiceResponse<_>| response.map_into_boxed_body()));
        TestApp { dir, db_path, state, service, token: secret }
    }

    /// A new token named `name` with exactly `scopes`.
    pub async fn token_with(&self, name: &str, scopes: &[Scope]) -> String {
        let secret = rush_api::domain::tokens::generate().expect("generate a token");
        let (stored, name, scopes) = (secret.clone(), name.to_owned(), scopes.to_vec());
        self.state
            .db
            .write(move |conn, now| rush_api::domain::tokens::create(conn, &name, &stored, &scopes, now))
            .await
            .expect("store the token");
        secret
    }

    /// Sends `request` and checks the response against the OpenAPI document.
    pub async fn send(&self, request: TestRequest) -> Response {
        let request = request.to_request();
        let method = request.method().clone();
        let path = request.path().to_owned();
        let response = match self.service.call(request).await {
            Ok(response) => response,
            Err(error) => ServiceResponse::new(TestRequest::default().to_http_request(), error.error_response()),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
        let response = Response { method, path, status, headers, body };
        response.check_against_spec();
        response
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(TestRequest::get().uri(path)).await
    }

    pub fn authorized(&self, request: TestRequest) -> TestRequest {
        request.insert_header(("Authorization", format!("Bearer {}", self.token)))
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(self.authorized(TestRequest::post().uri(path).set_json(body))).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        let request = TestRequest::patch()
            .uri(path)
            .insert_header(("Content-Type", "application/merge-patch+json"))
            .set_payload(body.to_string());
        self.send(self.authorized(request)).await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(self.authorized(TestRequest::delete().uri(path))).await
    }

    /// Creates a record and returns it.
    pub async fn create(&self, collection: &str, body: &Value) -> Value {
        let response = self.post(&format!("/api/v1/{collection}"), body).await;
        response.assert_status(201);
        response.json()
    }

    pub async fn create_program(&self, overrides: Value) -> Value {
        self.create("programs", &merged(valid_program(), overrides)).await
    }

    pub async fn create_initiative(&self, overrides: Value) -> Value {
        self.create("initiatives", &merged(valid_initiative(), overrides)).await
    }

    pub async fn create_event(&self, overrides: Value) -> Value {
        self.create("events", &merged(valid_event(), overrides)).await
    }

    pub async fn create_metric(&self, overrides: Value) -> Value {
        self.create("metrics", &merged(valid_metric(), overrides)).await
    }

    /// Every record of a collection, read through the API.
    pub async fn all(&self, collection: &str) -> Vec<Value> {
        let mut records = Vec::new();
        for page in 0..1000 {
            let response = self.get(&format!("/api/v1/{collection}?limit=100&offset={}", page * 100)).await;
            response.assert_status(200);
            let data = response.json()["data"].as_array().cloned().unwrap_or_default();
            let done = data.len() < 100;
            records.extend(data);
            if done {
                break;
            }
        }
        records
    }
}

/// `base` with the members of `overrides` set (a `null` override removes the member).
pub fn merged(mut base: Value, overrides: Value) -> Value {
    if let (Some(base), Some(overrides)) = (base.as_object_mut(), overrides.as_object()) {
        for (key, value) in overrides {
            if value.is_null() {
                base.remove(key);
            } else {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    base
}

pub fn valid_program() -> Value {
    json!({
        "name": "Internal Medicine Residency",
        "program_type": "residency",
        "specialty": "Internal Medicine",
        "campus": "rush_university_medical_center",
        "duration_years": 3
    })
}

pub fn valid_initiative() -> Value {
    json!({"name": "West Side United", "category": "partnership"})
}

pub fn valid_metric() -> Value {
    json!({
        "label": "Residents and fellows",
        "value": 825,
        "unit": "people",
        "source_name": "Graduate Medical Education"
    })
}

/// A valid create body of `collection` with nothing optional.
pub fn valid(collection: &str) -> Value {
    match collection {
        "programs" => valid_program(),
        "initiatives" => valid_initiative(),
        "events" => valid_event(),
        "metrics" => valid_metric(),
        other => panic!("no valid body for {other}"),
    }
}

pub fn valid_event() -> Value {
    json!({
        "title": "Community Health Fair",
        "event_type": "health_fair",
        "starts_at": "2027-03-14T09:00:00-05:00"
    })
}

#[derive(Debug)]
pub struct Response {
    pub method: Method,
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
    }

    /// Every comma-separated member of every line of a list header (`Vary`), trimmed.
    pub fn header_list(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|member| member.trim().to_owned())
            .filter(|member| !member.is_empty())
            .collect()
    }

    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Response {
        assert_eq!(self.status, expected, "{} {} answered {}: {}", self.method, self.path, self.status, self.text());
        self
    }

    /// Asserts a problem+json response with this status and code; returns the problem.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        self.assert_status(status);
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"), "{}", self.text());
        let problem = self.json();
        assert_eq!(problem["code"], code, "{}", self.text());
        assert_eq!(problem["status"], status, "{}", self.text());
        for member in ["type", "title", "detail", "request_id"] {
            assert!(problem[member].is_string(), "problem without {member}: {}", self.text());
        }
        assert_eq!(problem["request_id"].as_str(), self.header("x-request-id").as_deref());
        problem
    }

    /// Asserts a 422 whose `errors` name exactly these fields (in any order).
    #[track_caller]
    pub fn assert_invalid(&self, fields: &[&str]) -> Value {
        let problem = self.assert_problem(422, "validation_failed");
        let mut named: Vec<String> = problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect();
        named.sort();
        let mut expected: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        expected.sort();
        assert_eq!(named, expected, "{}", self.text());
        problem
    }

    /// Every response must match what the OpenAPI document says about its operation and status.
    #[track_caller]
    fn check_against_spec(&self) {
        assert!(self.header("x-request-id").is_some(), "{} {} has no X-Request-Id", self.method, self.path);
        // HEAD has no body to check, and CORS preflights are answered by the CORS layer.
        if self.path.starts_with("/docs")
            || self.path == "/openapi.json"
            || self.method == Method::HEAD
            || self.method == Method::OPTIONS
        {
            return;
        }
        let spec = spec();
        let content_type = self.header("content-type").unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_owned();
        let Some((template, operation)) = find_operation(spec, &self.method, &self.path) else {
            // Unrouted paths and methods: a problem document all the same.
            assert!(
                self.status == 404 || self.status == 405,
                "{} {} -> {} outside the spec",
                self.method,
                self.path,
                self.status
            );
            assert_eq!(essence, "application/problem+json");
            validate(spec, &json!({"$ref": "#/components/schemas/Problem"}), &self.json(), &self.method, &self.path);
            return;
        };
        let Some(documented) = operation["responses"].get(self.status.to_string()).map(|r| resolve(spec, r)) else {
            panic!(
                "{} {} answered {}, which the spec does not document for {template}: {}",
                self.method,
                self.path,
                self.status,
                self.text()
            );
        };
        if self.header("content-encoding").is_some() {
            // Compressed: the tests that ask for compression decode and check the body themselves.
            return;
        }
        match documented.get("content").and_then(Value::as_object) {
            None => assert!(
                self.body.is_empty(),
                "{} {} -> {} documents no body but sent {}",
                self.method,
                self.path,
                self.status,
                self.text()
            ),
            Some(content) => {
                let Some(media) = content.get(&essence) else {
                    panic!(
                        "{} {} -> {} sent {content_type}, documented: {:?}",
                        self.method,
                        self.path,
                        self.status,
                        content.keys().collect::<Vec<_>>()
                    );
                };
                if !essence.contains("json") {
                    return;
                }
                let body: Value = serde_json::from_slice(&self.body)
                    .unwrap_or_else(|_| panic!("{} {} -> not JSON: {}", self.method, self.path, self.text()));
                validate(spec, &media["schema"], &body, &self.method, &self.path);
            }
        }
    }
}

/// A response object, following its `$ref` into `components` if it is one.
pub fn resolve<'a>(spec: &'a Value, response: &'a Value) -> &'a Value {
    match response["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(path) => path.split('/').fold(spec, |node, key| &node[key]),
        None => response,
    }
}

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(&rush_api::app::openapi::spec_json()).expect("the spec is JSON"))
}

/// How many characters of a path template are literal (outside `{...}`).
fn literal_length(template: &str) -> usize {
    let mut depth = 0;
    template
        .chars()
        .filter(|c| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => return depth == 0,
            }
            false
        })
        .count()
}

/// The operation whose path template matches `path`; where several do (`{id}` and `{id}.ics`),
/// the one with the most literal text.
fn find_operation<'a>(spec: &'a Value, method: &Method, path: &str) -> Option<(&'a str, &'a Value)> {
    let paths = spec["paths"].as_object()?;
    let segments: Vec<&str> = path.split('/').collect();
    let segment_matches = |part: &str, segment: &str| match (part.find('{'), part.find('}')) {
        (Some(open), Some(close)) => {
            let (prefix, suffix) = (&part[..open], &part[close + 1..]);
            segment.len() > prefix.len() + suffix.len() && segment.starts_with(prefix) && segment.ends_with(suffix)
        }
        _ => part == segment,
    };
    let (template, item) = paths
        .iter()
        .filter(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| segment_matches(part, segment))
        })
        .max_by_key(|(template, _)| literal_length(template))?;
    Some((template.as_str(), item.get(method.as_str().to_ascii_lowercase())?))
}

#[track_caller]
fn validate(spec: &Value, schema: &Value, instance: &Value, method: &Method, path: &str) {
    let mut root = schema.clone();
    if let Some(object) = root.as_object_mut() {
        object.insert("components".to_owned(), spec["components"].clone());
    }
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the spec's schema does not compile: {e}"));
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(
        errors.is_empty(),
        "{method} {path}: the response does not match its documented schema: {errors:#?}\n{instance:#}"
    );
}

/// How many rows `table` holds, read from the database directly, for asserting what is stored.
pub fn count_rows(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(&mut connect(&app.db_path))
        .map(|c| c.n)
        .expect("count rows")
}

/// Asserts that each full-text index holds exactly its table's current text: FTS5's own check,
/// which with rank 1 compares an external-content index against its table. (On PostgreSQL the
/// trigram indexes are PostgreSQL's own, with nothing of the service's to fall out of step.)
pub fn assert_search_index_consistent(database: &str) {
    use diesel::prelude::*;
    if on_postgres() {
        return;
    }
    let mut conn = connect(database);
    for table in collections() {
        let check = format!("INSERT INTO {table}_search ({table}_search, rank) VALUES ('integrity-check', 1)");
        if let Err(error) = diesel::sql_query(check).execute(&mut conn) {
            panic!("the search index of {table} differs from the table: {error}");
        }
    }
}

/// Every collection of the API, from the service's own table of resources: a test that walks
/// them covers a new resource without being edited.
pub fn collections() -> Vec<&'static str> {
    rush_api::domain::resources::RESOURCES.iter().map(|resource| resource.table).collect()
}

/// Whether the suite runs on PostgreSQL (`RUSH_TEST_DATABASE=postgres`) rather than SQLite.
pub fn on_postgres() -> bool {
    match std::env::var("RUSH_TEST_DATABASE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("RUSH_TEST_DATABASE must be sqlite or postgres, not {other}"),
    }
}

/// The database a test keeps under the name `file` in `dir`, as a DATABASE_URL value: that SQLite
/// file, or on PostgreSQL a database of its own on the shared cluster (the same one for the same
/// `dir` and `file`, so that a test can restart a server on it).
pub fn database_in(dir: &std::path::Path, file: &str) -> String {
    if !on_postgres() {
        return dir.join(file).to_string_lossy().into_owned();
    }
    static MADE: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> = std::sync::Mutex::new(Vec::new());
    let key = dir.join(file);
    let mut made = MADE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, url)) = made.iter().find(|(path, _)| *path == key) {
        return url.clone();
    }
    let postgres = crate::postgres::shared().expect("RUSH_TEST_DATABASE=postgres, but there is no PostgreSQL to use");
    let url = postgres.url(&postgres.database());
    made.push((key, url.clone()));
    url
}

/// A connection to the database at `database` (a DATABASE_URL value), outside the service.
pub fn connect(database: &str) -> rush_api::db::Conn {
    let location = rush_api::app::config::parse_database_url(database).expect("a database URL");
    let mut conn = location.connect().expect("connect to the test database");
    if let rush_api::db::Conn::Sqlite(c) = &mut conn {
        use diesel::connection::SimpleConnection;
        c.batch_execute("PRAGMA busy_timeout = 5000").expect("busy timeout");
    }
    conn
}

/// Everything the database at `database` stores, as bytes to search for what must not be stored:
/// the SQLite file and its write-ahead log, or every row of every PostgreSQL table as text.
pub fn stored_bytes(database: &str) -> Vec<u8> {
    use diesel::prelude::*;
    if !on_postgres() {
        let mut bytes = std::fs::read(database).unwrap_or_default();
        bytes.extend(std::fs::read(format!("{database}-wal")).unwrap_or_default());
        return bytes;
    }
    #[derive(QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    let mut conn = connect(database);
    let tables: Vec<Text> = diesel::sql_query(
        "SELECT table_name::text AS text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .load(&mut conn)
    .expect("list the tables");
    let mut bytes = Vec::new();
    for table in tables {
        let rows: Vec<Text> = diesel::sql_query(format!("SELECT t::text AS text FROM \"{}\" AS t", table.text))
            .load(&mut conn)
            .expect("read a table");
        rows.into_iter().for_each(|row| bytes.extend(row.text.into_bytes()));
        // A row as text shows bytes in hex: their own bytes too, to be searched as stored.
        let binary: Vec<Text> = diesel::sql_query(format!(
            "SELECT column_name::text AS text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = '{}' AND data_type = 'bytea'",
            table.text
        ))
        .load(&mut conn)
        .expect("list binary columns");
        for column in binary {
            let rows: Vec<Text> = diesel::sql_query(format!(
                "SELECT coalesce(encode(\"{}\", 'escape'), '') AS text FROM \"{}\"",
                column.text, table.text
            ))
            .load(&mut conn)
            .expect("read binary values");
            rows.into_iter().for_each(|row| bytes.extend(row.text.into_bytes()));
        }
    }
    bytes
}

/// How many references in the database at `database` point at no record (0 when every event's
/// program and initiative, every metric's initiative and every request's event exist).
pub fn dangling_references(database: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let checks = [
        ("events", "program_id", "programs"),
        ("events", "initiative_id", "initiatives"),
        ("metrics", "initiative_id", "initiatives"),
        ("event_requests", "event_id", "events"),
    ];
    let mut conn = connect(database);
    checks
        .iter()
        .map(|(table, column, target)| {
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM {table} AS r WHERE r.{column} IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM {target} AS t WHERE t.id = r.{column})"
            ))
            .get_result::<Count>(&mut conn)
            .expect("check references")
            .n
        })
        .sum()
}

/// A new PostgreSQL database restored from the pg_dump archive at `archive`, as a DATABASE_URL.
pub fn restored(archive: &std::path::Path) -> String {
    let postgres = crate::postgres::shared().expect("PostgreSQL");
    let url = postgres.url(&postgres.database());
    let output = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&url)
        .arg(archive)
        .output()
        .expect("run pg_restore");
    assert!(output.status.success(), "pg_restore: {}", String::from_utf8_lossy(&output.stderr));
    url
}

/// The database a `backup` to `path` can be read as: that SQLite file, or on PostgreSQL a new
/// database restored from the pg_dump archive there.
pub fn backup_database(path: &std::path::Path) -> String {
    if on_postgres() { restored(path) } else { path.to_string_lossy().into_owned() }
}
