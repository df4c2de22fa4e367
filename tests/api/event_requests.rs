//! Community event requests: the public form, the requester's status link, staff review, token
//! scopes, and personal data kept out of everything public.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use rush_api::domain::tokens::Scope;
use rush_api::http::rate_limit::RateLimitConfig;
use serde_json::{Value, json};

use crate::support::{Response, TestApp, count_rows, merged, spec};

const PRIVATE: &str = "private, no-store";

/// A valid submission whose contact details are unique to `n`, so that a test can look for them.
fn submission(n: u32) -> Value {
    json!({
        "organization_name": "Near West Side Community Council",
        "contact_name": format!("Jordan Rivera {n}"),
        "contact_email": format!("jordan.rivera.{n}@example.org"),
        "contact_phone": format!("+1 (312) 555-{n:04}"),
        "event_title": format!("West Side Health Fair {n}"),
        "event_description": "A Saturday health fair at the community center.",
        "event_type": "health_fair",
        "requested_support": ["health_screenings", "information_table"],
        "starts_at": "2030-06-15T10:00:00-05:00",
        "ends_at": "2030-06-15T14:00:00-05:00",
        "location_name": "Malcolm X College",
        "address": "1900 W Jackson Blvd, Chicago, IL 60612",
        "expected_attendance": 300
    })
}

async fn submit(app: &TestApp, body: &Value) -> Response {
    app.send(TestRequest::post().uri("/api/v1/event-requests").set_json(body)).await
}

async fn submitted(app: &TestApp, n: u32) -> (Value, String) {
    let response = submit(app, &submission(n)).await;
    response.assert_status(201);
    let body = response.json();
    let status_url = body["status_url"].as_str().expect("status_url").to_owned();
    (body, status_url)
}

async fn as_token(app: &TestApp, request: TestRequest, token: &str) -> Response {
    app.send(request.insert_header(("Authorization", format!("Bearer {token}")))).await
}

fn merge_patch(path: &str, body: &Value) -> TestRequest {
    TestRequest::patch()
        .uri(path)
        .insert_header(("Content-Type", "application/merge-patch+json"))
        .set_payload(body.to_string())
}

#[actix_web::test]
async fn anyone_submits_and_gets_a_private_status_link_shown_once() {
    let app = TestApp::new().await;
    let response = submit(&app, &submission(1)).await;
    response.assert_status(201);
    assert_eq!(response.header("cache-control").as_deref(), Some(PRIVATE));
    let body = response.json();
    let status_url = body["status_url"].as_str().expect("status_url");
    assert_eq!(response.header("location").as_deref(), Some(status_url));
    let secret = status_url.strip_prefix("/api/v1/event-requests/status/").expect("the status path");
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    let reference = body["reference"].as_str().unwrap_or_default();
    assert!(reference.len() == 11 && reference.starts_with("ER-"), "{reference}");
    assert!(reference[3..].bytes().all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b)), "{reference}");
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["contact_email"], "jordan.rivera.1@example.org");
    assert_eq!(body["requested_support"], json!(["health_screenings", "information_table"]));
    assert_eq!(body["starts_at"], "2030-06-15T15:00:00Z");
    assert_eq!(body["event_id"], Value::Null);

    // The requester reads it back through the link, privately, with an ETag and 304s.
    let read = app.get(status_url).await;
    read.assert_status(200);
    assert_eq!(read.header("cache-control").as_deref(), Some(PRIVATE));
    let mut expected = body.clone();
    expected.as_object_mut().map(|o| o.remove("status_url"));
    assert_eq!(read.json(), expected, "the link shows the request, and never the link again");
    let etag = read.header("etag").expect("ETag");
    let again = app.send(TestRequest::get().uri(status_url).insert_header(("If-None-Match", etag.clone()))).await;
    again.assert_status(304);
    assert_eq!(again.header("cache-control").as_deref(), Some(PRIVATE));

    // Only the secret's hash is stored.
    let stored = crate::support::stored_bytes(&app.db_path);
    assert!(!stored.windows(64).any(|w| w == secret.as_bytes()), "the secret is stored in the clear");
}

#[actix_web::test]
async fn an_unknown_or_malformed_secret_is_the_same_404() {
    let app = TestApp::new().await;
    let (_, status_url) = submitted(&app, 1).await;
    let real = status_url.rsplit('/').next().unwrap_or_default().to_owned();
    let mut flipped = real.clone().into_bytes();
    flipped[0] = if flipped[0] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap_or_default();
    let mut details = Vec::new();
    for secret in [flipped.as_str(), "0123", &real.to_uppercase(), &format!("{real}0"), "%00"] {
        let path = format!("/api/v1/event-requests/status/{secret}");
        let problem = app.get(&path).await.assert_problem(404, "not_found");
        details.push(problem["detail"].clone());
        let withdraw = app.send(TestRequest::post().uri(&format!("{path}/withdraw"))).await;
        withdraw.assert_problem(404, "not_found");
    }
    details.dedup();
    assert_eq!(details.len(), 1, "one answer for every kind of bad secret: {details:?}");
    assert_eq!(app.get(&status_url).await.json()["status"], "submitted", "nothing changed");
}

#[actix_web::test]
async fn every_field_rule_is_checked_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec![
                "organization_name",
                "contact_name",
                "contact_email",
                "event_title",
                "event_type",
                "requested_support",
                "starts_at",
            ],
        ),
        (json!({"organization_name": "", "contact_name": "x".repeat(201)}), vec!["organization_name", "contact_name"]),
        (json!({"contact_email": "not an email", "contact_phone": "call me"}), vec!["contact_email", "contact_phone"]),
        (json!({"contact_phone": "1".repeat(41)}), vec!["contact_phone"]),
        (
            json!({"event_title": "Fair\u{202E}", "event_description": "x".repeat(5001)}),
            vec!["event_title", "event_description"],
        ),
        (json!({"event_type": "party"}), vec!["event_type"]),
        (json!({"starts_at": "2020-01-01T10:00:00Z", "ends_at": null}), vec!["starts_at"]),
        (json!({"starts_at": "2030-06-15T10:00:00"}), vec!["starts_at"]),
        (json!({"ends_at": "2030-06-15T09:00:00-05:00"}), vec!["ends_at"]),
        (json!({"location_name": "x".repeat(201), "address": "x".repeat(301)}), vec!["location_name", "address"]),
        (json!({"expected_attendance": 0}), vec!["expected_attendance"]),
        (json!({"expected_attendance": 100_001}), vec!["expected_attendance"]),
        (json!({"requested_support": []}), vec!["requested_support"]),
        (json!({"requested_support": "speaker"}), vec!["requested_support"]),
        (json!({"status": "accepted", "reference": "ER-AAAAAAAA", "id": 5}), vec!["status", "reference", "id"]),
    ];
    for (overrides, fields) in cases {
        let body = match overrides.as_object() {
            Some(o) if o.is_empty() => json!({}),
            _ => merged(submission(1), overrides.clone()),
        };
        let response = submit(&app, &body).await;
        response.assert_invalid(&fields);
        let text = response.text();
        assert!(!text.contains("jordan.rivera") && !text.contains("555-0001"), "no personal data: {text}");
    }
    // Items of requested_support are named by their own JSON Pointers.
    let body = merged(submission(1), json!({"requested_support": ["speaker", "dancing", "speaker", 7]}));
    let problem = submit(&app, &body).await.assert_problem(422, "validation_failed");
    let pointers: Vec<&str> =
        problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["pointer"].as_str()).collect();
    assert_eq!(pointers, ["/requested_support/1", "/requested_support/2", "/requested_support/3"]);
    let all = merged(
        submission(1),
        json!({"requested_support": ["health_screenings", "health_education", "information_table", "speaker", "volunteers", "vaccinations", "sponsorship"]}),
    );
    assert_eq!(count_rows(&app, "event_requests"), 0);
    submit(&app, &all).await.assert_status(201);
    let phone = merged(submission(2), json!({"contact_phone": "+1 (312) 555-0100 ext. 4"}));
    submit(&app, &phone).await.assert_invalid(&["contact_phone"]);
    let phone = merged(submission(2), json!({"contact_phone": "+1 (312) 555.0100 - 4"}));
    submit(&app, &phone).await.assert_status(201);
}

#[actix_web::test]
async fn the_same_request_within_a_day_is_409_duplicate_request() {
    let app = TestApp::new().await;
    submitted(&app, 1).await;
    let again =
        merged(submission(1), json!({"contact_email": "JORDAN.RIVERA.1@example.org", "organization_name": "Other"}));
    let problem = submit(&app, &again).await.assert_problem(409, "duplicate_request");
    assert!(!problem.to_string().contains("jordan.rivera"), "{problem}");
    assert_eq!(count_rows(&app, "event_requests"), 1);
    // Another start or title is another request.
    submit(&app, &merged(submission(1), json!({"starts_at": "2030-06-16T10:00:00-05:00", "ends_at": null})))
        .await
        .assert_status(201);
    submit(&app, &merged(submission(1), json!({"event_title": "Another fair"}))).await.assert_status(201);
}

#[actix_web::test]
async fn each_client_ip_may_submit_a_few_an_hour() {
    let limits = RateLimitConfig { submissions_per_hour: 2, ..RateLimitConfig::off() };
    let app = TestApp::with_rate_limits(limits).await;
    let from = |ip: &str, body: &Value| {
        TestRequest::post()
            .uri("/api/v1/event-requests")
            .peer_addr(format!("{ip}:40000").parse().expect("an address"))
            .set_json(body)
    };
    for n in 1..=2 {
        let response = app.send(from("192.0.2.7", &submission(n))).await;
        response.assert_status(201);
        assert_eq!(response.header("ratelimit-policy").as_deref(), Some("\"submissions\";q=2;w=3600"));
    }
    // An invalid submission is not counted, and is answered as invalid.
    app.send(from("192.0.2.7", &json!({}))).await.assert_status(422);
    let refused = app.send(from("192.0.2.7", &submission(3))).await;
    refused.assert_problem(429, "rate_limited");
    let retry: u64 = refused.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=3600).contains(&retry), "{retry}");
    assert!(refused.header("ratelimit").is_some_and(|v| v.starts_with("\"submissions\";r=0;")));
    assert_eq!(count_rows(&app, "event_requests"), 2);
    app.send(from("192.0.2.8", &submission(3))).await.assert_status(201);
    // Kept in the database as a hash of the address, never the address itself.
    let stored = crate::support::stored_bytes(&app.db_path);
    assert!(!stored.windows(9).any(|w| w == b"192.0.2.7"), "the client address is stored");
    assert_eq!(count_rows(&app, "submission_allowances"), 2);
}

#[actix_web::test]
async fn an_idempotent_retry_gets_the_same_request_with_a_new_link() {
    let app = TestApp::new().await;
    let keyed = |body: &Value| {
        TestRequest::post().uri("/api/v1/event-requests").insert_header(("Idempotency-Key", "form-42")).set_json(body)
    };
    let first = app.send(keyed(&submission(1))).await;
    first.assert_status(201);
    let retry = app.send(keyed(&submission(1))).await;
    retry.assert_status(201);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    let (first, retry) = (first.json(), retry.json());
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(retry["reference"], first["reference"]);
    assert_ne!(retry["status_url"], first["status_url"], "a new link: none is stored");
    app.get(first["status_url"].as_str().unwrap_or_default()).await.assert_problem(404, "not_found");
    app.get(retry["status_url"].as_str().unwrap_or_default()).await.assert_status(200);
    assert_eq!(count_rows(&app, "event_requests"), 1);
    let other = app.send(keyed(&submission(2))).await;
    other.assert_problem(422, "idempotency_key_reused");
    // What is kept for retries holds neither the link nor personal data.
    let stored = crate::support::stored_bytes(&app.db_path);
    for secret in [&first["status_url"], &retry["status_url"]] {
        let secret = secret.as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().as_bytes().to_vec();
        assert!(!stored.windows(64).any(|w| w == secret.as_slice()));
    }
}

#[actix_web::test]
async fn the_requester_withdraws_only_while_it_is_open() {
    let app = TestApp::new().await;
    let (request, status_url) = submitted(&app, 1).await;
    let withdraw = format!("{status_url}/withdraw");
    let response = app.send(TestRequest::post().uri(&withdraw)).await;
    response.assert_status(200);
    assert_eq!(response.header("cache-control").as_deref(), Some(PRIVATE));
    assert_eq!(response.json()["status"], "withdrawn");
    app.send(TestRequest::post().uri(&withdraw)).await.assert_problem(409, "invalid_transition");
    // Staff cannot reopen a withdrawn request.
    let path = format!("/api/v1/event-requests/{}", request["id"]);
    app.send(app.authorized(merge_patch(&path, &json!({"status": "in_review"}))))
        .await
        .assert_problem(409, "invalid_transition");

    let (request, status_url) = submitted(&app, 2).await;
    let path = format!("/api/v1/event-requests/{}", request["id"]);
    app.send(
        app.authorized(merge_patch(&path, &json!({"status": "declined", "decision_note": "Fully booked that day."}))),
    )
    .await
    .assert_status(200);
    let problem = app.send(TestRequest::post().uri(&format!("{status_url}/withdraw"))).await;
    problem.assert_problem(409, "invalid_transition");
    let seen = app.get(&status_url).await.json();
    assert_eq!(
        (seen["status"].clone(), seen["decision_note"].clone()),
        (json!("declined"), json!("Fully booked that day."))
    );
}

#[actix_web::test]
async fn staff_moves_requests_along_the_workflow_and_nothing_else() {
    let app = TestApp::new().await;
    let statuses = ["submitted", "in_review", "accepted", "declined", "withdrawn"];
    let allowed = [
        ("submitted", "in_review"),
        ("submitted", "accepted"),
        ("submitted", "declined"),
        ("in_review", "accepted"),
        ("in_review", "declined"),
        ("declined", "in_review"),
    ];
    // Reach each starting status by allowed steps (withdrawn by the requester), then try each target.
    let mut n = 0;
    for from in statuses {
        for to in statuses {
            n += 1;
            let (request, status_url) = submitted(&app, n).await;
            let path = format!("/api/v1/event-requests/{}", request["id"]);
            let steps: &[&str] = match from {
                "submitted" => &[],
                "in_review" => &["in_review"],
                "accepted" => &["accepted"],
                "declined" => &["declined"],
                _ => &[],
            };
            for step in steps {
                app.send(app.authorized(merge_patch(&path, &json!({"status": step})))).await.assert_status(200);
            }
            if from == "withdrawn" {
                app.send(TestRequest::post().uri(&format!("{status_url}/withdraw"))).await.assert_status(200);
            }
            let before = app.send(app.authorized(TestRequest::get().uri(&path))).await.json();
            let response = app.send(app.authorized(merge_patch(&path, &json!({"status": to})))).await;
            if from == to || allowed.contains(&(from, to)) {
                response.assert_status(200);
                assert_eq!(response.json()["status"], to);
            } else {
                response.assert_problem(409, "invalid_transition");
                let after = app.send(app.authorized(TestRequest::get().uri(&path))).await.json();
                assert_eq!(after, before, "{from} -> {to} changed nothing");
            }
        }
    }
}

#[actix_web::test]
async fn staff_reads_lists_patches_with_if_match_and_erases() {
    let app = TestApp::new().await;
    let (first, _) = submitted(&app, 1).await;
    let (second, second_url) = submitted(&app, 2).await;
    let third = submit(&app, &merged(submission(3), json!({"event_type": "wellness", "organization_name": "Garfield Park Wellness Collective", "starts_at": "2031-01-10T09:00:00Z", "ends_at": null}))).await.json();

    let list = app.send(app.authorized(TestRequest::get().uri("/api/v1/event-requests"))).await;
    list.assert_status(200);
    assert_eq!(list.header("cache-control").as_deref(), Some(PRIVATE));
    let ids: Vec<Value> = list.json()["data"].as_array().into_iter().flatten().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, [third["id"].clone(), second["id"].clone(), first["id"].clone()], "newest first");
    assert_eq!(list.json()["data"][0]["contact_email"], "jordan.rivera.3@example.org", "staff see contact details");
    for (query, expected) in [
        ("event_type=wellness", vec![third["id"].clone()]),
        ("status=submitted&sort=created_at", vec![first["id"].clone(), second["id"].clone(), third["id"].clone()]),
        ("q=GARFIELD", vec![third["id"].clone()]),
        ("q=saturday&sort=-created_at&limit=1", vec![third["id"].clone()]),
        ("starts_after=2031-01-01T00:00:00Z", vec![third["id"].clone()]),
        (
            "starts_before=2031-01-01T00:00:00Z&sort=organization_name,created_at",
            vec![first["id"].clone(), second["id"].clone()],
        ),
        ("sort=-starts_at&limit=1", vec![third["id"].clone()]),
    ] {
        let page = app.send(app.authorized(TestRequest::get().uri(&format!("/api/v1/event-requests?{query}")))).await;
        page.assert_status(200);
        let got: Vec<Value> = page.json()["data"].as_array().into_iter().flatten().map(|r| r["id"].clone()).collect();
        assert_eq!(got, expected, "{query}");
    }
    app.send(app.authorized(TestRequest::get().uri("/api/v1/event-requests?status=open&sort=email")))
        .await
        .assert_invalid(&["status", "sort"]);

    let path = format!("/api/v1/event-requests/{}", second["id"]);
    let read = app.send(app.authorized(TestRequest::get().uri(&path))).await;
    read.assert_status(200);
    assert_eq!(read.header("cache-control").as_deref(), Some(PRIVATE));
    let etag = read.header("etag").expect("ETag");
    let stale =
        app.authorized(merge_patch(&path, &json!({"status": "in_review"})).insert_header(("If-Match", "\"stale\"")));
    app.send(stale).await.assert_problem(412, "precondition_failed");
    let fresh = app.authorized(
        merge_patch(&path, &json!({"status": "in_review", "decision_note": "Checking the date."}))
            .insert_header(("If-Match", etag)),
    );
    let updated = app.send(fresh).await;
    updated.assert_status(200);
    assert_eq!(updated.json()["status"], "in_review");
    assert_eq!(app.get(&second_url).await.json()["decision_note"], "Checking the date.", "the requester sees the note");
    // Only status, decision_note and event_id are staff's to change; event_id must exist.
    app.send(app.authorized(merge_patch(&path, &json!({"contact_email": "x@example.org"}))))
        .await
        .assert_invalid(&["contact_email"]);
    app.send(app.authorized(merge_patch(&path, &json!({"event_id": 99})))).await.assert_invalid(&["event_id"]);
    let event = app.create_event(json!({})).await;
    let linked = app.send(app.authorized(merge_patch(&path, &json!({"event_id": event["id"]})))).await;
    assert_eq!(linked.json()["event_id"], event["id"]);

    // Erasure removes the request entirely, and leaves no tombstone.
    app.delete(&path).await.assert_status(204);
    app.send(app.authorized(TestRequest::get().uri(&path))).await.assert_problem(404, "not_found");
    app.get(&second_url).await.assert_problem(404, "not_found");
    assert_eq!(app.get("/api/v1/deletions").await.json()["meta"]["total"], 0);
    assert_eq!(count_rows(&app, "event_requests"), 2);
}

#[actix_web::test]
async fn accepting_into_an_event_is_one_step_and_happens_once() {
    let app = TestApp::new().await;
    let (request, status_url) = submitted(&app, 1).await;
    let path = format!("/api/v1/event-requests/{}/event", request["id"]);
    let created = app.post(&path, &json!({"capacity": 250, "registration_url": "https://example.org/fair"})).await;
    created.assert_status(201);
    let event = created.json();
    assert_eq!(created.header("location"), Some(format!("/api/v1/events/{}", event["id"])));
    assert_eq!(event["title"], "West Side Health Fair 1");
    assert_eq!(event["status"], "scheduled");
    assert_eq!(event["starts_at"], request["starts_at"]);
    assert_eq!(event["ends_at"], request["ends_at"]);
    assert_eq!(event["location_name"], "Malcolm X College");
    assert_eq!(event["capacity"], 250, "the body overrides event fields");
    let seen = app.get(&status_url).await.json();
    assert_eq!((seen["status"].clone(), seen["event_id"].clone()), (json!("accepted"), event["id"].clone()));
    app.post(&path, &json!({})).await.assert_problem(409, "event_already_created");
    // Without a body at all, a request is taken as it is.
    let (bare, _) = submitted(&app, 3).await;
    let bare_path = format!("/api/v1/event-requests/{}/event", bare["id"]);
    let created = app.send(app.authorized(TestRequest::post().uri(&bare_path))).await;
    created.assert_status(201);
    assert_eq!(created.json()["title"], "West Side Health Fair 3");
    let wrong_type = TestRequest::post().uri(&bare_path).insert_header(("Content-Type", "text/plain")).set_payload("x");
    app.send(app.authorized(wrong_type)).await.assert_problem(415, "unsupported_media_type");
    assert_eq!(count_rows(&app, "events"), 2);
    // An invalid override creates nothing and changes nothing.
    let (other, other_url) = submitted(&app, 2).await;
    let other_path = format!("/api/v1/event-requests/{}/event", other["id"]);
    app.post(&other_path, &json!({"capacity": 0})).await.assert_invalid(&["capacity"]);
    assert_eq!(app.get(&other_url).await.json()["status"], "submitted");
    assert_eq!(count_rows(&app, "events"), 2);
    // The public sees the event, and nothing of the request's contact.
    for public in [
        format!("/api/v1/events/{}", event["id"]),
        format!("/api/v1/events/{}.jsonld", event["id"]),
        "/api/v1/events.ics".to_owned(),
    ] {
        let text = app.get(&public).await.text();
        for private in ["jordan.rivera.1@example.org", "Jordan Rivera 1", "555-0001"] {
            assert!(!text.contains(private), "{public} shows {private}");
        }
    }
}

#[actix_web::test]
async fn two_staff_accepting_at_once_create_exactly_one_event() {
    let app = TestApp::new().await;
    for round in 0..5u32 {
        let (request, _) = submitted(&app, 100 + round).await;
        let path = format!("/api/v1/event-requests/{}/event", request["id"]);
        let (one, two) = futures_util::future::join(app.post(&path, &json!({})), app.post(&path, &json!({}))).await;
        let mut statuses = [one.status, two.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
    assert_eq!(count_rows(&app, "events"), 5);
}

/// Every operation that needs a token, from the spec, with a path that names a real request.
fn secured_operations(id: &Value) -> Vec<(Method, String, Vec<String>)> {
    let mut found = Vec::new();
    for (path, item) in spec()["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let scopes: Vec<String> = operation["security"][0]["bearer"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect();
            if scopes.is_empty() {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            found.push((method, path.replace("{id}", &id.to_string()), scopes));
        }
    }
    found
}

#[actix_web::test]
async fn every_scoped_operation_answers_401_403_or_proceeds_by_the_scopes_of_the_token() {
    let app = TestApp::new().await;
    let content = app.token_with("content-team", &[Scope::Content]).await;
    let requests = app.token_with("review-staff", &[Scope::Requests]).await;
    let both = app.token_with("both", &[Scope::Content, Scope::Requests]).await;
    submitted(&app, 1).await;
    let operations = secured_operations(&json!(999_999));
    assert!(operations.len() >= 17, "the spec names the scopes of {} operations", operations.len());
    for (method, path, scopes) in operations {
        let needs = |scope: &str| scopes.iter().any(|s| s == scope);
        let call = || {
            let request = TestRequest::default().method(method.clone()).uri(&path);
            if method == Method::GET || method == Method::DELETE { request } else { request.set_json(json!({})) }
        };
        app.send(call()).await.assert_problem(401, "unauthorized");
        for (token, held) in
            [(&content, vec!["content"]), (&requests, vec!["requests"]), (&both, vec!["content", "requests"])]
        {
            let response = as_token(&app, call(), token).await;
            let missing = scopes.iter().any(|scope| !held.contains(&scope.as_str()));
            let name = format!("{method} {path} with {held:?}");
            if missing {
                response.assert_problem(403, "insufficient_scope");
                let challenge = response.header("www-authenticate").unwrap_or_default();
                assert!(challenge.starts_with("Bearer error=\"insufficient_scope\", scope=\""), "{name}: {challenge}");
                let expected_scope =
                    if needs("requests") && needs("content") { "requests content" } else { scopes[0].as_str() };
                assert!(challenge.contains(&format!("scope=\"{expected_scope}\"")), "{name}: {challenge}");
            } else {
                assert!(![401, 403].contains(&response.status), "{name}: {}", response.text());
            }
        }
    }
    // Nothing was changed by the refused calls.
    assert_eq!(count_rows(&app, "event_requests"), 1);
    assert_eq!(count_rows(&app, "events"), 0);
}

#[actix_web::test]
async fn personal_data_never_reaches_a_public_answer() {
    let app = TestApp::new().await;
    let (request, _) = submitted(&app, 7).await;
    app.post(&format!("/api/v1/event-requests/{}/event", request["id"]), &json!({})).await.assert_status(201);
    app.delete(&format!("/api/v1/event-requests/{}", request["id"])).await.assert_status(204);
    submitted(&app, 8).await;
    let public = [
        "/api/v1/events",
        "/api/v1/events/1",
        "/api/v1/events/1.jsonld",
        "/api/v1/events.ics",
        "/api/v1/events/1.ics",
        "/api/v1/deletions",
        "/api/v1/programs",
        "/api/v1/initiatives",
        "/api/v1/metrics",
        "/api/v1/event-requests",
        "/api/v1/event-requests/2",
        "/openapi.json",
    ];
    for path in public {
        let text = app.get(path).await.text();
        for n in [7, 8] {
            for private in
                [format!("jordan.rivera.{n}@example.org"), format!("Jordan Rivera {n}"), format!("555-{n:04}")]
            {
                assert!(!text.contains(&private), "{path} shows {private}");
            }
        }
    }
}

#[actix_web::test]
async fn a_browser_on_an_allowed_origin_submits_with_an_idempotency_key() {
    let origin = "https://www.rush.edu";
    let app = TestApp::with_cors(rush_api::http::CorsOrigins::List(vec![origin.to_owned()])).await;
    let preflight = app
        .send(
            TestRequest::default()
                .method(Method::OPTIONS)
                .uri("/api/v1/event-requests")
                .insert_header(("Origin", origin))
                .insert_header(("Access-Control-Request-Method", "POST"))
                .insert_header(("Access-Control-Request-Headers", "content-type,idempotency-key")),
        )
        .await;
    assert!(preflight.status < 300, "{}", preflight.status);
    let allowed = preflight.header("access-control-allow-headers").unwrap_or_default().to_lowercase();
    assert!(allowed.contains("idempotency-key") && allowed.contains("content-type"), "{allowed}");
    let response = app
        .send(
            TestRequest::post()
                .uri("/api/v1/event-requests")
                .insert_header(("Origin", origin))
                .insert_header(("Idempotency-Key", "browser-form-1"))
                .set_json(submission(1)),
        )
        .await;
    response.assert_status(201);
    assert_eq!(response.header("access-control-allow-origin").as_deref(), Some(origin));
    let exposed = response.header("access-control-expose-headers").unwrap_or_default().to_lowercase();
    assert!(exposed.contains("location"), "{exposed}");
}

#[actix_web::test]
async fn contact_details_past_retention_are_erased_by_the_purge() {
    let app = TestApp::new().await;
    let (old, old_url) = submitted(&app, 1).await;
    let (recent, _) = submitted(&app, 2).await;
    // The first request's event ended 400 days ago; the second one's is still to come.
    let now = rush_api::base::clock::system_now();
    let ended = now - 400 * 24 * 3600 * 1_000_000;
    {
        use diesel::prelude::*;
        let mut conn = crate::support::connect(&app.db_path);
        diesel::sql_query(format!(
            "UPDATE event_requests SET starts_at = {}, ends_at = {ended} WHERE id = {}",
            ended - 3_600_000_000,
            old["id"]
        ))
        .execute(&mut conn)
        .expect("age the request");
    }
    let erased = app.state.db.write(|conn, now| rush_api::domain::event_requests::store::purge(conn, now, 365)).await;
    assert_eq!(erased.ok(), Some(1));
    let seen = app.get(&old_url).await.json();
    for field in ["contact_name", "contact_email", "contact_phone"] {
        assert_eq!(seen[field], Value::Null, "{field}");
    }
    assert!(seen["erased_at"].is_string());
    assert_eq!(seen["organization_name"], old["organization_name"], "only contact details go");
    let kept =
        app.send(app.authorized(TestRequest::get().uri(&format!("/api/v1/event-requests/{}", recent["id"])))).await;
    assert_eq!(kept.json()["contact_email"], "jordan.rivera.2@example.org");
    let again = app.state.db.write(|conn, now| rush_api::domain::event_requests::store::purge(conn, now, 365)).await;
    assert_eq!(again.ok(), Some(0), "erased once");
}

fn http_post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn the_server_log_never_holds_contact_details_or_status_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let server = crate::server::Server::start_unlimited(&dir, &["serve", "--no-seed"]);
    let body = submission(42).to_string();
    let created = server.request(&http_post("/api/v1/event-requests", &body));
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let secret = created
        .split("/api/v1/event-requests/status/")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect::<String>())
        .expect("a status link");
    assert_eq!(secret.len(), 64);
    let path = format!("/api/v1/event-requests/status/{secret}");
    let read = server.request(&format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
    let duplicate = server.request(&http_post("/api/v1/event-requests", &body));
    assert!(duplicate.starts_with("HTTP/1.1 409"), "{duplicate}");
    let invalid = merged(submission(42), json!({"contact_email": "jordan.rivera.42@", "starts_at": "yesterday"}));
    let refused = server.request(&http_post("/api/v1/event-requests", &invalid.to_string()));
    assert!(refused.starts_with("HTTP/1.1 422"), "{refused}");
    let withdrawn = server.request(&http_post(&format!("{path}/withdraw"), ""));
    assert!(withdrawn.starts_with("HTTP/1.1 200"), "{withdrawn}");
    // The access lines are written as the requests finish; wait for the last one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !server.full_log().contains("/withdraw 200") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = server.full_log();
    assert!(log.contains("POST /api/v1/event-requests/status/…/withdraw 200"), "{log}");
    assert!(log.contains("GET /api/v1/event-requests/status/… 200"), "{log}");
    for private in [secret.as_str(), "jordan.rivera.42", "Jordan Rivera 42", "555-0042"] {
        assert!(!log.contains(private), "the log holds {private}:\n{log}");
    }
}

#[test]
fn tokens_carry_scopes_and_the_purge_runs_from_the_command_line() {
    use crate::cli::run;
    let dir = tempfile::tempdir().expect("dir");
    let created = run(&dir, &["token", "create", "--name", "staff", "--scope", "requests"], &[]);
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("with scope requests"));
    assert!(
        run(&dir, &["token", "create", "--name", "both", "--scope", "content", "--scope", "requests"], &[])
            .status
            .success()
    );
    assert!(run(&dir, &["token", "create", "--name", "web"], &[]).status.success());
    let refused = run(&dir, &["token", "create", "--name", "x", "--scope", "admin"], &[]);
    assert_eq!(refused.status.code(), Some(2));
    let listed = String::from_utf8_lossy(&run(&dir, &["token", "list"], &[]).stdout).into_owned();
    let scopes_of = |name: &str| {
        listed
            .lines()
            .find(|line| line.starts_with(&format!("{name}\t")))
            .and_then(|line| line.split('\t').nth(1))
            .map(str::to_owned)
    };
    assert_eq!(scopes_of("staff").as_deref(), Some("requests"), "{listed}");
    assert_eq!(scopes_of("both").as_deref(), Some("content requests"), "{listed}");
    assert_eq!(scopes_of("web").as_deref(), Some("content"), "the default: {listed}");

    let purged = run(&dir, &["requests", "purge"], &[("EVENT_REQUEST_RETENTION_DAYS", "30")]);
    assert!(purged.status.success(), "{purged:?}");
    assert_eq!(String::from_utf8_lossy(&purged.stdout).trim(), "Erased the contact details of 0 event requests.");
    let bad = run(&dir, &["requests", "purge"], &[("EVENT_REQUEST_RETENTION_DAYS", "0")]);
    assert_eq!(bad.status.code(), Some(2));
}
