//! Events: time rules, the virtual rule and references, on create and on the patched record.

use serde_json::{Value, json};

use crate::support::{TestApp, count_rows, merged, valid_event};

#[actix_web::test]
async fn timestamps_take_any_offset_and_come_back_in_utc() {
    let app = TestApp::new().await;
    let event = app
        .create_event(json!({"starts_at": "2027-03-14T09:00:00-05:00", "ends_at": "2027-03-14T20:30:00.25+05:30"}))
        .await;
    assert_eq!(event["starts_at"], "2027-03-14T14:00:00Z");
    assert_eq!(event["ends_at"], "2027-03-14T15:00:00.250000Z");
    assert_eq!(event["status"], "scheduled");
    assert_eq!(event["is_virtual"], false);
    for optional in [
        "description",
        "location_name",
        "address",
        "virtual_url",
        "registration_url",
        "capacity",
        "initiative_id",
        "program_id",
    ] {
        assert_eq!(event[optional], Value::Null, "{optional}");
    }
}

#[actix_web::test]
async fn broken_time_and_virtual_rules_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("no offset", json!({"starts_at": "2027-03-14T09:00:00"}), vec!["starts_at"]),
        ("date only", json!({"starts_at": "2027-03-14"}), vec!["starts_at"]),
        ("ends before starts", json!({"ends_at": "2027-03-14T08:00:00-05:00"}), vec!["ends_at"]),
        ("ends when it starts", json!({"ends_at": "2027-03-14T14:00:00Z"}), vec!["ends_at"]),
        ("virtual without url", json!({"is_virtual": true}), vec!["virtual_url"]),
        ("bad virtual url", json!({"is_virtual": true, "virtual_url": "zoom"}), vec!["virtual_url"]),
        ("capacity zero", json!({"capacity": 0}), vec!["capacity"]),
        ("capacity too large", json!({"capacity": 100_001}), vec!["capacity"]),
        ("unknown type", json!({"event_type": "gala"}), vec!["event_type"]),
        ("unknown status", json!({"status": "postponed"}), vec!["status"]),
        ("reference not an id", json!({"program_id": 0, "initiative_id": "3"}), vec!["program_id", "initiative_id"]),
        (
            "missing everything",
            json!({"title": null, "event_type": null, "starts_at": null}),
            vec!["title", "event_type", "starts_at"],
        ),
    ];
    for (case, overrides, fields) in cases {
        let response = app.post("/api/v1/events", &merged(valid_event(), overrides)).await;
        assert_eq!(response.status, 422, "{case}: {}", response.text());
        response.assert_invalid(&fields);
    }
    assert_eq!(count_rows(&app, "events"), 0);
}

#[actix_web::test]
async fn references_must_name_existing_records() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let initiative = app.create_initiative(json!({})).await;
    app.post("/api/v1/events", &merged(valid_event(), json!({"program_id": 999, "initiative_id": 998})))
        .await
        .assert_invalid(&["program_id", "initiative_id"]);
    let event = app.create_event(json!({"program_id": program["id"], "initiative_id": initiative["id"]})).await;
    assert_eq!(event["program_id"], program["id"]);
    assert_eq!(event["initiative_id"], initiative["id"]);
    let path = format!("/api/v1/events/{}", event["id"]);
    app.patch(&path, &json!({"program_id": 4242})).await.assert_invalid(&["program_id"]);
    assert_eq!(app.get(&path).await.json(), event);
    assert_eq!(count_rows(&app, "events"), 1);
}

#[actix_web::test]
async fn field_errors_rule_errors_and_missing_references_are_named_together() {
    let app = TestApp::new().await;
    let body = merged(
        valid_event(),
        json!({"title": "", "initiative_id": 999, "program_id": 998, "is_virtual": true, "ends_at": "2000-01-01T00:00:00Z"}),
    );
    app.post("/api/v1/events", &body).await.assert_invalid(&[
        "title",
        "initiative_id",
        "program_id",
        "virtual_url",
        "ends_at",
    ]);
    let event = app.create_event(json!({"ends_at": "2027-03-14T12:00:00-05:00"})).await;
    let path = format!("/api/v1/events/{}", event["id"]);
    app.patch(&path, &json!({"title": "", "starts_at": "2030-01-01T00:00:00Z", "program_id": 5}))
        .await
        .assert_invalid(&["title", "starts_at", "program_id"]);
    app.patch(&path, &json!({"starts_at": "soon", "ends_at": "2000-01-01T00:00:00Z"}))
        .await
        .assert_invalid(&["starts_at"]);
    assert_eq!(app.get(&path).await.json(), event);
    assert_eq!(count_rows(&app, "events"), 1);
}

#[actix_web::test]
async fn rules_are_checked_on_the_record_as_patched() {
    let app = TestApp::new().await;
    let event = app.create_event(json!({"ends_at": "2027-03-14T12:00:00-05:00"})).await;
    let path = format!("/api/v1/events/{}", event["id"]);
    // Moving only the start past the existing end names the start.
    app.patch(&path, &json!({"starts_at": "2027-03-14T13:00:00-05:00"})).await.assert_invalid(&["starts_at"]);
    app.patch(&path, &json!({"ends_at": "2027-03-14T08:00:00-05:00"})).await.assert_invalid(&["ends_at"]);
    app.patch(&path, &json!({"is_virtual": true})).await.assert_invalid(&["virtual_url"]);
    assert_eq!(app.get(&path).await.json(), event);

    let virtual_event = app.patch(&path, &json!({"is_virtual": true, "virtual_url": "https://example.org/join"})).await;
    virtual_event.assert_status(200);
    app.patch(&path, &json!({"virtual_url": null})).await.assert_invalid(&["virtual_url"]);
    let moved = app.patch(&path, &json!({"starts_at": "2027-03-15T09:00:00-05:00", "ends_at": null})).await;
    moved.assert_status(200);
    assert_eq!(moved.json()["starts_at"], "2027-03-15T14:00:00Z");
    assert_eq!(moved.json()["ends_at"], Value::Null);
}

#[actix_web::test]
async fn the_same_instant_in_another_offset_is_no_change() {
    let app = TestApp::new().await;
    let event = app.create_event(json!({})).await;
    let path = format!("/api/v1/events/{}", event["id"]);
    let response = app.patch(&path, &json!({"starts_at": "2027-03-14T14:00:00Z"})).await;
    response.assert_status(200);
    assert_eq!(response.json()["updated_at"], event["updated_at"]);
}
