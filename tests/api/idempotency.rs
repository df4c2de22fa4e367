//! Idempotent creates: retries with the same `Idempotency-Key` get the original response.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::{TestApp, count_rows, merged, valid_event, valid_initiative, valid_program};

fn keyed(app: &TestApp, path: &str, key: &str, body: &serde_json::Value) -> TestRequest {
    app.authorized(TestRequest::post().uri(path).insert_header(("Idempotency-Key", key.to_owned())).set_json(body))
}

#[actix_web::test]
async fn a_retry_with_the_same_key_and_body_replays_the_original_response() {
    let app = TestApp::new().await;
    for (collection, body) in
        [("programs", valid_program()), ("initiatives", valid_initiative()), ("events", valid_event())]
    {
        let path = format!("/api/v1/{collection}");
        let key = format!("3f2b9c1e-{collection}");
        let first = app.send(keyed(&app, &path, &key, &body)).await;
        first.assert_status(201);
        let again = app.send(keyed(&app, &path, &format!("\"{key}\""), &body)).await;
        again.assert_status(201);
        assert_eq!(again.body, first.body, "{collection}: the same body");
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("etag"), first.header("etag"));
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(first.header("idempotent-replayed"), None);
        assert_eq!(count_rows(&app, collection), 1, "{collection}: created once");
    }
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_422_and_creates_nothing() {
    let app = TestApp::new().await;
    app.send(keyed(&app, "/api/v1/programs", "key-1", &valid_program())).await.assert_status(201);
    let other = merged(valid_program(), json!({"name": "Another Residency"}));
    app.send(keyed(&app, "/api/v1/programs", "key-1", &other)).await.assert_problem(422, "idempotency_key_reused");
    // The key belongs to one path: the same key for another collection is another request too.
    app.send(keyed(&app, "/api/v1/initiatives", "key-1", &valid_initiative()))
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(count_rows(&app, "programs"), 1);
    assert_eq!(count_rows(&app, "initiatives"), 0);
}

#[actix_web::test]
async fn keys_belong_to_a_token_and_a_failed_create_frees_its_key() {
    let app = TestApp::new().await;
    let secret = rush_api::domain::tokens::generate().expect("token");
    let stored = secret.clone();
    app.state
        .db
        .write(move |conn, now| {
            rush_api::domain::tokens::create(conn, "other", &stored, &[rush_api::domain::tokens::Scope::Content], now)
        })
        .await
        .expect("stored");
    app.send(keyed(&app, "/api/v1/programs", "shared", &valid_program())).await.assert_status(201);
    let as_other = TestRequest::post()
        .uri("/api/v1/programs")
        .insert_header(("Authorization", format!("Bearer {secret}")))
        .insert_header(("Idempotency-Key", "shared"))
        .set_json(valid_program());
    let response = app.send(as_other).await;
    response.assert_status(201);
    assert_eq!(response.header("idempotent-replayed"), None, "another token's key is another key");
    assert_eq!(count_rows(&app, "programs"), 2);

    let clash = merged(valid_program(), json!({"slug": "internal-medicine-residency"}));
    app.send(keyed(&app, "/api/v1/programs", "fix-and-retry", &clash)).await.assert_problem(409, "slug_taken");
    app.send(keyed(&app, "/api/v1/programs", "fix-and-retry", &clash)).await.assert_problem(409, "slug_taken");
    assert_eq!(count_rows(&app, "programs"), 2);
}

#[actix_web::test]
async fn malformed_keys_are_422_naming_the_header() {
    let app = TestApp::new().await;
    for key in ["", "has space", &"k".repeat(256)] {
        let problem =
            app.send(keyed(&app, "/api/v1/programs", key, &valid_program())).await.assert_invalid(&["Idempotency-Key"]);
        assert_eq!(problem["errors"][0]["parameter"], "Idempotency-Key");
    }
    assert_eq!(count_rows(&app, "programs"), 0);
}
