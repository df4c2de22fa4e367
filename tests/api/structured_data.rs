//! schema.org JSON-LD for public pages, at its own `.jsonld` URLs.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::TestApp;

fn with_accept(path: &str, accept: &str) -> TestRequest {
    TestRequest::get().uri(path).insert_header(("Accept", accept.to_owned()))
}

#[actix_web::test]
async fn an_event_is_a_schema_org_event_at_its_jsonld_url() {
    let app = TestApp::new().await;
    let event = app
        .create_event(json!({
            "title": "Spring Health Fair", "description": "Screenings", "location_name": "Malcolm X College",
            "address": "1900 W Jackson Blvd", "registration_url": "https://example.org/r", "capacity": 200,
            "ends_at": "2027-03-14T12:00:00-05:00"
        }))
        .await;
    let path = format!("/api/v1/events/{}", event["id"]);
    let ld_path = format!("{path}.jsonld");
    let response = app.get(&ld_path).await;
    response.assert_status(200);
    assert_eq!(response.header("content-type").as_deref(), Some("application/ld+json"));
    assert!(!response.header_list("vary").contains(&"Accept".to_owned()));
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
    let data = app.get(&ld_path).await.json();
    assert_eq!(data["eventStatus"], "https://schema.org/EventCancelled");
    assert_eq!(data["eventAttendanceMode"], "https://schema.org/OnlineEventAttendanceMode");
    assert_eq!(data["location"], json!([{"@type": "VirtualLocation", "url": "https://example.org/j"}]));

    app.get("/api/v1/events/999.jsonld").await.assert_problem(404, "not_found");
    app.get(&format!("{ld_path}?x=1")).await.assert_invalid(&["x"]);
}

#[actix_web::test]
async fn a_program_is_an_educational_occupational_program_at_its_jsonld_url() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({"application_deadline": "2027-09-15", "positions_per_year": 12})).await;
    let data = app.get(&format!("/api/v1/programs/{}.jsonld", program["id"])).await.json();
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
async fn json_ld_is_safe_inside_a_script_element() {
    let app = TestApp::new().await;
    let title = "</script><script>alert(1)</script> & <!-- \u{2028}\u{2029}";
    let event = app.create_event(json!({"title": title})).await;
    let response = app.get(&format!("/api/v1/events/{}.jsonld", event["id"])).await;
    response.assert_status(200);
    let text = response.text();
    for raw in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
        assert!(!text.contains(raw), "{raw:?} is written raw in {text}");
    }
    assert!(text.contains("\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"), "{text}");
    assert!(text.contains("\\u0026") && text.contains("\\u2028") && text.contains("\\u2029"), "{text}");
    // Escaped, the value is still the same string.
    assert_eq!(response.json()["name"], title);
}

#[actix_web::test]
async fn the_record_url_answers_json_whatever_accept_says_and_each_url_has_its_own_etag() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({})).await;
    let path = format!("/api/v1/programs/{}", program["id"]);
    for accept in [
        "application/ld+json",
        "application/json",
        "*/*",
        "text/html",
        "application/ld+json;q=1, application/json;q=0.1",
    ] {
        let response = app.send(with_accept(&path, accept)).await;
        assert_eq!(response.header("content-type").as_deref(), Some("application/json"), "{accept}");
        assert!(!response.header_list("vary").contains(&"Accept".to_owned()), "{accept}");
        assert_eq!(response.json(), program);
    }
    let json_etag = app.get(&path).await.header("etag");
    let ld_path = format!("{path}.jsonld");
    let ld_etag = app.get(&ld_path).await.header("etag").expect("an ETag");
    assert_ne!(Some(ld_etag.clone()), json_etag);
    app.send(TestRequest::get().uri(&ld_path).insert_header(("If-None-Match", ld_etag))).await.assert_status(304);
}
