//! The bundled dataset: it loads, obeys the API's own rules and reads back unchanged.

use serde_json::{Value, json};

use crate::support::TestApp;

fn dataset() -> Value {
    serde_json::from_str(rush_api::domain::dataset::DATASET).expect("the dataset is JSON")
}

#[actix_web::test]
async fn the_dataset_loads_and_reads_back_as_written() {
    let app = TestApp::seeded().await;
    let data = dataset();
    for (collection, key) in [("programs", "slug"), ("initiatives", "slug")] {
        let stored = app.all(collection).await;
        let sources = data[collection].as_array().cloned().unwrap_or_default();
        assert_eq!(stored.len(), sources.len(), "{collection}");
        for source in sources {
            let record =
                stored.iter().find(|r| r[key] == source[key]).unwrap_or_else(|| panic!("{} missing", source[key]));
            for (field, value) in source.as_object().into_iter().flatten() {
                assert_eq!(&record[field], value, "{collection} {} field {field}", source[key]);
            }
        }
    }
    let events = app.all("events").await;
    let sources = data["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), sources.len());
    for source in sources {
        let event = events
            .iter()
            .find(|e| e["title"] == source["title"])
            .unwrap_or_else(|| panic!("{} missing", source["title"]));
        for field in [
            "description",
            "event_type",
            "status",
            "location_name",
            "address",
            "is_virtual",
            "virtual_url",
            "registration_url",
            "capacity",
        ] {
            assert_eq!(event[field], source[field], "{} {field}", source["title"]);
        }
        for field in ["starts_at", "ends_at"] {
            let expected = source[field]
                .as_str()
                .map(|t| rush_api::base::clock::parse_instant(t).map(rush_api::base::clock::format_instant));
            assert_eq!(event[field].as_str().map(str::to_owned), expected.map(|r| r.unwrap_or_default()), "{field}");
        }
        for (reference, collection) in [("initiative", "initiatives"), ("program", "programs")] {
            match source[reference].as_str() {
                None => assert_eq!(event[format!("{reference}_id")], Value::Null),
                Some(slug) => {
                    let id = &event[format!("{reference}_id")];
                    let linked = app.get(&format!("/api/v1/{collection}/{id}")).await.json();
                    assert_eq!(linked["slug"], slug);
                }
            }
        }
    }
}

#[actix_web::test]
async fn the_dataset_is_broad_enough_for_the_three_pages() {
    let data = dataset();
    let count = |collection: &str| data[collection].as_array().map_or(0, Vec::len);
    assert!(count("programs") >= 25 && count("initiatives") >= 12 && count("events") >= 15);
    let values = |collection: &str, field: &str| {
        let mut values: Vec<String> = data[collection]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r[field].as_str().map(str::to_owned))
            .collect();
        values.sort();
        values.dedup();
        values
    };
    assert_eq!(values("programs", "program_type").len(), 3);
    assert_eq!(values("programs", "campus").len(), 3);
    assert_eq!(values("events", "event_type").len(), 7);
    assert_eq!(values("events", "status").len(), 3);
    let names = values("initiatives", "name").join("\n");
    for named in [
        "REACH",
        "West Side United",
        "Anchor Mission",
        "BMO Institute for Health Equity",
        "Diversity Leadership Council",
        "School-Based Health Centers",
        "RCSIP",
    ] {
        assert!(names.contains(named), "{named} missing from the initiatives");
    }
}

#[actix_web::test]
async fn a_second_load_adds_nothing_and_an_emptied_database_is_not_refilled() {
    let app = TestApp::seeded().await;
    let programs = app.all("programs").await.len();
    assert_eq!(rush_api::domain::dataset::load_if_empty(&app.state.db).await.expect("second load"), None);
    assert_eq!(app.all("programs").await.len(), programs);

    let empty = TestApp::new().await;
    let program = empty.create_program(json!({})).await;
    empty.delete(&format!("/api/v1/programs/{}", program["id"])).await.assert_status(204);
    assert_eq!(
        rush_api::domain::dataset::load_if_empty(&empty.state.db).await.expect("load"),
        None,
        "the database held data before"
    );
}
