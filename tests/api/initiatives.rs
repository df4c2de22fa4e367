//! Initiatives: fields, defaults, slugs, merge patch and the referential guard.

use serde_json::{Value, json};

use crate::support::{TestApp, count_rows, merged, valid_initiative};

#[actix_web::test]
async fn create_applies_defaults_and_derives_the_slug() {
    let app = TestApp::new().await;
    let response = app.post("/api/v1/initiatives", &valid_initiative()).await;
    response.assert_status(201);
    let initiative = response.json();
    assert_eq!(initiative["status"], "active");
    assert_eq!(initiative["slug"], "west-side-united");
    assert_eq!(response.header("location"), Some(format!("/api/v1/initiatives/{}", initiative["id"])));
    for optional in ["summary", "description", "lead_office", "started_on", "website_url", "contact_email"] {
        assert_eq!(initiative[optional], Value::Null, "{optional}");
    }
    let second = app.create_initiative(json!({})).await;
    assert_eq!(second["slug"], "west-side-united-2");
    app.post("/api/v1/initiatives", &merged(valid_initiative(), json!({"slug": "west-side-united"})))
        .await
        .assert_problem(409, "slug_taken");
    assert_eq!(count_rows(&app, "initiatives"), 2);
}

#[actix_web::test]
async fn every_invalid_field_is_named_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let body = json!({
        "name": "",
        "summary": "s".repeat(501),
        "category": "charity",
        "lead_office": "o".repeat(201),
        "status": "paused",
        "started_on": "2020-13-01",
        "website_url": "rush.edu",
        "contact_email": "a@b",
        "updated_at": "2026-01-01T00:00:00Z"
    });
    app.post("/api/v1/initiatives", &body).await.assert_invalid(&[
        "name",
        "summary",
        "category",
        "lead_office",
        "status",
        "started_on",
        "website_url",
        "contact_email",
        "updated_at",
    ]);
    app.post("/api/v1/initiatives", &json!({})).await.assert_invalid(&["name", "category"]);
    app.post("/api/v1/initiatives", &merged(valid_initiative(), json!({"status": null}))).await.assert_status(201);
    assert_eq!(count_rows(&app, "initiatives"), 1);
}

#[actix_web::test]
async fn explicit_null_status_on_create_is_the_default_but_patch_cannot_null_it() {
    let app = TestApp::new().await;
    let initiative = app.create_initiative(json!({"status": "planned", "started_on": "2018-01-01"})).await;
    let path = format!("/api/v1/initiatives/{}", initiative["id"]);
    app.patch(&path, &json!({"status": null})).await.assert_invalid(&["status"]);
    let patched = app.patch(&path, &json!({"status": "completed", "started_on": null, "summary": "Done."})).await;
    patched.assert_status(200);
    let patched = patched.json();
    assert_eq!(patched["status"], "completed");
    assert_eq!(patched["started_on"], Value::Null);
    assert_eq!(patched["summary"], "Done.");
    assert_eq!(patched["category"], "partnership");
}

#[actix_web::test]
async fn deleting_an_initiative_that_events_reference_is_409_until_they_are_gone() {
    let app = TestApp::new().await;
    let initiative = app.create_initiative(json!({})).await;
    let event = app.create_event(json!({"initiative_id": initiative["id"]})).await;
    let path = format!("/api/v1/initiatives/{}", initiative["id"]);
    let problem = app.delete(&path).await.assert_problem(409, "still_referenced");
    assert_eq!(problem["referencing_events"], 1);
    assert_eq!(count_rows(&app, "initiatives"), 1);

    app.patch(&format!("/api/v1/events/{}", event["id"]), &json!({"initiative_id": null})).await.assert_status(200);
    app.delete(&path).await.assert_status(204);
    assert_eq!(count_rows(&app, "initiatives"), 0);
}
