//! schema.org JSON-LD for public pages, by content negotiation.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::TestApp;

fn ld(path: &str, accept: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(("Accept", accept.to_owned()))
}

#[actix_web::test]
async fn an_event_is_a_schema_org_event_when_asked_for_json_ld() {
    let app = TestApp::new().await;
    let event = app
        .create_event(json!({
            "title": "Spring Health Fair", "description": "Screenings", "location_name": "Malcolm X College",
            "address": "1900 W Jackson Blvd", "registration_url": "https://example.org/r", "capacity": 200,
            "ends_at": "2027-03-14T12:00:00-05:00"
        }))
        .await;
    let path = format!("/api/v1/events/{}", event["id"]);
    let response = app.send(ld(&path, "application/ld+json")).await;
    response.assert_status(200);
    assert_eq!(response.header("content-type").as_deref(), Some("application/ld+json"));
    assert!(response.header("vary").unwrap_or_default().contains("Accept"));
    let data = response.json();
    assert_eq!(data["@context"], "https://schema.org");
    assert_eq!(data["@type"], "Event");
    assert_eq!(data["name"], "Spring Health Fair");
    assert_eq!(data["startDate"], event["starts_at"]);
    assert_eq!(data["endDate"], event["ends_at"]);
    assert_eq!(data["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(data["eventAttendanceMode"], "https://schema.org/OfflineEventAttendanceMode");
    assert_eq!(
        data["location"],
        json!([{"@type": "Place", "name": "Malcolm X College", "address": "1900 W Jackson Blvd"}])
    );
    assert_eq!(data["organizer"]["@type"], "Organization");
    assert_eq!(data["url"], "https://example.org/r");
    assert_eq!(data["maximumAttendeeCapacity"], 200);

    app.patch(&path, &json!({"status": "cancelled", "is_virtual": true, "virtual_url": "https://example.org/j", "location_name": null, "address": null})).await.assert_status(200);
    let data = app.send(ld(&path, "application/ld+json")).await.json();
    assert_eq!(data["eventStatus"], "https://schema.org/EventCancelled");
    assert_eq!(data["eventAttendanceMode"], "https://schema.org/OnlineEventAttendanceMode");
    assert_eq!(data["location"], json!([{"@type": "VirtualLocation", "url": "https://example.org/j"}]));
}

#[actix_web::test]
async fn a_program_is_an_educational_occupational_program() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({"application_deadline": "2027-09-15", "positions_per_year": 12})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    let data = app.send(ld(&path, "application/ld+json, application/json;q=0.9")).await.json();
    assert_eq!(data["@type"], "EducationalOccupationalProgram");
    assert_eq!(data["name"], "Internal Medicine Residency");
    assert_eq!(data["programType"], "Residency");
    assert_eq!(data["timeToComplete"], "P3Y");
    assert_eq!(data["applicationDeadline"], "2027-09-15");
    assert_eq!(data["occupationalCategory"], "Internal Medicine");
    assert_eq!(data["provider"], json!({"@type": "Hospital", "name": "RUSH University Medical Center"}));
    assert_eq!(data["maximumEnrollment"], 12);
}

#[actix_web::test]
async fn json_stays_the_default_and_each_form_has_its_own_etag() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    for accept in ["application/json", "*/*", "application/json, application/ld+json;q=0.5", "text/html"] {
        let response = app.send(ld(&path, accept)).await;
        assert_eq!(response.header("content-type").as_deref(), Some("application/json"), "{accept}");
        assert_eq!(response.json(), program);
    }
    let json_etag = app.get(&path).await.header("etag");
    let ld_response = app.send(ld(&path, "application/ld+json")).await;
    let ld_etag = ld_response.header("etag").expect("an ETag");
    assert_ne!(Some(ld_etag.clone()), json_etag);
    app.send(ld(&path, "application/ld+json").insert_header(("If-None-Match", ld_etag))).await.assert_status(304);
}
