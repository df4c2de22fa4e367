//! `include`: related records embedded in one request, exactly as their own reads give them.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::support::{TestApp, spec};

/// `record` without the properties `include` adds.
fn without(record: &Value, relations: &[&str]) -> Value {
    let mut record = record.clone();
    if let Some(object) = record.as_object_mut() {
        for relation in relations {
            object.remove(*relation);
        }
    }
    record
}

/// An initiative, a program, and three events: one referencing both, one the initiative only,
/// one neither.
async fn events_with_references(app: &TestApp) -> (Value, Value, Vec<Value>) {
    let initiative = app.create_initiative(json!({"name": "Block by Block"})).await;
    let program = app.create_program(json!({"name": "Cardiology Fellowship"})).await;
    let events = vec![
        app.create_event(json!({"title": "Both", "initiative_id": initiative["id"], "program_id": program["id"]}))
            .await,
        app.create_event(json!({"title": "Initiative only", "initiative_id": initiative["id"]})).await,
        app.create_event(json!({"title": "Neither"})).await,
    ];
    (initiative, program, events)
}

#[actix_web::test]
async fn events_embed_their_initiative_and_program_exactly_as_their_own_reads_give_them() {
    let app = TestApp::new().await;
    let (initiative, program, events) = events_with_references(&app).await;
    let initiative_read = app.get(&format!("/api/v1/initiatives/{}", initiative["id"])).await.json();
    let program_read = app.get(&format!("/api/v1/programs/{}", program["id"])).await.json();
    let plain = app.get("/api/v1/events").await.json();
    let page = app.get("/api/v1/events?include=initiative,program").await;
    page.assert_status(200);
    let page = page.json();
    assert_eq!(page["meta"], plain["meta"], "lists keep meta");
    let data = page["data"].as_array().expect("a page");
    assert_eq!(data.len(), 3);
    for (embedded, own) in data.iter().zip(plain["data"].as_array().expect("a page")) {
        assert_eq!(without(embedded, &["initiative", "program"]), *own, "the record's own fields never change");
        assert!(own.get("initiative").is_none() && own.get("program").is_none(), "no new property without include");
        let expected_initiative =
            if embedded["initiative_id"].is_null() { Value::Null } else { initiative_read.clone() };
        let expected_program = if embedded["program_id"].is_null() { Value::Null } else { program_read.clone() };
        assert_eq!(embedded["initiative"], expected_initiative, "{embedded}");
        assert_eq!(embedded["program"], expected_program, "{embedded}");
    }
    // One relation only: the other property is absent, not null.
    let one = app.get(&format!("/api/v1/events/{}?include=program", events[0]["id"])).await;
    one.assert_status(200);
    let one = one.json();
    assert_eq!(one["program"], program_read);
    assert!(one.get("initiative").is_none(), "{one}");
    assert_eq!(without(&one, &["program"]), app.get(&format!("/api/v1/events/{}", events[0]["id"])).await.json());
    let neither = app.get(&format!("/api/v1/events/{}?include=initiative,program", events[2]["id"])).await.json();
    assert_eq!((neither["initiative"].clone(), neither["program"].clone()), (Value::Null, Value::Null));
}

#[actix_web::test]
async fn metrics_embed_their_initiative() {
    let app = TestApp::new().await;
    let initiative = app.create_initiative(json!({"name": "Anchor Mission"})).await;
    let referencing = app.create_metric(json!({"label": "Hires", "initiative_id": initiative["id"]})).await;
    let alone = app.create_metric(json!({"label": "Alone"})).await;
    let initiative_read = app.get(&format!("/api/v1/initiatives/{}", initiative["id"])).await.json();
    let record = app.get(&format!("/api/v1/metrics/{}?include=initiative", referencing["id"])).await;
    record.assert_status(200);
    assert_eq!(record.json()["initiative"], initiative_read);
    let page = app.get("/api/v1/metrics?include=initiative").await.json();
    let by_id = |id: &Value| page["data"].as_array().into_iter().flatten().find(|m| m["id"] == *id).cloned();
    assert_eq!(by_id(&referencing["id"]).map(|m| m["initiative"].clone()), Some(initiative_read));
    assert_eq!(by_id(&alone["id"]).map(|m| m["initiative"].clone()), Some(Value::Null));
}

#[actix_web::test]
async fn initiatives_embed_the_first_hundred_of_their_events_and_metrics_in_list_order() {
    let app = TestApp::new().await;
    let busy = app.create_initiative(json!({"name": "Busy"})).await;
    let quiet = app.create_initiative(json!({"name": "Quiet"})).await;
    // More events than one page of 100, created out of date order, two at the same time (the
    // list breaks ties by id).
    for n in 0..103 {
        let day = 1 + (n * 37) % 28;
        let month = 1 + (n % 12);
        let starts_at = format!("2027-{month:02}-{day:02}T09:00:00-05:00");
        let body = json!({"title": format!("Event {n}"), "initiative_id": busy["id"], "starts_at": starts_at});
        app.create_event(body).await;
    }
    app.create_event(json!({"title": "Elsewhere"})).await;
    for order in [30, 10, 20] {
        let body = json!({"label": format!("Figure {order}"), "display_order": order, "initiative_id": busy["id"]});
        app.create_metric(body).await;
    }
    let record = app.get(&format!("/api/v1/initiatives/{}?include=events,metrics", busy["id"])).await;
    record.assert_status(200);
    let record = record.json();
    let events = app.get(&format!("/api/v1/events?initiative_id={}&limit=100", busy["id"])).await.json();
    let metrics = app.get(&format!("/api/v1/metrics?initiative_id={}&limit=100", busy["id"])).await.json();
    assert_eq!(record["events"], json!({"data": events["data"], "total": 103}));
    assert_eq!(record["events"]["data"].as_array().map(Vec::len), Some(100));
    assert_eq!(record["metrics"], json!({"data": metrics["data"], "total": 3}));
    let orders: Vec<Value> =
        record["metrics"]["data"].as_array().into_iter().flatten().map(|m| m["display_order"].clone()).collect();
    assert_eq!(orders, [json!(10), json!(20), json!(30)]);
    // In a list, each initiative gets its own; one without any gets an empty page.
    let page = app.get("/api/v1/initiatives?include=metrics,events&sort=name").await;
    page.assert_status(200);
    let page = page.json();
    assert_eq!(page["data"][0]["id"], busy["id"]);
    assert_eq!(page["data"][0]["events"], record["events"]);
    assert_eq!(page["data"][1]["id"], quiet["id"]);
    assert_eq!(page["data"][1]["events"], json!({"data": [], "total": 0}));
    assert_eq!(page["data"][1]["metrics"], json!({"data": [], "total": 0}));
}

#[actix_web::test]
async fn programs_embed_their_events() {
    let app = TestApp::new().await;
    let (_, program, events) = events_with_references(&app).await;
    let other = app.create_program(json!({"name": "Neurology Residency"})).await;
    let record = app.get(&format!("/api/v1/programs/{}?include=events", program["id"])).await;
    record.assert_status(200);
    let listed = app.get(&format!("/api/v1/events?program_id={}&limit=100", program["id"])).await.json();
    assert_eq!(record.json()["events"], json!({"data": listed["data"], "total": 1}));
    assert_eq!(record.json()["events"]["data"][0]["id"], events[0]["id"]);
    let other = app.get(&format!("/api/v1/programs/{}?include=events", other["id"])).await.json();
    assert_eq!(other["events"], json!({"data": [], "total": 0}));
}

#[actix_web::test]
async fn an_include_that_names_no_relation_of_the_resource_once_is_a_422_naming_include() {
    let app = TestApp::new().await;
    let (initiative, _, events) = events_with_references(&app).await;
    let cases = [
        ("events", events[0]["id"].clone(), "include="),
        ("events", events[0]["id"].clone(), "include=venue"),
        ("events", events[0]["id"].clone(), "include=events"),
        ("events", events[0]["id"].clone(), "include=initiative,initiative"),
        ("events", events[0]["id"].clone(), "include=initiative,"),
        ("events", events[0]["id"].clone(), "include=initiative.events"),
        ("events", events[0]["id"].clone(), "include=initiative&include=program"),
        ("events", events[0]["id"].clone(), "include=Initiative"),
        ("initiatives", initiative["id"].clone(), "include=initiative"),
        ("initiatives", initiative["id"].clone(), "include=events.initiative"),
        ("metrics", json!(1), "include=events"),
        ("programs", json!(1), "include=metrics"),
    ];
    for (collection, id, query) in cases {
        for path in [format!("/api/v1/{collection}?{query}"), format!("/api/v1/{collection}/{id}?{query}")] {
            app.get(&path).await.assert_invalid(&["include"]);
        }
    }
    // The other parameters' errors are reported with it.
    app.get("/api/v1/events?include=venue&limit=0").await.assert_invalid(&["include", "limit"]);
}

#[actix_web::test]
async fn the_relations_named_come_in_one_order_whatever_order_include_gives() {
    let app = TestApp::new().await;
    let (_, _, events) = events_with_references(&app).await;
    let path = format!("/api/v1/events/{}", events[0]["id"]);
    let forward = app.get(&format!("{path}?include=initiative,program")).await;
    let backward = app.get(&format!("{path}?include=program,initiative")).await;
    assert_eq!(forward.body, backward.body);
    assert_eq!(forward.header("etag"), backward.header("etag"));
    let keys: Vec<String> = forward.json().as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(keys[keys.len() - 2..], ["initiative".to_owned(), "program".to_owned()]);
}

#[actix_web::test]
async fn an_old_etag_never_revalidates_stale_embedded_records() {
    let app = TestApp::new().await;
    let (initiative, _, events) = events_with_references(&app).await;
    let record = format!("/api/v1/events/{}?include=initiative", events[0]["id"]);
    let list = format!("/api/v1/events?initiative_id={}&include=initiative", initiative["id"]);
    let conditional = |path: &str, etag: &str| TestRequest::get().uri(path).insert_header(("If-None-Match", etag));
    let mut tags = Vec::new();
    for path in [&record, &list] {
        let first = app.get(path).await;
        first.assert_status(200);
        let etag = first.header("etag").expect("an ETag");
        app.send(conditional(path, &etag)).await.assert_status(304);
        tags.push(etag);
    }
    // The embedded record changes, not the event: the old tags are stale.
    let initiative_path = format!("/api/v1/initiatives/{}", initiative["id"]);
    app.patch(&initiative_path, &json!({"name": "Block by Block, renamed"})).await.assert_status(200);
    for (path, old) in [&record, &list].into_iter().zip(&tags) {
        let fresh = app.send(conditional(path, old)).await;
        fresh.assert_status(200);
        assert_ne!(fresh.header("etag").as_deref(), Some(old.as_str()));
        let body = fresh.json();
        let embedded =
            if body["data"].is_array() { body["data"][0]["initiative"].clone() } else { body["initiative"].clone() };
        assert_eq!(embedded["name"], "Block by Block, renamed", "{body}");
        let etag = fresh.header("etag").expect("an ETag");
        app.send(conditional(path, &etag)).await.assert_status(304);
    }
    // The reference itself changes: set to null, the embedded record is null and the tag moves.
    let before = app.get(&record).await.header("etag").expect("an ETag");
    app.patch(&format!("/api/v1/events/{}", events[0]["id"]), &json!({"initiative_id": null})).await.assert_status(200);
    let after = app.send(conditional(&record, &before)).await;
    after.assert_status(200);
    assert_eq!(after.json()["initiative"], Value::Null);
    assert_eq!(after.json()["initiative_id"], Value::Null);
    // A to-many page moves with its records too: a new event of the initiative.
    let page = format!("{initiative_path}?include=events");
    let before = app.get(&page).await;
    let tag = before.header("etag").expect("an ETag");
    app.create_event(json!({"title": "Later", "initiative_id": initiative["id"]})).await;
    let after = app.send(conditional(&page, &tag)).await;
    after.assert_status(200);
    let total = before.json()["events"]["total"].as_i64().expect("a total");
    assert_eq!(after.json()["events"]["total"], json!(total + 1));
}

#[actix_web::test]
async fn list_links_keep_include() {
    let app = TestApp::new().await;
    events_with_references(&app).await;
    let page = app.get("/api/v1/events?include=initiative&limit=1").await;
    page.assert_status(200);
    let link = page.header("link").expect("a Link header");
    assert!(link.contains("include=initiative") && link.contains("rel=\"next\""), "{link}");
    let head = app
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/v1/events?include=initiative&limit=1"),
        )
        .await;
    head.assert_status(200);
    assert_eq!(head.header("etag"), page.header("etag"));
}

#[actix_web::test]
async fn the_spec_declares_include_on_the_eight_reads_and_each_relation_as_an_optional_property() {
    let spec = spec();
    let relations = [
        ("programs", "Program", vec!["events"]),
        ("initiatives", "Initiative", vec!["events", "metrics"]),
        ("events", "Event", vec!["initiative", "program"]),
        ("metrics", "Metric", vec!["initiative"]),
    ];
    for (collection, schema, names) in relations {
        for path in [format!("/api/v1/{collection}"), format!("/api/v1/{collection}/{{id}}")] {
            let parameters = spec["paths"][&path]["get"]["parameters"].as_array().expect("parameters");
            let include = parameters.iter().find(|p| p["name"] == "include").unwrap_or_else(|| panic!("{path}"));
            assert_eq!(include["in"], "query");
            assert_eq!(include["style"], "form");
            assert_eq!(include["explode"], false);
            assert_eq!(include["required"], false);
            assert_eq!(include["schema"]["type"], "array");
            assert_eq!(include["schema"]["items"]["enum"], json!(names), "{path}");
        }
        let record = &spec["components"]["schemas"][schema];
        for name in &names {
            let property = &record["properties"][name];
            assert!(property.is_object(), "{schema}.{name}");
            let required = record["required"].as_array().expect("required");
            assert!(!required.contains(&json!(name)), "{schema}.{name} must be optional");
        }
    }
    let to_one = &spec["components"]["schemas"]["Event"]["properties"]["initiative"]["oneOf"];
    assert_eq!(to_one, &json!([{"$ref": "#/components/schemas/Initiative"}, {"type": "null"}]));
    let to_many = &spec["components"]["schemas"]["Initiative"]["properties"]["events"]["$ref"];
    assert_eq!(to_many, "#/components/schemas/IncludedEvents");
    let page = &spec["components"]["schemas"]["IncludedEvents"];
    assert_eq!(page["required"], json!(["data", "total"]));
    assert_eq!(page["properties"]["data"]["items"]["$ref"], "#/components/schemas/Event");
}

/// No N+1: embedding a page's relations costs one query per relation, on a page of one record as
/// on a page of many, counted by Diesel's instrumentation on a connection to the test database.
#[actix_web::test]
async fn a_page_costs_one_query_per_relation_whatever_its_size() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::connection::{Connection, InstrumentationEvent};
    use rush_api::domain::collection::Collection;
    use rush_api::domain::events::store::Events;
    use rush_api::domain::initiatives::store::Initiatives;
    use rush_api::domain::record_store::RecordStore;
    use rush_api::domain::relations::{Relation, embed};

    let app = TestApp::new().await;
    let mut initiatives = Vec::new();
    for n in 0..6 {
        let initiative = app.create_initiative(json!({"name": format!("Initiative {n}")})).await;
        let program = app.create_program(json!({"name": format!("Program {n}")})).await;
        for m in 0..5 {
            let title = format!("Event {n}.{m}");
            let body = json!({"title": title, "initiative_id": initiative["id"], "program_id": program["id"]});
            app.create_event(body).await;
        }
        initiatives.push(initiative["id"].as_i64().expect("an id"));
    }
    let events: Vec<i64> = app.all("events").await.iter().filter_map(|e| e["id"].as_i64()).collect();
    let mut conn = crate::support::connect(&app.db_path);
    let queries = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&queries);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let relations = |collection: Collection| -> Vec<&'static Relation> {
        rush_api::domain::resources::of(collection).expect("a row").relations.iter().collect()
    };
    for size in [1, 3, events.len()] {
        let page = Events::get_many(&mut conn, &events[..size]).expect("events");
        assert_eq!(page.len(), size);
        queries.store(0, Ordering::SeqCst);
        let embedded = embed::<Events>(&mut conn, &relations(Collection::Events), page).expect("embed");
        assert_eq!(queries.load(Ordering::SeqCst), 2, "events: one query per relation for {size} records");
        let embedded = serde_json::to_value(&embedded).expect("JSON");
        assert!(
            embedded.as_array().into_iter().flatten().all(|e| e["initiative"].is_object() && e["program"].is_object())
        );
    }
    for size in [1, initiatives.len()] {
        let page = Initiatives::get_many(&mut conn, &initiatives[..size]).expect("initiatives");
        queries.store(0, Ordering::SeqCst);
        let embedded = embed::<Initiatives>(&mut conn, &relations(Collection::Initiatives), page).expect("embed");
        assert_eq!(queries.load(Ordering::SeqCst), 2, "initiatives: one query per relation for {size} records");
        let embedded = serde_json::to_value(&embedded).expect("JSON");
        assert!(
            embedded.as_array().into_iter().flatten().all(|i| i["events"]["total"] == 5 && i["metrics"]["total"] == 0)
        );
    }
}
