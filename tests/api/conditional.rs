//! ETags, If-None-Match, If-Match, and the order of checks of RFC 9110 §13.2.1.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::TestApp;

const RECORDS: [(&str, &str); 3] = [("programs", "name"), ("initiatives", "name"), ("events", "title")];

async fn one_of_each(app: &TestApp) -> Vec<(String, String, serde_json::Value)> {
    let program = app.create_program(json!({})).await;
    let initiative = app.create_initiative(json!({})).await;
    let event = app.create_event(json!({})).await;
    RECORDS
        .iter()
        .zip([program, initiative, event])
        .map(|((collection, field), record)| {
            (format!("/api/v1/{collection}/{}", record["id"]), (*field).to_owned(), record)
        })
        .collect()
}

#[actix_web::test]
async fn if_none_match_with_the_current_etag_is_304_with_the_etag() {
    let app = TestApp::new().await;
    for (path, _, _) in one_of_each(&app).await {
        let etag = app.get(&path).await.header("etag").expect("ETag");
        for header in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".to_owned()] {
            let response =
                app.send(TestRequest::get().uri(&path).insert_header(("If-None-Match", header.clone()))).await;
            response.assert_status(304);
            assert_eq!(response.header("etag"), Some(etag.clone()), "{header}");
            assert!(response.body.is_empty());
        }
        let stale = app.send(TestRequest::get().uri(&path).insert_header(("If-None-Match", "\"stale\""))).await;
        stale.assert_status(200);
        // After a change, the tag the client holds no longer answers 304.
        let field = if path.contains("events") { "title" } else { "name" };
        app.patch(&path, &json!({field: "Renamed"})).await.assert_status(200);
        let changed = app.send(TestRequest::get().uri(&path).insert_header(("If-None-Match", etag.clone()))).await;
        changed.assert_status(200);
        assert_ne!(changed.header("etag"), Some(etag));
        assert_eq!(changed.json()[field], "Renamed");
    }
}

#[actix_web::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = TestApp::new().await;
    for (path, field, record) in one_of_each(&app).await {
        let etag = app.get(&path).await.header("etag").expect("ETag");
        let stale = app.authorized(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("If-Match", "\"stale\""))
                .set_json(json!({field.clone(): "Changed"})),
        );
        app.send(stale).await.assert_problem(412, "precondition_failed");
        let weak = app.authorized(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("If-Match", format!("W/{etag}")))
                .set_json(json!({field.clone(): "Changed"})),
        );
        app.send(weak).await.assert_problem(412, "precondition_failed");
        let delete = app.authorized(TestRequest::delete().uri(&path).insert_header(("If-Match", "\"stale\"")));
        app.send(delete).await.assert_problem(412, "precondition_failed");
        assert_eq!(app.get(&path).await.json(), record);

        let fresh = app.authorized(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("If-Match", etag.clone()))
                .set_json(json!({field.clone(): "Changed"})),
        );
        let response = app.send(fresh).await;
        response.assert_status(200);
        let new_etag = response.header("etag").expect("ETag");
        assert_ne!(new_etag, etag);
        let old = app.authorized(TestRequest::delete().uri(&path).insert_header(("If-Match", etag)));
        app.send(old).await.assert_problem(412, "precondition_failed");
        let current = app.authorized(TestRequest::delete().uri(&path).insert_header(("If-Match", new_etag)));
        app.send(current).await.assert_status(204);
    }
}

#[actix_web::test]
async fn checks_come_in_the_order_401_404_412_422() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let invalid = json!({"name": ""});
    let patch =
        |uri: &str| TestRequest::patch().uri(uri).insert_header(("If-Match", "\"stale\"")).set_json(invalid.clone());

    app.send(patch("/api/v1/programs/999")).await.assert_problem(401, "unauthorized");
    app.send(app.authorized(patch("/api/v1/programs/999"))).await.assert_problem(404, "not_found");
    app.send(app.authorized(patch(&path))).await.assert_problem(412, "precondition_failed");
    let without_precondition = TestRequest::patch().uri(&path).set_json(invalid.clone());
    app.send(app.authorized(without_precondition)).await.assert_invalid(&["name"]);
    assert_eq!(app.get(&path).await.json(), program);
}

#[actix_web::test]
async fn a_write_that_would_be_404_or_412_is_refused_before_it_reaches_the_writer() {
    let app = TestApp::new().await;
    let program = app.create_program(serde_json::json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    // The write generation moves with every batch the writer runs (on PostgreSQL, every batch of
    // every instance; read after the write was acknowledged, it shows it).
    let moved_by_batches = || async { app.state.db.generation().await };
    let before = moved_by_batches().await;
    assert!(before.is_some());
    app.patch("/api/v1/programs/999", &serde_json::json!({"name": "x"})).await.assert_problem(404, "not_found");
    app.delete("/api/v1/metrics/999").await.assert_problem(404, "not_found");
    let stale = actix_web::test::TestRequest::delete().uri(&path).insert_header(("If-Match", "\"stale\""));
    app.send(app.authorized(stale)).await.assert_problem(412, "precondition_failed");
    // No batch ran.
    assert_eq!(moved_by_batches().await, before);
    app.patch(&path, &serde_json::json!({"name": "Renamed Residency"})).await.assert_status(200);
    assert_ne!(moved_by_batches().await, before, "a write that reaches the writer moves it");
}
