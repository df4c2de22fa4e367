//! The iCalendar feeds, read back with an independent parser (the `ical` crate).

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::TestApp;

/// `days` from now, as RFC 3339 in UTC.
fn days_from_now(days: i64) -> String {
    let now = rush_api::base::clock::system_now() + days * 24 * 3600 * 1_000_000;
    rush_api::base::clock::format_instant(now - now.rem_euclid(1_000_000))
}

struct Parsed {
    raw: String,
    calendar: ical::parser::ical::component::IcalCalendar,
}

impl Parsed {
    fn property(&self, event: usize, name: &str) -> Option<String> {
        self.calendar.events.get(event)?.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone())
    }

    fn calendar_property(&self, name: &str) -> Option<String> {
        self.calendar.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone())
    }

    fn event_with_summary(&self, summary: &str) -> Option<usize> {
        (0..self.calendar.events.len())
            .find(|i| self.property(*i, "SUMMARY").map(|s| unescape(&s)).as_deref() == Some(summary))
    }
}

/// Reverses RFC 5545 TEXT escaping, to compare with what was stored.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[track_caller]
fn parse(response: &crate::support::Response) -> Parsed {
    response.assert_status(200);
    assert_eq!(response.header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    let raw = response.text();
    assert!(
        raw.ends_with("\r\n") && !raw.replace("\r\n", "").contains('\n') && !raw.replace("\r\n", "").contains('\r'),
        "CRLF only"
    );
    for line in raw.split("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
    }
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(raw.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("a valid calendar");
    assert!(parser.next().is_none());
    Parsed { raw, calendar }
}

#[actix_web::test]
async fn the_feed_carries_every_field_with_folding_and_escaping() {
    let app = TestApp::new().await;
    let initiative = app.create_initiative(json!({})).await;
    let awkward = "Fair; food, music & 🎉 — a \\ backslash\nand a second line, with a very long tail that will certainly need folding across lines ✓";
    let event = app
        .create_event(json!({
            "title": "Back-to-School Health Fair, Week 1; «Santé»",
            "description": awkward,
            "event_type": "health_fair",
            "starts_at": days_from_now(10),
            "ends_at": days_from_now(11),
            "location_name": "Malcolm X College",
            "address": "1900 W Jackson Blvd, Chicago, IL",
            "registration_url": "https://example.org/register?a=1,2",
            "initiative_id": initiative["id"]
        }))
        .await;
    let online = app
        .create_event(json!({"title": "Virtual Open House", "event_type": "recruitment", "starts_at": days_from_now(20), "is_virtual": true, "virtual_url": "https://example.org/join"}))
        .await;

    let feed = parse(&app.get("/api/v1/events.ics").await);
    for (name, value) in
        [("VERSION", "2.0"), ("METHOD", "PUBLISH"), ("X-WR-CALNAME", "RUSH University System for Health events")]
    {
        assert_eq!(feed.calendar_property(name).as_deref(), Some(value), "{name}");
    }
    assert!(feed.calendar_property("PRODID").is_some());
    let i = feed.event_with_summary("Back-to-School Health Fair, Week 1; «Santé»").expect("the fair");
    assert_eq!(feed.property(i, "UID"), Some(format!("event-{}@rush-api", event["id"])));
    assert_eq!(feed.property(i, "DESCRIPTION").map(|d| unescape(&d)).as_deref(), Some(awkward));
    assert_eq!(
        feed.property(i, "LOCATION").map(|l| unescape(&l)).as_deref(),
        Some("Malcolm X College, 1900 W Jackson Blvd, Chicago, IL")
    );
    assert_eq!(feed.property(i, "URL").as_deref(), Some("https://example.org/register?a=1,2"));
    assert_eq!(feed.property(i, "CATEGORIES").as_deref(), Some("HEALTH_FAIR"));
    assert_eq!(feed.property(i, "STATUS").as_deref(), Some("CONFIRMED"));
    assert_eq!(feed.property(i, "SEQUENCE").as_deref(), Some("0"));
    let start = event["starts_at"].as_str().unwrap_or_default().replace(['-', ':'], "");
    assert_eq!(feed.property(i, "DTSTART"), Some(start));
    for name in ["DTSTAMP", "DTEND", "LAST-MODIFIED"] {
        let value = feed.property(i, name).unwrap_or_default();
        assert!(value.len() == 16 && value.ends_with('Z'), "{name}: {value}");
    }
    assert!(
        feed.raw.contains("\\;") && feed.raw.contains("\\,") && feed.raw.contains("\\n") && feed.raw.contains("\\\\")
    );
    let j = feed.event_with_summary("Virtual Open House").expect("the open house");
    assert_eq!(feed.property(j, "UID"), Some(format!("event-{}@rush-api", online["id"])));
    let conference = feed.calendar.events[j].properties.iter().find(|p| p.name == "CONFERENCE").expect("CONFERENCE");
    assert_eq!(conference.value.as_deref(), Some("https://example.org/join"));
    assert_eq!(feed.property(j, "DTEND"), None);
}

#[actix_web::test]
async fn sequence_rises_exactly_when_the_event_changes_and_cancellations_stay() {
    let app = TestApp::new().await;
    let event = app.create_event(json!({"starts_at": days_from_now(5)})).await;
    let path = format!("/api/v1/events/{}", event["id"]);
    let ics = format!("{path}.ics");
    assert_eq!(parse(&app.get(&ics).await).property(0, "SEQUENCE").as_deref(), Some("0"));
    app.patch(&path, &json!({"title": "Community Health Fair"})).await.assert_status(200);
    assert_eq!(parse(&app.get(&ics).await).property(0, "SEQUENCE").as_deref(), Some("0"), "a no-op patch");
    app.patch(&path, &json!({"status": "cancelled"})).await.assert_status(200);
    let single = parse(&app.get(&ics).await);
    assert_eq!(single.property(0, "SEQUENCE").as_deref(), Some("1"));
    assert_eq!(single.property(0, "STATUS").as_deref(), Some("CANCELLED"));
    assert_eq!(single.calendar_property("X-WR-CALNAME").as_deref(), Some("Community Health Fair"));
    let feed = parse(&app.get("/api/v1/events.ics").await);
    assert_eq!(feed.property(0, "STATUS").as_deref(), Some("CANCELLED"), "cancelled events stay in the feed");
    app.get("/api/v1/events/999.ics").await.assert_problem(404, "not_found");
}

#[actix_web::test]
async fn the_feed_is_bounded_filtered_and_revalidated() {
    let app = TestApp::new().await;
    for (title, days) in [("Long ago", -60), ("Last week", -7), ("Next month", 30), ("In a year and more", 400)] {
        app.create_event(json!({"title": title, "starts_at": days_from_now(days), "event_type": if days < 0 { "wellness" } else { "networking" }})).await;
    }
    let summaries = |parsed: &Parsed| -> Vec<String> {
        (0..parsed.calendar.events.len()).filter_map(|i| parsed.property(i, "SUMMARY")).collect()
    };
    let feed = app.get("/api/v1/events.ics").await;
    assert_eq!(summaries(&parse(&feed)), ["Last week", "Next month"], "30 days back to 365 ahead, earliest first");
    let etag = feed.header("etag").expect("an ETag");
    let again = app.send(TestRequest::get().uri("/api/v1/events.ics").insert_header(("If-None-Match", etag))).await;
    again.assert_status(304);
    let wider = format!("/api/v1/events.ics?starts_after={}&event_type=wellness", days_from_now(-90));
    assert_eq!(summaries(&parse(&app.get(&wider).await)), ["Long ago", "Last week"]);
    app.get("/api/v1/events.ics?limit=5&sort=title").await.assert_invalid(&["limit", "sort"]);
    // A write makes the next poll render afresh.
    app.create_event(json!({"title": "Tomorrow", "starts_at": days_from_now(1)})).await;
    assert_eq!(summaries(&parse(&app.get("/api/v1/events.ics").await)), ["Last week", "Tomorrow", "Next month"]);
}
