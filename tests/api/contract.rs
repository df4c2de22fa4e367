//! The cross-cutting contract: framework errors as problems, content types, body limit, auth,
//! request ids, CORS, health and the documentation page.

use actix_web::test::TestRequest;
use rush_api::http::CorsOrigins;
use serde_json::json;

use crate::support::{TestApp, count_rows, valid_program};

#[actix_web::test]
async fn malformed_json_is_400_and_nothing_is_stored() {
    let app = TestApp::new().await;
    for body in ["{\"name\": ", "", "not json", "{\"a\":1}}"] {
        let request = TestRequest::post()
            .uri("/api/v1/programs")
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body);
        app.send(app.authorized(request)).await.assert_problem(400, "malformed_json");
    }
    assert_eq!(count_rows(&app, "programs"), 0);
}

#[actix_web::test]
async fn bodies_of_another_media_type_are_415() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let body = valid_program().to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/json; charset=latin1"),
        Some("application/merge-patch+json"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = TestRequest::post().uri("/api/v1/programs").set_payload(body.clone());
        if let Some(content_type) = content_type {
            request = request.insert_header(("Content-Type", content_type));
        }
        app.send(app.authorized(request)).await.assert_problem(415, "unsupported_media_type");
    }
    for content_type in ["application/json", "APPLICATION/JSON; charset=UTF-8", "application/json;charset=\"utf-8\""] {
        let request = TestRequest::post()
            .uri("/api/v1/programs")
            .insert_header(("Content-Type", content_type))
            .set_payload(body.clone());
        app.send(app.authorized(request)).await.assert_status(201);
    }
    let patch = TestRequest::patch()
        .uri(&format!("/api/v1/programs/{}", program["id"]))
        .insert_header(("Content-Type", "text/json"))
        .set_payload("{}");
    app.send(app.authorized(patch)).await.assert_problem(415, "unsupported_media_type");
    assert_eq!(count_rows(&app, "programs"), 4);
}

#[actix_web::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = TestApp::new().await;
    let description = "x".repeat(1024 * 1024);
    let body = json!({"name": "Big", "description": description}).to_string();
    let request = TestRequest::post()
        .uri("/api/v1/programs")
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body);
    app.send(app.authorized(request)).await.assert_problem(413, "payload_too_large");
    assert_eq!(count_rows(&app, "programs"), 0);
}

#[actix_web::test]
async fn unknown_routes_are_404_and_unknown_methods_405_with_allow() {
    let app = TestApp::new().await;
    for path in ["/", "/api/v1", "/api/v1/doctors", "/api/v1/programs/1/events", "/api/v2/programs"] {
        app.get(path).await.assert_problem(404, "not_found");
    }
    let response = app.send(TestRequest::put().uri("/api/v1/programs")).await;
    response.assert_problem(405, "method_not_allowed");
    assert_eq!(response.header("allow").as_deref(), Some("GET, HEAD, POST"));
    let response = app.send(TestRequest::post().uri("/api/v1/events/1")).await;
    response.assert_problem(405, "method_not_allowed");
    assert_eq!(response.header("allow").as_deref(), Some("GET, HEAD, PATCH, DELETE"));
    app.send(TestRequest::delete().uri("/healthz")).await.assert_problem(405, "method_not_allowed");
}

#[actix_web::test]
async fn writes_without_a_valid_token_are_401_and_change_nothing() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let headers: [Option<String>; 6] = [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some(format!("Basic {}", app.token)),
        Some("Bearer rush_0000000000000000000000000000000000000000000000000000000000000000".to_owned()),
        Some(format!("Bearer {}x", app.token)),
    ];
    for header in headers {
        let with = |request: TestRequest| match &header {
            Some(value) => request.insert_header(("Authorization", value.clone())),
            None => request,
        };
        for request in [
            TestRequest::post().uri("/api/v1/programs").set_json(valid_program()),
            TestRequest::patch().uri(&path).set_json(json!({"name": "Changed"})),
            TestRequest::delete().uri(&path),
        ] {
            let response = app.send(with(request)).await;
            response.assert_problem(401, "unauthorized");
            assert!(response.header("www-authenticate").unwrap_or_default().starts_with("Bearer"), "{header:?}");
        }
    }
    assert_eq!(app.get(&path).await.json(), program);
    assert_eq!(count_rows(&app, "programs"), 1);
}

#[actix_web::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = TestApp::new().await;
    let secret = rush_api::domain::tokens::generate().expect("a token");
    let stored = secret.clone();
    app.state
        .db
        .write(move |conn, now| {
            rush_api::domain::tokens::create(
                conn,
                "integration",
                &stored,
                &[rush_api::domain::tokens::Scope::Content],
                now,
            )
        })
        .await
        .expect("stored");
    let post = || {
        TestRequest::post()
            .uri("/api/v1/programs")
            .insert_header(("Authorization", format!("bearer {secret}")))
            .set_json(valid_program())
    };
    app.send(post()).await.assert_status(201);
    app.state.db.write(|conn, _| rush_api::domain::tokens::revoke(conn, "integration")).await.expect("revoked");
    app.send(post()).await.assert_problem(401, "unauthorized");
    assert_eq!(count_rows(&app, "programs"), 1);
}

#[actix_web::test]
async fn request_ids_are_echoed_only_when_safe() {
    let app = TestApp::new().await;
    let response =
        app.send(TestRequest::get().uri("/api/v1/programs").insert_header(("X-Request-Id", "abc-123_XYZ"))).await;
    assert_eq!(response.header("x-request-id").as_deref(), Some("abc-123_XYZ"));
    let problem = app.send(TestRequest::get().uri("/nowhere").insert_header(("X-Request-Id", "trace-42"))).await;
    assert_eq!(problem.assert_problem(404, "not_found")["request_id"], "trace-42");
    for unsafe_id in ["a".repeat(129), "has space".to_owned(), "tab\there".to_owned()] {
        let response =
            app.send(TestRequest::get().uri("/healthz").insert_header(("X-Request-Id", unsafe_id.clone()))).await;
        let id = response.header("x-request-id").unwrap_or_default();
        assert!(!id.is_empty() && id != unsafe_id, "{unsafe_id:?} was reflected");
    }
    let non_ascii = TestRequest::get().uri("/healthz").insert_header((
        "X-Request-Id",
        actix_web::http::header::HeaderValue::from_bytes(b"caf\xc3\xa9").expect("bytes"),
    ));
    let response = app.send(non_ascii).await;
    assert!(response.header("x-request-id").is_some_and(|id| id.is_ascii() && !id.contains("caf")));
    let a = app.get("/healthz").await.header("x-request-id");
    let b = app.get("/healthz").await.header("x-request-id");
    assert_ne!(a, b, "fresh ids differ");
}

#[actix_web::test]
async fn cors_allows_configured_origins_with_the_contract_headers() {
    let app = TestApp::with_cors(CorsOrigins::List(vec!["https://www.rush.edu".to_owned()])).await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let etag = app.get(&path).await.header("etag").unwrap_or_default();
    let from_rush = |request: TestRequest| request.insert_header(("Origin", "https://www.rush.edu"));

    for response in [
        app.send(from_rush(TestRequest::get().uri(&path))).await,
        app.send(from_rush(TestRequest::get().uri(&path).insert_header(("If-None-Match", etag.clone())))).await,
        app.send(from_rush(TestRequest::get().uri("/api/v1/programs/999"))).await,
        app.send(from_rush(TestRequest::post().uri("/api/v1/programs").set_json(valid_program()))).await,
    ] {
        assert_eq!(
            response.header("access-control-allow-origin").as_deref(),
            Some("https://www.rush.edu"),
            "{}",
            response.status
        );
        let exposed = response.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
        for header in ["etag", "link", "location", "x-request-id"] {
            assert!(exposed.contains(header), "{header} not exposed on {}: {exposed}", response.status);
        }
        assert!(response.header("vary").unwrap_or_default().contains("Origin"));
    }

    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri(&path)
        .insert_header(("Origin", "https://www.rush.edu"))
        .insert_header(("Access-Control-Request-Method", "PATCH"))
        .insert_header((
            "Access-Control-Request-Headers",
            "authorization, content-type, if-match, if-none-match, x-request-id",
        ));
    let response = app.send(preflight).await;
    assert!(response.status == 200 || response.status == 204, "{}", response.status);
    let allowed = response.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for header in ["authorization", "content-type", "if-match", "if-none-match", "x-request-id"] {
        assert!(allowed.contains(header), "{header} not allowed: {allowed}");
    }
    assert!(!allowed.contains('*'));
    assert!(response.header("access-control-allow-methods").unwrap_or_default().contains("PATCH"));

    let elsewhere = app.send(TestRequest::get().uri(&path).insert_header(("Origin", "https://evil.example"))).await;
    elsewhere.assert_status(200);
    assert_eq!(elsewhere.header("access-control-allow-origin"), None);
}

#[actix_web::test]
async fn no_configured_origins_means_no_cross_origin_access() {
    let app = TestApp::new().await;
    let response =
        app.send(TestRequest::get().uri("/api/v1/programs").insert_header(("Origin", "https://www.rush.edu"))).await;
    response.assert_status(200);
    assert_eq!(response.header("access-control-allow-origin"), None);
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let health = app.get("/healthz").await;
    health.assert_status(200);
    assert_eq!(health.json(), json!({"status": "ok"}));
    app.get("/readyz").await.assert_status(200);

    if crate::support::on_postgres() {
        // What follows holds SQLite's one write lock; PostgreSQL has no such lock to hold.
        return;
    }
    // Another process holding the write lock makes the database unusable for writes.
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let mut locker = diesel::SqliteConnection::establish(&app.db_path).expect("open");
    locker.batch_execute("BEGIN EXCLUSIVE").expect("lock");
    // A result at most a second old answers: probes cannot queue on the write lock.
    let started = std::time::Instant::now();
    app.get("/readyz").await.assert_status(200);
    assert!(started.elapsed() < std::time::Duration::from_millis(500), "answered from the last check");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let started = std::time::Instant::now();
    app.get("/readyz").await.assert_problem(503, "not_ready");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    app.get("/healthz").await.assert_status(200);
    locker.batch_execute("ROLLBACK").expect("unlock");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1_100)).await;
    app.get("/readyz").await.assert_status(200);
    app.get("/readyz?verbose=1").await.assert_invalid(&["verbose"]);
    app.get("/healthz?verbose=1").await.assert_invalid(&["verbose"]);
}

#[actix_web::test]
async fn docs_are_served_from_the_binary_without_other_hosts() {
    let app = TestApp::new().await;
    let bare = app.get("/docs").await;
    bare.assert_status(200);
    assert!(bare.text().contains("<base href=\"/docs/\">"), "{}", bare.text());
    let index = app.get("/docs/").await;
    index.assert_status(200);
    let html = index.text();
    assert!(html.contains("swagger"), "{html}");
    let initializer = app.get("/docs/swagger-initializer.js").await;
    initializer.assert_status(200);
    let script = initializer.text();
    assert!(script.contains("/openapi.json"), "{script}");
    assert!(script.contains("\"validatorUrl\": \"none\""), "{script}");
    for page in [&html, &script] {
        for scheme in ["http://", "https://", "//cdn", "//unpkg"] {
            assert!(
                !page.contains(&format!("src=\"{scheme}")) && !page.contains(&format!("href=\"{scheme}")),
                "{scheme} in {page}"
            );
        }
        assert!(!page.contains("validator.swagger.io"));
    }
    let spec = app.get("/openapi.json").await;
    spec.assert_status(200);
    assert_eq!(spec.json()["servers"][0]["url"], "/");
}

#[actix_web::test]
async fn operations_without_query_parameters_refuse_any() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    app.get(&format!("{path}?fields=name")).await.assert_invalid(&["fields"]);
    app.post("/api/v1/programs?dry_run=true", &valid_program()).await.assert_invalid(&["dry_run"]);
    app.patch(&format!("{path}?x=1"), &json!({"name": "Changed"})).await.assert_invalid(&["x"]);
    app.delete(&format!("{path}?force=true")).await.assert_invalid(&["force"]);
    assert_eq!(app.get(&path).await.json(), program);
    assert_eq!(count_rows(&app, "programs"), 1);
}

#[actix_web::test]
async fn a_patch_body_is_judged_only_after_existence_and_preconditions() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let malformed =
        |uri: &str| TestRequest::patch().uri(uri).insert_header(("Content-Type", "application/json")).set_payload("{");
    app.send(app.authorized(malformed("/api/v1/programs/999"))).await.assert_problem(404, "not_found");
    app.send(app.authorized(malformed(&path).insert_header(("If-Match", "\"stale\""))))
        .await
        .assert_problem(412, "precondition_failed");
    app.send(app.authorized(malformed(&path))).await.assert_problem(400, "malformed_json");
    let wrong_type = TestRequest::patch()
        .uri("/api/v1/programs/999")
        .insert_header(("Content-Type", "text/plain"))
        .set_payload("{}");
    app.send(app.authorized(wrong_type)).await.assert_problem(404, "not_found");
    let wrong_type = TestRequest::patch().uri(&path).insert_header(("Content-Type", "text/plain")).set_payload("{}");
    app.send(app.authorized(wrong_type)).await.assert_problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn a_busy_database_is_a_503_with_retry_after_and_nothing_changes() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    if crate::support::on_postgres() {
        // SQLite's one write lock, held by another process; PostgreSQL has no such lock.
        return;
    }
    let app = TestApp::new().await;
    let mut locker = diesel::SqliteConnection::establish(&app.db_path).expect("open");
    locker.batch_execute("BEGIN EXCLUSIVE").expect("lock");
    let response = app.post("/api/v1/programs", &valid_program()).await;
    response.assert_problem(503, "not_ready");
    assert_eq!(response.header("retry-after").as_deref(), Some("1"));
    locker.batch_execute("ROLLBACK").expect("unlock");
    assert_eq!(count_rows(&app, "programs"), 0);
    app.post("/api/v1/programs", &valid_program()).await.assert_status(201);
}

#[actix_web::test]
async fn every_problem_type_is_a_page_that_explains_it() {
    let app = TestApp::new().await;
    let catalogue = app.get("/problems").await;
    catalogue.assert_status(200);
    assert!(catalogue.header("content-type").unwrap_or_default().starts_with("text/html"));
    for &code in rush_api::base::error::ProblemCode::ALL {
        let page = app.get(&code.type_uri()).await;
        page.assert_status(200);
        assert!(
            page.text().contains(code.title()) && page.text().contains(&code.status().as_u16().to_string()),
            "{}",
            page.text()
        );
        assert!(catalogue.text().contains(&code.type_uri()));
    }
    app.get("/problems/teapot").await.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn validation_errors_point_at_body_fields_and_name_query_parameters() {
    let app = TestApp::new().await;
    let problem = app.post("/api/v1/programs", &json!({"name": "", "a/b~c": 1, "program_type": "residency", "specialty": "x", "campus": "rush_oak_park_hospital", "duration_years": 2})).await.assert_invalid(&["name", "a/b~c"]);
    let errors = problem["errors"].as_array().cloned().unwrap_or_default();
    let pointer = |field: &str| errors.iter().find(|e| e["field"] == field).map(|e| e["pointer"].clone());
    assert_eq!(pointer("name"), Some(json!("/name")));
    assert_eq!(pointer("a/b~c"), Some(json!("/a~1b~0c")));
    assert!(errors.iter().all(|e| e.get("parameter").is_none()));
    let problem = app.post("/api/v1/programs", &json!([1])).await.assert_invalid(&["body"]);
    assert_eq!(problem["errors"][0]["pointer"], "");
    let problem = app.get("/api/v1/events?limit=0&colour=red").await.assert_invalid(&["limit", "colour"]);
    for error in problem["errors"].as_array().into_iter().flatten() {
        assert_eq!(error["parameter"], error["field"]);
        assert!(error.get("pointer").is_none());
    }
}
