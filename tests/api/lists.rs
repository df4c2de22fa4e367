//! List behaviour, table-driven over all three resources: pagination, filters, sorting, `q`,
//! the envelope and the Link header.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_search_index_consistent, collections, valid};

/// A database with varied records of every resource.
async fn fixture() -> TestApp {
    let app = TestApp::new().await;
    let programs = [
        json!({"name": "Zeta Surgery Residency", "program_type": "residency", "specialty": "General Surgery", "campus": "rush_university_medical_center", "duration_years": 5}),
        json!({"name": "alpha Cardiology Fellowship", "program_type": "fellowship", "specialty": "Cardiology", "campus": "rush_oak_park_hospital", "duration_years": 3, "accepting_applications": false, "description": "Heart care 100% of the time"}),
        json!({"name": "Pharmacy Residency", "program_type": "allied_health", "specialty": "Pharmacy", "campus": "rush_copley_medical_center", "duration_years": 1}),
        json!({"name": "Médecine Interne", "program_type": "residency", "specialty": "Internal Medicine", "campus": "rush_copley_medical_center", "duration_years": 3, "description": "ÉQUITÉ en santé"}),
        json!({"name": "Internal Medicine Residency", "program_type": "residency", "specialty": "Internal Medicine", "campus": "rush_university_medical_center", "duration_years": 3}),
    ];
    let mut program_ids = Vec::new();
    for program in programs {
        program_ids.push(app.create("programs", &program).await["id"].clone());
    }
    let initiatives = [
        json!({"name": "REACH", "category": "education", "status": "active", "started_on": "2015-01-01", "summary": "Pipeline programs"}),
        json!({"name": "West Side United", "category": "partnership", "status": "active", "started_on": "2017-01-01"}),
        json!({"name": "Anchor Mission Strategy", "category": "economic_development", "status": "planned"}),
        json!({"name": "COVID-19 and Health Equity", "category": "health_equity", "status": "completed", "started_on": "2020-01-01", "description": "Vaccination_drive"}),
        json!({"name": "School-Based Health Centers", "category": "clinical_care", "status": "active", "started_on": "2005-01-01"}),
    ];
    let mut initiative_ids = Vec::new();
    for initiative in initiatives {
        initiative_ids.push(app.create("initiatives", &initiative).await["id"].clone());
    }
    let events = [
        json!({"title": "Spring Health Fair", "event_type": "health_fair", "starts_at": "2027-04-17T09:00:00-05:00", "initiative_id": initiative_ids[4]}),
        json!({"title": "Affinity Networking Night", "event_type": "networking", "starts_at": "2027-01-20T18:00:00-06:00", "status": "cancelled"}),
        json!({"title": "Virtual Open House", "event_type": "recruitment", "starts_at": "2026-10-01T17:00:00Z", "status": "completed", "is_virtual": true, "virtual_url": "https://example.org/open-house", "program_id": program_ids[4]}),
        json!({"title": "Wellness Walk", "event_type": "wellness", "starts_at": "2027-01-20T18:00:00-06:00", "description": "A 5k walk; bring water"}),
        json!({"title": "Volunteer Day", "event_type": "volunteer", "starts_at": "2027-02-01T00:00:00Z", "initiative_id": initiative_ids[1], "program_id": program_ids[0]}),
        json!({"title": "Health Equity Grand Rounds", "event_type": "education", "starts_at": "2027-05-05T12:00:00-05:00", "is_virtual": true, "virtual_url": "https://example.org/rounds", "initiative_id": initiative_ids[3]}),
    ];
    for event in events {
        app.create("events", &event).await;
    }
    let metrics = [
        json!({"label": "Life expectancy gap", "value": 16, "unit": "years", "target_value": 8, "target_date": "2030-12-31", "initiative_id": initiative_ids[1], "source_name": "Diversity, Equity & Inclusion", "source_quote": "a 16-year life expectancy gap", "display_order": 20, "as_of": "2024-01-01"}),
        json!({"label": "Residents and fellows", "value": 825, "unit": "people", "source_name": "Graduate Medical Education", "display_order": 10}),
        json!({"label": "Programs", "value": 90, "unit": "count", "source_name": "Graduate Medical Education", "display_order": 10, "as_of": "2023-07-01", "source_quote": "our 90 residency_and fellowship programs"}),
        json!({"label": "Gap reduction goal", "value": 50, "unit": "percent", "initiative_id": initiative_ids[1], "source_name": "Diversity, Equity & Inclusion", "display_order": 30}),
        json!({"label": "années de service", "value": 20.5, "unit": "years", "initiative_id": initiative_ids[4], "source_name": "RUSH community health", "display_order": 0, "source_quote": "For over 20 years, RUSH"}),
    ];
    for metric in metrics {
        app.create("metrics", &metric).await;
    }
    app
}

async fn page(app: &TestApp, collection: &str, query: &str) -> (Vec<Value>, Value, Option<String>) {
    let response = app.get(&format!("/api/v1/{collection}?{query}")).await;
    response.assert_status(200);
    let body = response.json();
    let data = body["data"].as_array().cloned().unwrap_or_default();
    (data, body["meta"].clone(), response.header("link"))
}

fn ids(records: &[Value]) -> Vec<i64> {
    records.iter().filter_map(|r| r["id"].as_i64()).collect()
}

#[actix_web::test]
async fn every_filter_returns_exactly_the_matching_records() {
    let app = fixture().await;
    type Predicate = fn(&Value) -> bool;
    let cases: Vec<(&str, &str, Predicate)> = vec![
        ("programs", "program_type=residency", |r| r["program_type"] == "residency"),
        ("programs", "campus=rush_copley_medical_center", |r| r["campus"] == "rush_copley_medical_center"),
        ("programs", "specialty=Internal%20Medicine", |r| r["specialty"] == "Internal Medicine"),
        ("programs", "accepting_applications=false", |r| r["accepting_applications"] == false),
        ("programs", "accepting_applications=true&program_type=residency", |r| {
            r["accepting_applications"] == true && r["program_type"] == "residency"
        }),
        ("initiatives", "category=education", |r| r["category"] == "education"),
        ("initiatives", "status=active", |r| r["status"] == "active"),
        ("initiatives", "status=planned&category=economic_development", |r| r["status"] == "planned"),
        ("events", "event_type=networking", |r| r["event_type"] == "networking"),
        ("events", "status=scheduled", |r| r["status"] == "scheduled"),
        ("events", "is_virtual=true", |r| r["is_virtual"] == true),
        ("events", "is_virtual=false", |r| r["is_virtual"] == false),
        ("events", "program_id=5", |r| r["program_id"] == 5),
        ("events", "initiative_id=2", |r| r["initiative_id"] == 2),
        ("events", "starts_after=2027-01-21T00:00:00Z", |r| r["starts_at"].as_str() >= Some("2027-01-21T00:00:00Z")),
        ("events", "starts_after=2027-01-21T00:00:00-00:00", |r| {
            r["starts_at"].as_str() >= Some("2027-01-21T00:00:00Z")
        }),
        // Inclusive lower bound, exclusive upper bound, in any offset.
        ("events", "starts_after=2027-01-20T18:00:00-06:00&starts_before=2027-02-01T00:00:00Z", |r| {
            r["starts_at"] == "2027-01-21T00:00:00Z"
        }),
        ("events", "starts_before=2027-02-01T01:00:00%2B01:00", |r| {
            r["starts_at"].as_str() < Some("2027-02-01T00:00:00Z")
        }),
        ("events", "event_type=wellness&starts_after=2027-01-01T00:00:00Z", |r| r["event_type"] == "wellness"),
        ("metrics", "unit=years", |r| r["unit"] == "years"),
        ("metrics", "initiative_id=2", |r| r["initiative_id"] == 2),
        ("metrics", "initiative_id=2&unit=percent", |r| r["initiative_id"] == 2 && r["unit"] == "percent"),
    ];
    for (collection, query, matches) in cases {
        let all = app.all(collection).await;
        let expected: Vec<i64> = ids(&all.iter().filter(|r| matches(r)).cloned().collect::<Vec<_>>());
        let (data, meta, _) = page(&app, collection, &format!("{query}&limit=100")).await;
        let mut got = ids(&data);
        got.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        assert_eq!(got, expected_sorted, "{collection}?{query}");
        assert_eq!(meta["total"], expected.len(), "{collection}?{query}");
        assert!(!expected.is_empty() || query.contains("planned"), "{collection}?{query} should match something");
    }
}

#[actix_web::test]
async fn every_sort_field_orders_both_ways_with_ties_by_id() {
    let app = fixture().await;
    let fields: [(&str, &[&str]); 4] = [
        ("programs", &["name", "specialty", "created_at", "updated_at"]),
        ("initiatives", &["name", "started_on", "created_at", "updated_at"]),
        ("events", &["starts_at", "title", "created_at", "updated_at"]),
        ("metrics", &["display_order", "label", "as_of", "created_at", "updated_at"]),
    ];
    for (collection, sort_fields) in fields {
        for field in sort_fields {
            for descending in [false, true] {
                let sort = if descending { format!("-{field}") } else { (*field).to_owned() };
                let (data, _, _) = page(&app, collection, &format!("sort={sort}&limit=100")).await;
                let mut expected = data.clone();
                expected.sort_by(|a, b| {
                    let key = |r: &Value| match &r[*field] {
                        Value::Null => None,
                        other => Some(other.as_str().map(str::to_owned).unwrap_or_else(|| other.to_string())),
                    };
                    let order = key(a).cmp(&key(b));
                    let order = if descending { order.reverse() } else { order };
                    order.then(a["id"].as_i64().cmp(&b["id"].as_i64()))
                });
                assert_eq!(ids(&data), ids(&expected), "{collection}?sort={sort}");
                assert_eq!(data.len(), app.all(collection).await.len());
            }
        }
    }
    // The default orders and a multi-field sort.
    let (programs, _, _) = page(&app, "programs", "").await;
    let names: Vec<&str> = programs.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "Internal Medicine Residency",
            "Médecine Interne",
            "Pharmacy Residency",
            "Zeta Surgery Residency",
            "alpha Cardiology Fellowship"
        ]
    );
    let (metrics, _, _) = page(&app, "metrics", "").await;
    let order: Vec<(i64, i64)> =
        metrics.iter().map(|m| (m["display_order"].as_i64().unwrap_or(-1), m["id"].as_i64().unwrap_or(-1))).collect();
    assert_eq!(order, [(0, 5), (10, 2), (10, 3), (20, 1), (30, 4)], "display_order, ties by id");
    let (events, _, _) = page(&app, "events", "").await;
    let starts: Vec<&str> = events.iter().filter_map(|e| e["starts_at"].as_str()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
    let (by_specialty, _, _) = page(&app, "programs", "sort=specialty,-name").await;
    let pairs: Vec<(&str, &str)> = by_specialty
        .iter()
        .map(|p| (p["specialty"].as_str().unwrap_or(""), p["name"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        &pairs[2..4],
        [("Internal Medicine", "Médecine Interne"), ("Internal Medicine", "Internal Medicine Residency")]
    );
}

#[actix_web::test]
async fn q_is_a_case_insensitive_search_over_names_and_descriptions() {
    let app = fixture().await;
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("programs", "q=MEDICINE", vec!["Internal Medicine Residency"]),
        ("programs", "q=%C3%A9quit%C3%A9", vec!["Médecine Interne"]),
        ("programs", "q=M%C3%89DECINE", vec!["Médecine Interne"]),
        ("programs", "q=100%25", vec!["alpha Cardiology Fellowship"]),
        ("programs", "q=%25", vec!["alpha Cardiology Fellowship"]),
        ("programs", "q=surgery&program_type=fellowship", vec![]),
        ("initiatives", "q=pipeline", vec!["REACH"]),
        ("initiatives", "q=vaccination_", vec!["COVID-19 and Health Equity"]),
        ("initiatives", "q=_", vec!["COVID-19 and Health Equity"]),
        ("events", "q=health", vec!["Spring Health Fair", "Health Equity Grand Rounds"]),
        ("events", "q=bring%20WATER", vec!["Wellness Walk"]),
        ("metrics", "q=GAP", vec!["Life expectancy gap", "Gap reduction goal"]),
        ("metrics", "q=16-year", vec!["Life expectancy gap"]),
        ("metrics", "q=ANN%C3%89ES", vec!["années de service"]),
        ("metrics", "q=residency_", vec!["Programs"]),
        ("metrics", "q=_", vec!["Programs"]),
    ];
    for (collection, query, expected) in cases {
        let (data, meta, _) = page(&app, collection, query).await;
        let key = match collection {
            "events" => "title",
            "metrics" => "label",
            _ => "name",
        };
        let mut got: Vec<&str> = data.iter().filter_map(|r| r[key].as_str()).collect();
        got.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(got, expected, "{collection}?{query}");
        assert_eq!(meta["total"], expected.len());
    }
}

#[actix_web::test]
async fn pages_walk_the_whole_list_through_link_headers_keeping_filters_and_sort() {
    let app = fixture().await;
    for collection in collections() {
        let everything = ids(&app.all(collection).await);
        let sort = if collection == "events" { "-starts_at" } else { "-created_at" };
        let (reference, _, _) = page(&app, collection, &format!("sort={sort}&limit=100")).await;
        let mut url = format!("/api/v1/{collection}?limit=2&sort={sort}");
        let mut walked = Vec::new();
        let mut previous_link: Option<String> = None;
        for _ in 0..10 {
            let response = app.get(&url).await;
            response.assert_status(200);
            let body = response.json();
            assert_eq!(body["meta"]["limit"], 2);
            assert_eq!(body["meta"]["total"], everything.len());
            walked.extend(ids(body["data"].as_array().map(Vec::as_slice).unwrap_or_default()));
            let link = response.header("link").unwrap_or_default();
            if body["meta"]["offset"] != 0 {
                assert!(link.contains("rel=\"prev\""), "{url}: {link}");
            }
            previous_link = Some(link.clone());
            let Some(next) = link_target(&link, "next") else { break };
            assert!(next.contains("sort=") && next.contains("limit=2"), "{next}");
            url = next;
        }
        assert_eq!(walked, ids(&reference), "{collection}: paging matches one big page");
        assert!(previous_link.is_some_and(|link| !link.contains("rel=\"next\"")));
    }
}

fn link_target(link: &str, relation: &str) -> Option<String> {
    link.split(',').find(|part| part.contains(&format!("rel=\"{relation}\""))).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part[start..end].to_owned())
    })
}

#[actix_web::test]
async fn pagination_edges() {
    let app = fixture().await;
    for collection in collections() {
        let total = app.all(collection).await.len();
        let (data, meta, link) = page(&app, collection, "").await;
        assert_eq!(data.len(), total);
        assert_eq!(meta, json!({"total": total, "limit": 20, "offset": 0}));
        assert_eq!(link, None, "one page: no links");

        let (data, meta, link) = page(&app, collection, "limit=1&offset=0").await;
        assert_eq!(data.len(), 1);
        assert_eq!(meta["limit"], 1);
        let link = link.unwrap_or_default();
        assert!(link.contains("offset=1>; rel=\"next\"") && !link.contains("prev"), "{link}");

        let (data, meta, link) = page(&app, collection, &format!("limit=2&offset={}", total - 1)).await;
        assert_eq!(data.len(), 1);
        assert_eq!(meta["offset"], total - 1);
        let link = link.unwrap_or_default();
        assert!(link.contains(&format!("offset={}>; rel=\"prev\"", total - 3)) && !link.contains("next"), "{link}");

        let (data, meta, link) = page(&app, collection, "offset=1000&q=a").await;
        assert!(data.is_empty());
        assert_eq!(meta["offset"], 1000);
        let last = (meta["total"].as_i64().unwrap_or(0) - 20).max(0);
        let link = link.unwrap_or_default();
        assert!(
            link.contains(&format!("q=a&offset={last}>; rel=\"prev\"")),
            "past the end, prev is the last page: {link}"
        );

        let (data, _, _) = page(&app, collection, "limit=100").await;
        assert_eq!(data.len(), total);
    }
}

#[actix_web::test]
async fn bad_query_parameters_are_422_naming_each_one() {
    let app = fixture().await;
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("programs", "limit=0", vec!["limit"]),
        ("programs", "limit=101", vec!["limit"]),
        ("programs", "limit=abc&offset=-1", vec!["limit", "offset"]),
        ("programs", "offset=1.5", vec!["offset"]),
        ("programs", "sort=starts_at", vec!["sort"]),
        ("programs", "sort=name,", vec!["sort"]),
        ("programs", "sort=-", vec!["sort"]),
        ("programs", "Limit=5", vec!["Limit"]),
        ("programs", "program_type=Residency&campus=main", vec!["program_type", "campus"]),
        ("programs", "accepting_applications=yes", vec!["accepting_applications"]),
        ("programs", "q=", vec!["q"]),
        ("programs", "limit=5&limit=6", vec!["limit"]),
        ("initiatives", "category=x&status=y&page=2", vec!["category", "status", "page"]),
        ("initiatives", "sort=-specialty", vec!["sort"]),
        ("events", "starts_after=2027-01-01&starts_before=tomorrow", vec!["starts_after", "starts_before"]),
        ("events", "starts_after=2027-01-01T00:00:00", vec!["starts_after"]),
        ("events", "initiative_id=0&program_id=x&is_virtual=1", vec!["initiative_id", "program_id", "is_virtual"]),
        ("events", "event_type=gala&status=done", vec!["event_type", "status"]),
    ];
    for (collection, query, fields) in cases {
        let response = app.get(&format!("/api/v1/{collection}?{query}")).await;
        assert_eq!(response.status, 422, "{collection}?{query}: {}", response.text());
        response.assert_invalid(&fields);
    }
}

#[actix_web::test]
async fn search_follows_updates_and_deletes() {
    let app = TestApp::new().await;
    let program = app.create_program(json!({"name": "Otolaryngology Residency"})).await;
    let event = app.create_event(json!({"title": "Otolaryngology Open House"})).await;
    let found = |path: &'static str| {
        let app = &app;
        async move { app.get(path).await.json()["meta"]["total"].clone() }
    };
    assert_eq!(found("/api/v1/programs?q=otolaryn").await, 1);
    app.patch(&format!("/api/v1/programs/{}", program["id"]), &json!({"name": "Head and Neck Surgery Residency"}))
        .await
        .assert_status(200);
    assert_eq!(found("/api/v1/programs?q=otolaryn").await, 0, "the old name is gone from the index");
    assert_eq!(found("/api/v1/programs?q=neck%20surgery").await, 1, "the new name is in it");
    assert_eq!(found("/api/v1/events?q=OTOLARYNGOLOGY").await, 1);
    app.delete(&format!("/api/v1/events/{}", event["id"])).await.assert_status(204);
    assert_eq!(found("/api/v1/events?q=otolaryngology").await, 0);
    assert_eq!(found("/api/v1/events?q=%22%20OR%20x").await, 0, "query syntax is taken literally");
    assert_search_index_consistent(&app.db_path);
}

#[actix_web::test]
async fn a_repeated_page_is_the_same_representation_until_a_write_changes_it() {
    let app = fixture().await;
    for collection in collections() {
        let path = format!("/api/v1/{collection}?limit=2&sort=-created_at");
        let first = app.get(&path).await;
        let again = app.get(&path).await;
        assert_eq!(again.body, first.body, "{collection}");
        let etag = first.header("etag").expect("ETag");
        assert_eq!(again.header("etag"), Some(etag.clone()));
        assert_eq!(again.header("link"), first.header("link"));

        let revalidated = app.send(TestRequest::get().uri(&path).insert_header(("If-None-Match", etag.clone()))).await;
        revalidated.assert_status(304);
        assert_eq!(revalidated.header("etag"), Some(etag.clone()));
        assert_eq!(revalidated.header("link"), first.header("link"), "a 304 keeps the page's links");

        let created = app.create(collection, &valid(collection)).await;
        let after = app.send(TestRequest::get().uri(&path).insert_header(("If-None-Match", etag.clone()))).await;
        after.assert_status(200);
        assert_ne!(after.header("etag"), Some(etag), "{collection}: the write changed the page");
        let body = after.json();
        assert_eq!(body["data"][0]["id"], created["id"], "{collection}: the new record leads the page");
        let total = |page: &Value| page["meta"]["total"].as_i64().expect("meta.total");
        assert_eq!(total(&body), total(&first.json()) + 1);

        let deletions = "/api/v1/deletions?resource=".to_owned() + collection;
        let before = total(&app.get(&deletions).await.json());
        app.delete(&format!("/api/v1/{collection}/{}", created["id"])).await.assert_status(204);
        let gone = app.get(&path).await.json();
        assert_ne!(gone["data"][0]["id"], created["id"], "{collection}: the deleted record left the page");
        assert_eq!(total(&app.get(&deletions).await.json()), before + 1);
    }
}
