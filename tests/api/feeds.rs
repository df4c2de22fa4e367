//! The change feed (`updated_since`, deletions), conditional lists and caching headers.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::support::TestApp;

#[actix_web::test]
async fn updated_since_returns_records_changed_at_or_after_the_instant() {
    let app = TestApp::new().await;
    let first = app.create_program(json!({})).await;
    let second = app.create_program(json!({})).await;
    let since = second["updated_at"].as_str().unwrap_or_default().to_owned();
    let page = app.get(&format!("/api/v1/programs?updated_since={since}")).await.json();
    assert_eq!(page["meta"]["total"], 1, "inclusive: {page}");
    assert_eq!(page["data"][0]["id"], second["id"]);
    let patched =
        app.patch(&format!("/api/v1/programs/{}", first["id"]), &json!({"specialty": "Cardiology"})).await.json();
    assert!(patched["updated_at"].as_str() > Some(since.as_str()), "write timestamps strictly increase");
    let page = app.get(&format!("/api/v1/programs?updated_since={since}&sort=updated_at")).await.json();
    let ids: Vec<&Value> = page["data"].as_array().into_iter().flatten().map(|p| &p["id"]).collect();
    assert_eq!(ids, [&second["id"], &first["id"]]);
    app.get("/api/v1/events?updated_since=yesterday").await.assert_invalid(&["updated_since"]);
}

#[actix_web::test]
async fn deletions_list_what_was_deleted_since_an_instant() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let initiative = app.create_initiative(json!({})).await;
    let event = app.create_event(json!({})).await;
    app.delete(&format!("/api/v1/events/{}", event["id"])).await.assert_status(204);
    app.delete(&format!("/api/v1/programs/{}", program["id"])).await.assert_status(204);
    app.delete(&format!("/api/v1/initiatives/{}", initiative["id"])).await.assert_status(204);

    let all = app.get("/api/v1/deletions").await;
    all.assert_status(200);
    let all = all.json();
    assert_eq!(all["meta"]["total"], 3);
    let resources: Vec<&str> =
        all["data"].as_array().into_iter().flatten().filter_map(|d| d["resource"].as_str()).collect();
    assert_eq!(resources, ["events", "programs", "initiatives"], "oldest first");
    assert_eq!(all["data"][1]["id"], program["id"]);
    let second_at = all["data"][1]["deleted_at"].as_str().unwrap_or_default().to_owned();
    assert!(second_at.as_str() > event["updated_at"].as_str().unwrap_or_default());

    let since = app.get(&format!("/api/v1/deletions?since={second_at}")).await.json();
    assert_eq!(since["meta"]["total"], 2);
    let programs = app.get("/api/v1/deletions?resource=programs").await.json();
    assert_eq!(programs["data"], json!([{"resource": "programs", "id": program["id"], "deleted_at": second_at}]));
    let paged = app.get("/api/v1/deletions?limit=1&offset=1").await;
    assert!(paged.header("link").unwrap_or_default().contains("rel=\"next\""));
    app.get("/api/v1/deletions?resource=doctors&since=now").await.assert_invalid(&["resource", "since"]);
}

#[actix_web::test]
async fn lists_have_etags_that_change_exactly_when_their_content_does() {
    let app = TestApp::new().await;
    app.create_program(json!({})).await;
    for path in ["/api/v1/programs", "/api/v1/initiatives?status=active", "/api/v1/events", "/api/v1/deletions"] {
        let first = app.get(path).await;
        first.assert_status(200);
        let etag = first.header("etag").expect("a list ETag");
        assert_eq!(first.header("cache-control").as_deref(), Some("public, no-cache"));
        assert_eq!(app.get(path).await.header("etag").as_deref(), Some(etag.as_str()), "stable while nothing changes");
        let revalidated = app.send(TestRequest::get().uri(path).insert_header(("If-None-Match", etag.clone()))).await;
        revalidated.assert_status(304);
        assert_eq!(revalidated.header("etag"), Some(etag));
        assert!(revalidated.body.is_empty());
    }
    let before = app.get("/api/v1/programs").await.header("etag");
    let unrelated = app.create_initiative(json!({})).await;
    assert_eq!(app.get("/api/v1/programs").await.header("etag"), before, "another collection's write changes nothing");
    let program = app.create_program(json!({"name": "Neurology Residency"})).await;
    let after = app.get("/api/v1/programs").await.header("etag");
    assert_ne!(after, before);
    app.patch(&format!("/api/v1/programs/{}", program["id"]), &json!({"name": "Neurology Residency"}))
        .await
        .assert_status(200);
    assert_eq!(app.get("/api/v1/programs").await.header("etag"), after, "a no-op patch changes nothing");
    assert!(unrelated["id"].is_i64());
    let record = app.get(&format!("/api/v1/programs/{}", program["id"])).await;
    assert_eq!(record.header("cache-control").as_deref(), Some("public, no-cache"));
}
