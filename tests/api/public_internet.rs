//! Facing the public internet: bounded work per request, rate limits, browsers (CORS derived from
//! the spec), compression with an ETag per coding, and the headers every response carries.

use std::collections::BTreeSet;
use std::io::Read;

use actix_web::test::TestRequest;
use rush_api::http::rate_limit::{RateLimitConfig, parse_trusted_proxies};
use serde_json::{Value, json};

use crate::support::{TestApp, spec};

#[actix_web::test]
async fn a_request_target_over_8_kib_is_414_and_one_under_is_served() {
    let app = TestApp::new().await;
    let path = "/api/v1/programs?q=";
    let under = format!("{path}{}", "a".repeat(8 * 1024 - path.len()));
    // Within the limit the query is judged on its own terms (q is at most 200 characters).
    app.get(&under).await.assert_invalid(&["q"]);
    let over = format!("{under}a");
    let problem = app.get(&over).await.assert_problem(414, "uri_too_long");
    assert!(problem["detail"].as_str().unwrap_or_default().contains("8192"), "{problem}");
}

#[actix_web::test]
async fn a_flood_of_unknown_parameters_gets_a_small_answer_naming_fifty() {
    let app = TestApp::new().await;
    let query: Vec<String> = (0..1_200).map(|n| format!("p{n}=")).collect();
    let started = std::time::Instant::now();
    let response = app.get(&format!("/api/v1/events?{}", query.join("&"))).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
    let problem = response.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(50));
    assert!(problem["detail"].as_str().unwrap_or_default().starts_with("1200 fields are invalid"), "{problem}");
    assert!(response.body.len() < 16 * 1024, "{} bytes", response.body.len());
}

#[actix_web::test]
async fn a_body_of_thousands_of_unknown_members_gets_a_small_answer_and_stores_nothing() {
    let app = TestApp::new().await;
    let mut body = crate::support::valid_program();
    for n in 0..80_000 {
        body[format!("m{n}")] = json!(1);
    }
    let response = app.post("/api/v1/programs", &body).await;
    let problem = response.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(50));
    assert!(problem["detail"].as_str().unwrap_or_default().starts_with("80000 fields are invalid"), "{problem}");
    assert!(response.body.len() < 16 * 1024, "{} bytes", response.body.len());
    assert_eq!(app.all("programs").await.len(), 0);
}

#[actix_web::test]
async fn a_body_on_get_head_or_delete_is_400_and_deletes_nothing() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    for request in [
        TestRequest::get().uri(&path).insert_header(("Content-Length", "2")).set_payload("{}"),
        TestRequest::get().uri("/api/v1/programs").insert_header(("Transfer-Encoding", "chunked")),
        app.authorized(TestRequest::delete().uri(&path).insert_header(("Content-Length", "2")).set_payload("{}")),
    ] {
        // That the connection is closed shows on the wire: server::a_get_with_a_trickled_body_….
        app.send(request).await.assert_problem(400, "body_not_allowed");
    }
    app.get(&path).await.assert_status(200);
    // An empty body declared as such is no body.
    app.send(TestRequest::get().uri(&path).insert_header(("Content-Length", "0"))).await.assert_status(200);
}

fn from(ip: &str, request: TestRequest) -> TestRequest {
    request.peer_addr(format!("{ip}:40000").parse().expect("an address"))
}

fn limits(per_ip: u32, per_token: u32, trusted: &str) -> RateLimitConfig {
    RateLimitConfig {
        per_ip_per_minute: per_ip,
        per_token_per_minute: per_token,
        trusted_proxies: parse_trusted_proxies(trusted).expect("proxies"),
        submissions_per_hour: 0,
    }
}

#[actix_web::test]
async fn each_client_ip_has_a_bucket_and_a_429_says_when_to_retry() {
    let app = TestApp::with_rate_limits(limits(3, 0, "")).await;
    for remaining in [2, 1, 0] {
        let response = app.send(from("203.0.113.7", TestRequest::get().uri("/api/v1/programs"))).await;
        response.assert_status(200);
        assert_eq!(response.header("ratelimit-policy").as_deref(), Some("\"default\";q=3;w=60"));
        let field = response.header("ratelimit").unwrap_or_default();
        assert!(field.starts_with(&format!("\"default\";r={remaining};t=")), "{field}");
    }
    let refused = app.send(from("203.0.113.7", TestRequest::get().uri("/api/v1/events"))).await;
    let problem = refused.assert_problem(429, "rate_limited");
    let retry: u64 = refused.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(refused.header("ratelimit"), Some(format!("\"default\";r=0;t={retry}")));
    assert!(problem["detail"].as_str().unwrap_or_default().contains("retry in"), "{problem}");
    // Another address has its own bucket; the health probes are never limited.
    app.send(from("203.0.113.8", TestRequest::get().uri("/api/v1/programs"))).await.assert_status(200);
    for _ in 0..5 {
        let health = app.send(from("203.0.113.7", TestRequest::get().uri("/healthz"))).await;
        health.assert_status(200);
        assert!(health.header("ratelimit").is_none());
        app.send(from("203.0.113.7", TestRequest::get().uri("/readyz"))).await.assert_status(200);
    }
}

#[actix_web::test]
async fn a_valid_token_has_its_own_bucket_and_an_invalid_one_counts_against_the_address() {
    let app = TestApp::with_rate_limits(limits(1, 2, "")).await;
    let with_token = |token: &str| {
        from("198.51.100.4", TestRequest::get().uri("/api/v1/programs"))
            .insert_header(("Authorization", format!("Bearer {token}")))
    };
    app.send(from("198.51.100.4", TestRequest::get().uri("/api/v1/programs"))).await.assert_status(200);
    // The address's bucket is empty, the token's is not.
    let response = app.send(with_token(&app.token)).await;
    response.assert_status(200);
    assert_eq!(response.header("ratelimit-policy").as_deref(), Some("\"default\";q=2;w=60"));
    app.send(with_token(&app.token)).await.assert_status(200);
    app.send(with_token(&app.token)).await.assert_problem(429, "rate_limited");
    app.send(with_token("rush_not-a-token")).await.assert_problem(429, "rate_limited");
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy() {
    let app = TestApp::with_rate_limits(limits(1, 0, "10.0.0.0/8")).await;
    let via_proxy = |client: &str| {
        from("10.1.2.3", TestRequest::get().uri("/api/v1/programs"))
            .insert_header(("X-Forwarded-For", format!("{client}, 10.9.9.9")))
    };
    app.send(via_proxy("192.0.2.10")).await.assert_status(200);
    app.send(via_proxy("192.0.2.11")).await.assert_status(200);
    app.send(via_proxy("192.0.2.10")).await.assert_problem(429, "rate_limited");
    // An untrusted peer cannot choose its bucket with the header.
    let forged = |client: &str| {
        from("192.0.2.99", TestRequest::get().uri("/api/v1/programs"))
            .insert_header(("X-Forwarded-For", client.to_owned()))
    };
    app.send(forged("192.0.2.50")).await.assert_status(200);
    app.send(forged("192.0.2.51")).await.assert_problem(429, "rate_limited");
}

/// The header names the spec declares: request (header parameters) and response headers.
fn declared_in_spec() -> (BTreeSet<String>, BTreeSet<String>) {
    let spec = spec();
    let mut request = BTreeSet::new();
    let mut response = BTreeSet::new();
    let mut responses: Vec<&Value> = Vec::new();
    for item in spec["paths"].as_object().into_iter().flat_map(|paths| paths.values()) {
        for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "header" {
                    request.insert(parameter["name"].as_str().unwrap_or_default().to_ascii_lowercase());
                }
            }
            responses.extend(operation["responses"].as_object().into_iter().flat_map(|r| r.values()));
        }
    }
    responses.extend(spec["components"]["responses"].as_object().into_iter().flat_map(|r| r.values()));
    for documented in responses {
        let documented = crate::support::resolve(spec, documented);
        response.extend(
            documented["headers"].as_object().into_iter().flat_map(|h| h.keys()).map(|k| k.to_ascii_lowercase()),
        );
    }
    (request, response)
}

fn listed(value: Option<String>) -> BTreeSet<String> {
    value.unwrap_or_default().split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()
}

#[actix_web::test]
async fn cors_allows_every_request_header_and_exposes_every_response_header_the_spec_declares() {
    let (request_headers, response_headers) = declared_in_spec();
    for header in ["idempotency-key", "if-match", "if-none-match"] {
        assert!(request_headers.contains(header), "{header} is not declared: {request_headers:?}");
    }
    for header in [
        "etag",
        "link",
        "location",
        "x-request-id",
        "idempotent-replayed",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
    ] {
        assert!(response_headers.contains(header), "{header} is not declared: {response_headers:?}");
    }
    let origin = "https://app.example";
    let app = TestApp::with_cors(rush_api::http::CorsOrigins::List(vec![origin.to_owned()])).await;
    let mut asked: Vec<String> = request_headers.iter().cloned().collect();
    // Stated in the spec as a security scheme, media types and a response header clients echo.
    asked.extend(["authorization".to_owned(), "content-type".to_owned(), "x-request-id".to_owned()]);
    let preflight = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/events")
                .insert_header(("Origin", origin))
                .insert_header(("Access-Control-Request-Method", "POST"))
                .insert_header(("Access-Control-Request-Headers", asked.join(","))),
        )
        .await;
    preflight.assert_status(200);
    let allowed = listed(preflight.header("access-control-allow-headers"));
    for header in &asked {
        assert!(allowed.contains(header), "{header} not allowed: {allowed:?}");
    }
    let response = app.send(TestRequest::get().uri("/api/v1/events").insert_header(("Origin", origin))).await;
    let exposed = listed(response.header("access-control-expose-headers"));
    assert_eq!(exposed, response_headers, "exposed headers differ from the spec's");
}

#[actix_web::test]
async fn every_response_says_nosniff_and_html_pages_forbid_framing_and_foreign_scripts() {
    let app = TestApp::new().await;
    for path in
        ["/api/v1/programs", "/api/v1/programs/1", "/nowhere", "/healthz", "/openapi.json", "/docs/", "/problems"]
    {
        let response = app.get(path).await;
        assert_eq!(response.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    for path in ["/docs", "/docs/", "/docs/index.html", "/problems", "/problems/not_found"] {
        let response = app.get(path).await;
        response.assert_status(200);
        let policy = response.header("content-security-policy").unwrap_or_default();
        for directive in ["frame-ancestors 'none'", "script-src 'self'", "style-src 'self'", "default-src 'none'"] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
    }
    let initializer = app.get("/docs/swagger-initializer.js").await;
    initializer.assert_status(200);
    assert!(
        initializer.text().contains("\"persistAuthorization\": false")
            || initializer.text().contains("\"persistAuthorization\":false"),
        "{}",
        initializer.text()
    );
}

#[actix_web::test]
async fn the_document_and_the_docs_assets_have_strong_etags_and_answer_304() {
    let app = TestApp::new().await;
    for path in ["/openapi.json", "/docs/", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let response = app.get(path).await;
        response.assert_status(200);
        let etag = response.header("etag").expect("an ETag");
        assert!(etag.starts_with('"'), "strong: {etag}");
        let again = app.send(TestRequest::get().uri(path).insert_header(("If-None-Match", etag.clone()))).await;
        again.assert_status(304);
        assert!(again.body.is_empty());
    }
    app.get("/docs/nothing-here.js").await.assert_problem(404, "not_found");
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut decoded).expect("gunzip");
        }
        "br" => {
            brotli::Decompressor::new(body, 4096).read_to_end(&mut decoded).expect("brotli");
        }
        other => panic!("unexpected coding {other}"),
    }
    decoded
}

#[actix_web::test]
async fn large_responses_are_compressed_with_an_etag_per_coding_each_answering_304() {
    let app = TestApp::seeded().await;
    let path = "/api/v1/programs?limit=20";
    let identity = app.get(path).await;
    identity.assert_status(200);
    assert!(identity.body.len() >= 1024);
    assert!(identity.header("content-encoding").is_none());
    let identity_tag = identity.header("etag").expect("an ETag");
    assert!(identity.header_list("vary").contains(&"Accept-Encoding".to_owned()));

    let mut tags = BTreeSet::from([identity_tag.clone()]);
    for (accept, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0.1, gzip;q=0.9", "gzip")] {
        let ask = || TestRequest::get().uri(path).insert_header(("Accept-Encoding", accept));
        let response = app.send(ask()).await;
        response.assert_status(200);
        assert_eq!(response.header("content-encoding").as_deref(), Some(coding), "{accept}");
        assert!(response.header_list("vary").contains(&"Accept-Encoding".to_owned()));
        assert!(response.body.len() < identity.body.len() / 2, "{accept}: {} bytes", response.body.len());
        assert_eq!(decode(coding, &response.body), identity.body.to_vec(), "{accept}");
        let tag = response.header("etag").expect("an ETag");
        assert_ne!(tag, identity_tag);
        tags.insert(tag.clone());
        let revalidated = app.send(ask().insert_header(("If-None-Match", tag.clone()))).await;
        revalidated.assert_status(304);
        assert_eq!(revalidated.header("etag"), Some(tag));
    }
    assert_eq!(tags.len(), 3, "identity, br and gzip each have their own tag: {tags:?}");
    app.send(TestRequest::get().uri(path).insert_header(("If-None-Match", identity_tag))).await.assert_status(304);

    // Small answers go out as they are.
    let small = app.send(TestRequest::get().uri("/healthz").insert_header(("Accept-Encoding", "br"))).await;
    assert!(small.header("content-encoding").is_none());
}

#[actix_web::test]
async fn a_write_may_use_the_etag_of_a_compressed_read() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({"description": "x".repeat(2_000)})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let read = app.send(TestRequest::get().uri(&path).insert_header(("Accept-Encoding", "br"))).await;
    let tag = read.header("etag").expect("an ETag");
    assert!(tag.ends_with("-br\""), "{tag}");
    let patch = app.authorized(
        TestRequest::patch().uri(&path).insert_header(("If-Match", tag)).set_json(json!({"duration_years": 4})),
    );
    app.send(patch).await.assert_status(200);
}

#[actix_web::test]
async fn generated_request_ids_are_random() {
    let app = TestApp::new().await;
    let mut ids = BTreeSet::new();
    let mut prefixes = BTreeSet::new();
    for _ in 0..20 {
        let id = app.get("/healthz").await.header("x-request-id").expect("an id");
        assert_eq!(id.len(), 24, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        prefixes.insert(id[..8].to_owned());
        ids.insert(id);
    }
    // A counter would share its prefix and differ only at the end.
    assert_eq!(ids.len(), 20);
    assert!(prefixes.len() > 15, "{prefixes:?}");
}
